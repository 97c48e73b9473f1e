"""Properties of the ingest path over generated input: the two OTLP encodings give the same rows,
re-sending changes nothing, and no body on any route earns a 5xx."""

from __future__ import annotations

import gzip
import uuid
from typing import Any

import orjson
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.app import create_app
from ingest.payloads import JSON, PROTOBUF, prepare_traces
from ingest.writer import BatchWriter
from tests.unit.test_otlp_decode import (
    KIND_INTERNAL,
    START_NS,
    TRACE,
    SpanSpec,
    json_body,
    protobuf_body,
)
from warehouse.db import Warehouse

UINT64_MAX = 2**64 - 1
INT64 = st.integers(-(2**63), 2**63 - 1)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)  # no lone surrogates

SCALARS = st.one_of(
    st.booleans(),
    INT64,
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.binary(max_size=8),
)
# Nested deeper than the decoders' limit now and then, so the cut is exercised too.
ANY_VALUE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=12,
)
TOKEN = st.one_of(
    st.integers(0, 2**53 + 10),
    st.integers(-10, -1),
    st.floats(),
    TEXT,
    st.just("1200"),
    st.booleans(),
)
PROVIDERS = ["openai", "anthropic", "aws.bedrock", "gcp.vertex_ai", "Groq", "x_ai", "mistral_ai"]
MODELS = ["gpt-4o", "claude-sonnet-4-5-20250929", "us.anthropic.claude-3-haiku-v1:0", "gemini-2.5"]
FINISH = ["stop", "length", "tool_calls", "end_turn", "max_tokens", "content_filter", "odd"]


@st.composite
def genai_attributes(draw: st.DrawFn) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": draw(
            st.sampled_from(["chat", "text_completion", "generate_content"])
        ),
        "gen_ai.request.model": draw(st.sampled_from(MODELS) | TEXT),
    }
    optional = {
        "gen_ai.provider.name": st.sampled_from(PROVIDERS) | TEXT,
        "gen_ai.system": st.sampled_from(PROVIDERS),
        "gen_ai.response.model": st.sampled_from(MODELS),
        "gen_ai.response.id": st.from_regex(r"chatcmpl-[a-z0-9]{1,6}", fullmatch=True),
        "gen_ai.response.finish_reasons": st.lists(st.sampled_from(FINISH), max_size=2)
        | st.sampled_from(FINISH),
        "gen_ai.usage.input_tokens": TOKEN,
        "gen_ai.usage.output_tokens": TOKEN,
        "gen_ai.usage.reasoning.output_tokens": TOKEN,
        "gen_ai.usage.cache_read.input_tokens": TOKEN,
        "gen_ai.response.time_to_first_chunk": st.floats() | TEXT,
        "http.response.status_code": st.sampled_from([200, 400, 429, 500, 529]) | TOKEN,
        "error.type": st.sampled_from(["RateLimitError", "timeout", "_OTHER"]),
        "user.id": TEXT,
        "extra": ANY_VALUE,
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), unique=True)):
        attributes[key] = draw(optional[key])
    return attributes


@st.composite
def genai_spans(draw: st.DrawFn, max_spans: int = 4) -> list[SpanSpec]:
    ids = draw(st.lists(st.integers(1, 2**32), min_size=1, max_size=max_spans, unique=True))
    spans = []
    for number in ids:
        start = draw(st.integers(0, UINT64_MAX))
        end = draw(st.integers(0, UINT64_MAX) | st.just(min(start + 1_250_000_000, UINT64_MAX)))
        spans.append(
            SpanSpec(
                span_id=f"{number:016x}",
                attributes=draw(genai_attributes()),
                start_ns=start,
                end_ns=end,
                status_code=draw(st.sampled_from([0, 1, 2])),
                status_message=draw(TEXT),
            )
        )
    return spans


RESOURCE = st.fixed_dictionaries({"service.name": TEXT}, optional={"deployment": ANY_VALUE})


