"""The compiled span mapper (`ingest/span_rows.pyx`) gives exactly the reference mapper's rows,
tool spans and warnings (`ingest.spans.map_spans`): on generated spans that mix every key the
GenAI reading takes with the keys, names and resources other conventions claim, values of every
type, exception events and tool executions; on every span wire of the sample; and on SDK-encoded
batches, which it reads without the reference."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.genai_batches import genai_batch
from ingest import spans as span_mapping
from ingest.conventions import genai
from ingest.otlp import DecodedSpans, SpanView, decode_traces_protobuf
from ingest.payloads import now_us
from ingest.record import REQUEST_SCHEMA, records_to_table, rows_to_table
from ingest.spans import map_spans
from sample_data.otlp_encoding import otlp_proto
from sample_data.wires import WIRES
from tests.unit.test_wire_equivalence import GROUPS

compiled = span_mapping.span_rows
NOW_US = 1_790_000_000_000_000
START_NS = NOW_US * 1000 - 3_600 * 10**9

SLOT_KEYS = sorted(
    {
        "gen_ai.operation.name",
        *genai.PROVIDER_KEYS,
        *genai.MODEL_KEYS,
        *genai.INPUT_TOKEN_KEYS,
        *genai.OUTPUT_TOKEN_KEYS,
        *genai.REASONING_KEYS,
        *genai.CACHE_READ_KEYS,
        *genai.CACHE_WRITE_KEYS,
        *genai.TTFT_SECONDS_KEYS,
        genai.DURATION_SECONDS_KEY,
        "gen_ai.response.id",
        "error.type",
        *genai.HTTP_STATUS_KEYS,
        *genai.USER_KEYS,
        *genai.SESSION_KEYS,
        genai.REASONING_LEVEL_KEY,
        genai.STREAM_KEY,
        genai.SERVER_ADDRESS_KEY,
        "gen_ai.response.finish_reasons",
    }
)
# Keys another convention claims a span by, keys only the reference reads, and others.
OTHER_KEYS = [
    "openinference.span.kind",
    "ai.operationId",
    "ai.usage.outputTokenDetails.reasoningTokens",
    "llm.is_streaming",
    "metadata.user_api_key_alias",
    "llm.request.type",
    "gen_ai.completion.0.content",
    "gen_ai.prompt.0.role",
    "llm.usage.total_tokens",
    "traceloop.span.kind",
    "gen_ai.output.messages",
    "gen_ai.tool.definitions",
    "gen_ai.response.finish_reason",
    "gen_ai.request.max_tokens",
    "x\0ai.y",
    "deployment",
]
TEXTS = [
    "chat",
    "execute_tool",
    "generate_content",
    "embeddings",
    "openai",
    "anthropic",
    "aws.bedrock",
    "gpt-4o",
    "claude-sonnet-4-5-20250929",
    "",
    "12",
    " 7 ",
    "1e3",
    "true",
    "False",
    '["stop"]',
    "[broken",
    "stop",
    "tool_calls",
    "tool-calls",
    "end_turn",
    "LLM",
    "TOOL",
    "RateLimitError",
]
SCALAR = (
    st.sampled_from(TEXTS)
    | st.text(max_size=6)
    | st.sampled_from([0, 1, 7, 429, 500, -3, 2**31, 2**53, 2**53 + 1, 2**63 - 1])
    | st.integers()
    | st.sampled_from([0.0, 1.5, 3.0, -1.0, float("nan"), float("inf"), 2.5e9])
    | st.booleans()
)
VALUE = (
    st.none()
    | SCALAR
    | st.lists(st.none() | SCALAR, max_size=3)
    | st.dictionaries(st.sampled_from(["name", "type", "finish_reason"]), SCALAR, max_size=2)
)
NAMES = [
    "chat gpt-4o",
    "ai.generateText.doGenerate",
    "litellm_request",
    "openai.chat",
    "anthropic.completion",
    "execute_tool web_search",
    "invoke_agent",
    "",
]
TIMES = st.sampled_from([0, START_NS, START_NS + 1_250_000_000, 10**15, 2**64 - 1, NOW_US * 2000])
EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["exception", "gen_ai.client.operation.exception", "log"]),
        st.dictionaries(st.sampled_from(["exception.type", "error.type"]), SCALAR, max_size=2),
    ),
    max_size=2,
)


@st.composite
def span_views(draw: st.DrawFn) -> list[SpanView]:
    count = draw(st.integers(1, 6))
    ids = [f"{n:016x}" for n in range(1, count + 1)]
    resources = [
        {"service.name": "agent"},
        {"service.name": "openrouter"},
        {"service.name": 5},
        {},
    ]
    views = []
    for span_id in ids:
        if draw(st.booleans()):  # any mix of keys and values
            keys = draw(st.lists(st.sampled_from(SLOT_KEYS + OTHER_KEYS), max_size=10))
            attributes = {key: draw(VALUE) for key in keys}
            name = draw(st.sampled_from(NAMES))
        else:  # a plain GenAI span: the keys the generic reading takes, values of any type
            keys = draw(st.lists(st.sampled_from([*SLOT_KEYS, "deployment"]), max_size=12))
            attributes = {"gen_ai.operation.name": draw(st.sampled_from(["chat", "execute_tool"]))}
            attributes |= {key: draw(SCALAR | st.lists(SCALAR, max_size=2)) for key in keys}
            name = draw(st.sampled_from(["chat gpt-4o", "execute_tool web_search", ""]))
        views.append(
            SpanView(
                trace_id=draw(st.sampled_from(["a" * 32, "b" * 32])),
                span_id=span_id,
                parent_span_id=draw(st.sampled_from(["", *ids])),
                name=name,
                kind=3,
                start_ns=draw(TIMES),
                end_ns=draw(TIMES),
                status_code=draw(st.sampled_from([0, 1, 2])),
                status_message="",
                attributes=attributes,
                resource=draw(st.sampled_from(resources)),
                events=draw(EVENTS),
            )
        )
    return views


def reference(views: list[SpanView], tenant: str | None, now: int = NOW_US) -> tuple[Any, ...]:
    try:
        mapped = map_spans(DecodedSpans(spans=views), ingested_at_us=now, tenant=tenant)
    except Exception as e:  # the compiled mapper must fail the same way
        return ("raised", type(e))
    rows = [tuple(map(record.get, REQUEST_SCHEMA.names)) for record in mapped.records]
    return rows, mapped.tool_spans, dict(mapped.warnings)


def fast(views: list[SpanView], tenant: str | None, now: int = NOW_US) -> tuple[Any, ...]:
    warnings: Counter[str] = Counter()
    try:
        rows, tool_spans, _ = compiled.request_rows(views, now, tenant, warnings)
    except Exception as e:
        return ("raised", type(e))
    return rows, tool_spans, dict(warnings)


def test_the_fast_mapper_is_built_here() -> None:
    assert compiled is not None, "ingest/span_rows.pyx was not compiled at install"


@settings(max_examples=600, deadline=None)
@given(views=span_views(), tenant=st.sampled_from([None, "team-a"]))
def test_generated_spans_map_to_the_reference_rows(views: list[SpanView], tenant: Any) -> None:
    # repr: a NaN equals itself in it, as it does in a row's meaning
    assert repr(fast(views, tenant)) == repr(reference(views, tenant))


def sample_body(wire: Any) -> bytes:
    rows = [group[0] for group in GROUPS.values() if wire.applies(group[0])]
    merged: dict[str, list[Any]] = {}
    for export in (wire.emit(row) for row in rows):
        for app, spans in export.items():
            merged.setdefault(app, []).extend(spans)
    return otlp_proto(merged).SerializeToString()


@pytest.mark.parametrize("wire", [w for w in WIRES if w.path == "traces"], ids=lambda w: w.name)
def test_every_span_wire_of_the_sample_maps_to_the_reference_table(wire: Any) -> None:
    decoded = decode_traces_protobuf(sample_body(wire))
    now = now_us()
    assert fast(decoded.spans, None, now) == reference(decoded.spans, None, now)
    rows, _, _ = compiled.request_rows(decoded.spans, now, None, Counter())
    mapped = map_spans(decoded, ingested_at_us=now)
    assert rows_to_table(rows).equals(records_to_table(mapped.records))


def test_generic_genai_spans_need_no_reference_reading() -> None:
    """The SDK's GenAI batches (the bench's traffic) and the GenAI wires of the sample are read
    without the reference; another convention's spans are read by it."""
    bodies = {
        "sdk": genai_batch(64, batch_number=1)[0],
        **{
            w.name: sample_body(w)
            for w in WIRES
            if w.name.startswith("otel-genai") and w.path == "traces"
        },
    }
    for name, body in bodies.items():
        views = decode_traces_protobuf(body).spans
        rows, _, by_reference = compiled.request_rows(views, NOW_US, None, Counter())
        assert rows and by_reference == 0, name
    openinference = next(w for w in WIRES if w.name == "openinference")
    views = decode_traces_protobuf(sample_body(openinference)).spans
    rows, _, by_reference = compiled.request_rows(views, NOW_US, None, Counter())
    assert by_reference == len(rows) > 0