def comparable(body: bytes, encoding: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    prepared = prepare_traces(body, encoding)
    return prepared.table.drop_columns(["ingested_at"]).to_pylist(), dict(prepared.warnings)


@settings(max_examples=120, deadline=None)
@given(resource=RESOURCE, spans=genai_spans())
def test_json_and_protobuf_give_the_same_rows(
    resource: dict[str, Any], spans: list[SpanSpec]
) -> None:
    from_json = comparable(json_body((resource, spans)), JSON)
    from_protobuf = comparable(protobuf_body((resource, spans)), PROTOBUF)
    assert from_json == from_protobuf
    assert len(from_json[0]) == len(spans)


# --- idempotence -------------------------------------------------------------------------------


@st.composite
def traces_with_tool_calls(draw: st.DrawFn) -> list[SpanSpec]:
    """LLM spans (realistic times) and execute_tool children of some of them, shuffled."""
    spans = draw(genai_spans(max_spans=3))
    for span in spans:
        span.start_ns = START_NS + draw(st.integers(0, 10**12))
        span.end_ns = span.start_ns + draw(st.integers(0, 10**10))
    children = []
    for i in range(draw(st.integers(0, 4))):
        parent = draw(st.sampled_from(spans))
        children.append(
            SpanSpec(
                span_id=f"c{i:015x}",
                parent_span_id=parent.span_id,
                kind=KIND_INTERNAL,
                name="execute_tool lookup",
                start_ns=parent.start_ns + 1000,
                end_ns=parent.start_ns + 2000,
                attributes={"gen_ai.operation.name": "execute_tool"},
            )
        )
    return draw(st.permutations(spans + children))


def snapshot(warehouse: Warehouse, trace: str) -> tuple[list[Any], list[Any]]:
    cursor = warehouse.cursor()
    requests = cursor.execute(
        "SELECT * FROM requests WHERE trace_id = ? ORDER BY request_id", [trace]
    ).fetchall()
    tool_spans = cursor.execute(
        "SELECT * FROM tool_spans WHERE trace_id = ? ORDER BY span_id", [trace]
    ).fetchall()
    return requests, tool_spans


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spans=traces_with_tool_calls(), split=st.booleans(), protobuf=st.booleans())
def test_sending_a_body_twice_equals_sending_it_once(
    writer: BatchWriter, warehouse: Warehouse, spans: list[SpanSpec], split: bool, protobuf: bool
) -> None:
    # Examples share one warehouse: each gets its own trace and response ids.
    trace = uuid.uuid4().hex
    for span in spans:
        span.trace_id = trace
        if "gen_ai.response.id" in span.attributes:
            span.attributes["gen_ai.response.id"] += f"-{trace}"
    encode, content_type = (
        (protobuf_body, "application/x-protobuf") if protobuf else (json_body, "application/json")
    )
    # Sent as one export or as two (tool spans may arrive before or after their parent).
    half = len(spans) // 2 if split else len(spans)
    bodies = [encode(({"service.name": "app"}, part)) for part in (spans[:half], spans[half:])]
    client = TestClient(create_app(writer))

    def send_all() -> None:
        for body in bodies:
            response = client.post(
                "/v1/traces", content=body, headers={"Content-Type": content_type}
            )
            assert response.status_code == 200

    send_all()
    once = snapshot(warehouse, trace)
    send_all()
    assert snapshot(warehouse, trace) == once
    requests = {
        s.attributes.get("gen_ai.response.id", s.span_id) for s in spans if not s.parent_span_id
    }
    assert len(once[0]) == len(requests)
    assert len(once[1]) == sum(bool(s.parent_span_id) for s in spans)


# --- no 5xx ------------------------------------------------------------------------------------

OTLP_KEYS = [
    "resourceSpans", "resource", "attributes", "scopeSpans", "scope", "spans", "traceId",
    "spanId", "parentSpanId", "name", "kind", "startTimeUnixNano", "endTimeUnixNano", "status",
    "code", "message", "events", "key", "value", "stringValue", "intValue", "doubleValue",
    "boolValue", "bytesValue", "arrayValue", "kvlistValue", "values", "resourceLogs",
    "scopeLogs", "logRecords", "body", "timeUnixNano", "request_id", "started_at", "provider",
    "model", "input_tokens", "output_tokens", "finish_reason", "status_code", "id",
    "provider_name", "tokens_prompt", "tokens_completion", "created_at", "latency",
]  # fmt: skip
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    INT64,
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
    st.sampled_from([TRACE, "a000000000000001", "1762160400000000000", "chat", "execute_tool"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(OTLP_KEYS) | TEXT, inner, max_size=5)
    ),
    max_leaves=30,
)
CONTENT_TYPES = [
    "application/json", "application/x-protobuf", "text/plain", "", "application/json; charset=x",
]  # fmt: skip


def mutate(body: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    data = bytearray(body[: max(cut, 0)] if cut < len(body) else body)
    for position, byte in edits:
        if data:
            data[position % len(data)] = byte
    return bytes(data)


VALID_PROTOBUF = protobuf_body(
    (
        {"service.name": "a"},
        [SpanSpec("a000000000000001", {"gen_ai.operation.name": "chat", "x": [1, {"y": "z"}]})],
    )
)
BODIES = st.one_of(
    st.binary(max_size=512),
    JSON_VALUES.map(orjson.dumps),
    st.lists(JSON_VALUES.map(orjson.dumps), max_size=4).map(b"\n".join),
    st.builds(
        mutate,
        st.just(VALID_PROTOBUF),
        st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
        st.integers(0, len(VALID_PROTOBUF) + 1),
    ),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=BODIES,
    content_type=st.sampled_from(CONTENT_TYPES),
    gzipped=st.booleans(),
    route=st.integers(0, 100),
)
def test_no_body_on_any_route_earns_a_5xx(
    writer: BatchWriter, body: bytes, content_type: str, gzipped: bool, route: int
) -> None:
    app = create_app(writer)
    paths = sorted(r.path for r in app.routes if "POST" in getattr(r, "methods", ()))
    path = paths[route % len(paths)]
    headers = {"Content-Type": content_type} if content_type else {}
    if gzipped:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    response = TestClient(app).post(path, content=body, headers=headers)
    assert response.status_code < 500, (path, response.text)