def test_rows_too_large_for_a_column_lose_that_field_only() -> None:
    """A count beyond a 32-bit column (HTTP status) is NULL and counted; the row is kept."""
    view = SpanView(
        trace_id="a" * 32,
        span_id="1" * 16,
        parent_span_id="",
        name="chat gpt-4o",
        kind=3,
        start_ns=START_NS,
        end_ns=START_NS + 10**9,
        status_code=0,
        status_message="",
        attributes={"gen_ai.operation.name": "chat", "http.response.status_code": 2**40},
        resource={"service.name": "agent"},
    )
    rows, _, _ = compiled.request_rows([view], NOW_US, None, Counter())
    table = rows_to_table(rows)
    assert table.num_rows == 1 and table["http_status"].to_pylist() == [None]
    assert table.equals(
        records_to_table(map_spans(DecodedSpans([view]), ingested_at_us=NOW_US).records)
    )


def test_without_the_compiled_mapper_the_reference_gives_the_same_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where no C compiler built it, ingest maps through the reference: same rows, warnings."""
    body = genai_batch(64, batch_number=2)[0] + sample_body(WIRES[0])
    decoded = decode_traces_protobuf(body)
    fast_rows = span_mapping.map_span_rows(decoded, ingested_at_us=NOW_US)
    monkeypatch.setattr(span_mapping, "span_rows", None)
    reference_rows = span_mapping.map_span_rows(decoded, ingested_at_us=NOW_US)
    assert reference_rows.records and not fast_rows.records
    for name in ("rows", "tool_spans", "spans", "rejected", "errors", "warnings"):
        assert getattr(reference_rows, name) == getattr(fast_rows, name), name
    assert rows_to_table(reference_rows.rows).equals(rows_to_table(fast_rows.rows))
