"""Every span convention's fixture (sample_data/examples/conventions/spans) → the exact rows.

Each fixture goes through `prepare_traces` as OTLP JSON and again as protobuf (built from the
same JSON); both must give the same table, tool spans and warnings.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest.otlp import decode_traces_json
from ingest.payloads import JSON, PROTOBUF, Prepared, prepare_traces
from ingest.spans import map_spans
from tests.unit.test_genai_mapping import INGESTED_US, map_both
from tests.unit.test_otlp_decode import KIND_INTERNAL, TRACE, SpanSpec, json_body
from warehouse.schema import REQUESTS_COLUMNS

FIXTURES = Path(__file__).resolve().parents[2] / "sample_data/examples/conventions/spans"
CANARY = "CANARY-7f3a"
T0 = dt.datetime(2025, 11, 3, 9, 0, tzinfo=dt.UTC)
ID_KEYS = ("traceId", "spanId", "parentSpanId")


def at(ms: int) -> dt.datetime:
    return T0 + dt.timedelta(milliseconds=ms)


def to_protobuf(doc: dict[str, Any]) -> bytes:
    """OTLP JSON → protobuf: the stock JSON parser reads ids as base64, OTLP writes hex."""
    for resource_spans in doc["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                for key in ID_KEYS:
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return json_format.ParseDict(doc, ExportTraceServiceRequest()).SerializeToString()


def table_rows(prepared: Prepared) -> list[dict[str, Any]]:
    rows = prepared.table.to_pylist()
    for row in rows:
        assert isinstance(row.pop("ingested_at"), dt.datetime)
    return rows


def prepare(name: str) -> tuple[list[dict[str, Any]], Prepared]:
    body = (FIXTURES / f"{name}.json").read_bytes()
    from_json = prepare_traces(body, JSON)
    from_pb = prepare_traces(to_protobuf(orjson.loads(body)), PROTOBUF)
    rows = table_rows(from_json)
    assert table_rows(from_pb) == rows
    assert (from_pb.received, from_pb.rejected, from_pb.warnings) == (
        from_json.received,
        from_json.rejected,
        from_json.warnings,
    )
    tool_spans = [t.tool_spans.to_pylist() if t.tool_spans else [] for t in (from_json, from_pb)]
    assert tool_spans[0] == tool_spans[1]
    return rows, from_json


def row(trace_id: str, span_id: str, **values: Any) -> dict[str, Any]:
    """A full table row: every column not given is NULL."""
    columns = [c.name for c in REQUESTS_COLUMNS if c.name != "ingested_at"]
    assert set(values) <= set(columns)
    defaults = {"request_id": f"{trace_id}:{span_id}", "trace_id": trace_id, "span_id": span_id}
    return {c: values.get(c, defaults.get(c)) for c in columns}


def quality(valid: int, invalid_json: int, unknown: int, mismatch: int) -> dict[str, int]:
    return {
        "tool_calls_valid": valid,
        "tool_calls_invalid_json": invalid_json,
        "tool_calls_unknown_tool": unknown,
        "tool_calls_schema_mismatch": mismatch,
    }


# --- OTel GenAI ------------------------------------------------------------------------------


def test_genai_current_names_with_output_messages_and_planted_tool_calls() -> None:
    rows, prepared = prepare("genai_current")
    trace = "0af7651916cd43dd8448eb211c80319c"
    assert rows == [
        row(
            trace,
            "00f067aa0ba902b7",
            request_id="msg_01GenAICurrent0001",
            parent_span_id="b7ad6b7169203331",
            started_at=at(100),
            duration_ms=2300.0,
            ttft_ms=610.0,
            provider="anthropic",
            provider_raw="anthropic",
            model="anthropic/claude-sonnet-4.5",
            model_raw="claude-sonnet-4-5-20250929",
            # no finish_reasons attribute: choice 0's finish_reason, singular enum spelling
            finish_reason="tool_calls",
            native_finish_reason="tool_call",
            input_tokens=2400,
            output_tokens=310,
            reasoning_tokens=64,
            cached_input_tokens=1800,
            cache_write_tokens=120,
            # four tool_call parts reported, one execute_tool child: the larger count
            tool_calls=4,
            **quality(valid=1, invalid_json=1, unknown=1, mismatch=1),
            status="ok",
            app="support-bot",
            user_id="u-7",
            session_id="conv-42",
            source="otlp:genai",
        )
    ]
    assert prepared.tool_spans is not None and prepared.tool_spans.num_rows == 1
    assert (prepared.received, prepared.rejected, prepared.warnings) == (3, 0, Counter())


def test_genai_deprecated_names_with_output_messages_as_an_otlp_array() -> None:
    rows, _ = prepare("genai_deprecated_array")
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    assert rows == [
        row(
            trace,
            "a1b2c3d4e5f60718",
            request_id="chatcmpl-GenAIDeprecated01",
            started_at=at(0),
            duration_ms=850.0,
            provider="azure",
            provider_raw="az.ai.openai",
            model="openai/gpt-4o",
            model_raw="gpt-4o-2024-08-06",
            finish_reason="length",  # choice 0; choice 1's tool call is not this response's
            native_finish_reason="length",
            input_tokens=900,
            output_tokens=45,
            tool_calls=0,
            status="ok",
            app="batch-summarizer",
            source="otlp:genai",
        )
    ]


SEMCONV_GENAI = {
    "parent_span_id": None,
    "tool_calls": 0,
    "app": "semconv-client",
    "source": "otlp:genai",
}


def test_genai_names_from_the_semantic_conventions_genai_repository() -> None:
    """open-telemetry/semantic-conventions-genai: `cache_write.input_tokens` (renamed from
    `cache_creation`), `request.reasoning.level`, `request.stream`, `time_to_first_chunk` (s),
    `server.address` and the `gen_ai.client.operation.exception` event."""
    rows, prepared = prepare("genai_semconv_genai")
    trace = "9a1b2c3d4e5f60718293a4b5c6d7e8f9"
    assert rows == [
        row(
            trace,
            "e100000000000001",
            request_id="chatcmpl-Semconv142Stream01",
            started_at=at(0),
            duration_ms=4200.0,
            ttft_ms=350.0,  # time_to_first_chunk 0.35 s
            provider="openai",
            provider_raw="openai",
            model="openai/gpt-5",
            model_raw="gpt-5-2025-08-07",
            finish_reason="stop",
            native_finish_reason="stop",
            input_tokens=3000,
            output_tokens=800,
            reasoning_tokens=512,
            cached_input_tokens=1024,
            cache_write_tokens=256,  # the new name wins over `cache_creation` (999)
            status="ok",
            reasoning_level="high",
            stream=True,
            server_address="api.openai.com",
            **SEMCONV_GENAI,
        ),
        row(
            trace,
            "e100000000000002",
            request_id="msg_01Semconv142Proxy0001",
            started_at=at(5000),
            duration_ms=2500.0,
            provider="portkey",  # the gateway the client called stays the provider
            provider_raw="portkey",
            model="anthropic/claude-sonnet-4.5",
            model_raw="claude-sonnet-4-5-20250929",
            finish_reason="stop",
            native_finish_reason="end_turn",
            input_tokens=1500,
            output_tokens=200,
            cache_write_tokens=1200,
            status="ok",
            stream=False,  # the text "false"
            server_address="api.anthropic.com",  # the upstream hint
            **SEMCONV_GENAI,
        ),
        row(
            trace,
            "e100000000000003",
            started_at=at(8000),
            duration_ms=300.0,
            provider="openai",
            provider_raw="openai",
            model="openai/gpt-5-mini",
            model_raw="gpt-5-mini",
            # no span status, no error.type: the GenAI exception event says it failed
            finish_reason="error",
            status="error",
            error_type="rate_limit",  # exception.type openai.RateLimitError
            stream=True,
            server_address="api.openai.com",
            **SEMCONV_GENAI,
        ),
        row(
            trace,
            "e100000000000004",
            started_at=at(9000),
            duration_ms=400.0,
            provider="anthropic",
            provider_raw="anthropic",
            model="anthropic/claude-haiku-4.5",
            model_raw="claude-haiku-4-5",
            finish_reason="error",
            status="error",
            # the event's copied error.type beats its generic exception.type
            error_type="overloaded",
            reasoning_level="low",
            **SEMCONV_GENAI,
        ),
        row(
            trace,
            "e100000000000005",
            request_id="chatcmpl-Semconv142Handled1",
            started_at=at(10000),
            duration_ms=900.0,
            provider="openai",
            provider_raw="openai",
            model="openai/gpt-4o-mini",
            model_raw="gpt-4o-mini-2024-07-18",
            finish_reason="stop",
            native_finish_reason="stop",
            input_tokens=90,
            output_tokens=12,
            status="ok",  # a plain `exception` event was handled: not an error
            **SEMCONV_GENAI,
        ),
    ]
    assert (prepared.received, prepared.rejected, prepared.warnings) == (5, 0, Counter())


def test_reported_calls_and_more_execute_tool_children_keep_the_larger_count() -> None:
    llm = "a000000000000001"
    message = orjson.dumps(
        [{"role": "assistant", "parts": [{"type": "tool_call", "name": "f", "arguments": {}}]}]
    ).decode()
    children = [
        SpanSpec(
            span_id=f"c00000000000000{i}",
            parent_span_id=llm,
            kind=KIND_INTERNAL,
            name="execute_tool f",
        )
        for i in range(1, 4)
    ]
    mapped = map_both(
        SpanSpec(
            span_id=llm,
            attributes={"gen_ai.operation.name": "chat", "gen_ai.output.messages": message},
        ),
        *children,
    )
    assert [(r["tool_calls"], r["finish_reason"]) for r in mapped.records] == [(3, "tool_calls")]


@pytest.mark.parametrize(
    "operation", ["invoke_agent", "create_agent", "invoke_workflow", "plan", "agent_step"]
)
def test_agent_and_workflow_spans_are_not_rows(operation: str) -> None:
    mapped = map_both(
        SpanSpec(
            span_id="a000000000000001",
            name=f"{operation} x",
            attributes={"gen_ai.operation.name": operation, "gen_ai.request.model": "gpt-4o"},
        )
    )
    assert mapped.records == []


# --- OpenInference ---------------------------------------------------------------------------


def test_openinference_llm_spans_only() -> None:
    rows, prepared = prepare("openinference")
    trace = "5e1a7c3b9d2f4a6c8e0b1d3f5a7c9e1b"
    common = {
        "parent_span_id": "aa00000000000001",
        "provider": "azure",
        "provider_raw": "azure",  # the host (llm.provider) wins over the vendor (llm.system)
        "model": "openai/gpt-4.1-mini",
        "model_raw": "gpt-4.1-mini-2025-04-14",
        "app": "research-agent",
        "source": "otlp:openinference",
    }
    assert rows == [
        row(
            trace,
            "aa00000000000002",
            **common,
            started_at=at(200),
            duration_ms=1900.0,
            finish_reason="tool_calls",
            native_finish_reason="tool_calls",
            input_tokens=1500,
            output_tokens=220,
            reasoning_tokens=0,
            cached_input_tokens=1024,
            cache_write_tokens=0,
            tool_calls=2,
            **quality(valid=1, invalid_json=0, unknown=0, mismatch=1),
            status="ok",
            user_id="u-oi",
            session_id="sess-oi-1",
        ),
        row(
            trace,
            "aa00000000000004",
            **common,
            started_at=at(2600),
            duration_ms=900.0,
            finish_reason="error",
            tool_calls=0,
            status="error",
            error_type="rate_limit",  # from the span's exception event
        ),
    ]
    # the TOOL span is a tool execution (its parent is the AGENT span, so it counts nowhere)
    assert prepared.tool_spans is not None
    assert prepared.tool_spans.column("span_id").to_pylist() == ["aa00000000000003"]


# --- OpenLLMetry -----------------------------------------------------------------------------


def test_openllmetry_current_names() -> None:
    rows, _ = prepare("openllmetry_current")
    assert rows == [
        row(
            "6c1f2e3d4b5a69788796a5b4c3d2e1f0",
            "bb00000000000001",
            request_id="msg_01OpenLLMetryNow001",
            started_at=at(0),
            duration_ms=3100.0,
            provider="anthropic",
            provider_raw="anthropic",
            model="anthropic/claude-haiku-4.5",
            model_raw="claude-haiku-4-5-20251001",
            finish_reason="tool_calls",
            native_finish_reason="tool_call",  # OpenLLMetry's rewritten spelling
            input_tokens=5200,
            output_tokens=130,
            reasoning_tokens=40,
            cached_input_tokens=4096,
            cache_write_tokens=512,
            tool_calls=None,  # tool calls happened; without content capture, not how many
            status="ok",
            app="docs-assistant",
            source="otlp:openllmetry",
            stream=True,  # llm.is_streaming
        )
    ]


def test_openllmetry_older_flattened_names() -> None:
    rows, prepared = prepare("openllmetry_legacy")
    trace = "7d2e3f4a5b6c7d8e9fa0b1c2d3e4f5a6"
    assert rows == [
        row(
            trace,
            "cc00000000000002",
            request_id="chatcmpl-OpenLLMetryOld01",
            parent_span_id="cc00000000000001",
            started_at=at(50),
            duration_ms=1400.0,
            provider="openai",
            provider_raw="OpenAI",
            model="openai/gpt-4o-mini",
            model_raw="gpt-4o-mini-2024-07-18",
            finish_reason="tool_calls",
            native_finish_reason="tool_calls",
            input_tokens=700,
            output_tokens=60,  # llm.usage.total_tokens − prompt tokens
            reasoning_tokens=0,
            cached_input_tokens=512,
            # two calls reported, one Traceloop tool span under this span: the larger count
            tool_calls=2,
            **quality(valid=1, invalid_json=0, unknown=0, mismatch=1),
            status="ok",
            app="ticket-router",
            source="otlp:openllmetry",
        ),
        row(
            trace,
            "cc00000000000004",
            parent_span_id="cc00000000000001",
            started_at=at(1700),
            duration_ms=2000.0,
            provider="amazon-bedrock",
            provider_raw="AWS",
            model="anthropic/claude-3.5-sonnet",
            model_raw="anthropic.claude-3-5-sonnet-20240620-v1:0",
            finish_reason="stop",
            native_finish_reason="end_turn",
            input_tokens=300,
            output_tokens=80,
            tool_calls=0,
            status="ok",
            app="ticket-router",
            source="otlp:openllmetry",
        ),
    ]
    assert prepared.received == 5  # the workflow and embedding spans are not rows


# --- Vercel AI SDK ---------------------------------------------------------------------------

VERCEL_STEP = {
    "parent_span_id": "dd00000000000001",
    "provider": "openai",
    "provider_raw": "openai.chat",
    "model": "openai/gpt-4.1",
    "model_raw": "gpt-4.1-2025-04-14",
    "status": "ok",
    "app": "trip-planner-web",
    "user_id": "u-vc",
    "session_id": "sess-vc",
    "source": "otlp:vercel-ai",
}


def test_vercel_legacy_provider_calls_are_rows_and_the_outer_span_is_not() -> None:
    rows, prepared = prepare("vercel_legacy")
    trace = "8e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b"
    assert rows == [
        row(
            trace,
            "dd00000000000002",
            **VERCEL_STEP,
            request_id="chatcmpl-VercelStep0001",
            started_at=at(10),
            duration_ms=2000.0,
            finish_reason="tool_calls",
            native_finish_reason="tool-calls",
            input_tokens=800,
            output_tokens=40,
            reasoning_tokens=0,
            cached_input_tokens=256,
            tool_calls=1,
            stream=False,  # doGenerate
            **quality(valid=1, invalid_json=0, unknown=0, mismatch=0),
        ),
        row(
            trace,
            "dd00000000000004",
            **VERCEL_STEP,
            request_id="chatcmpl-VercelStep0002",
            started_at=at(2400),
            duration_ms=3500.0,
            finish_reason="stop",
            native_finish_reason="stop",
            input_tokens=900,
            output_tokens=220,
            tool_calls=0,
            stream=False,
        ),
    ]
    # ai.toolCall is a tool execution whose parent is the outer ai.generateText span
    assert prepared.tool_spans is not None
    assert prepared.tool_spans.column("parent_span_id").to_pylist() == ["dd00000000000001"]


def test_vercel_legacy_v3_names() -> None:
    rows, _ = prepare("vercel_legacy_v3")
    assert rows == [
        row(
            "9f4a5b6c7d8e9fa0b1c2d3e4f5a6b7c8",
            "ee00000000000002",
            parent_span_id="ee00000000000001",
            started_at=at(5),
            duration_ms=2400.0,
            ttft_ms=312.0,
            provider="anthropic",
            provider_raw="anthropic.messages",
            model="anthropic/claude-3.5-haiku",
            model_raw="claude-3-5-haiku-20241022",
            finish_reason="stop",
            native_finish_reason="stop",
            input_tokens=400,
            output_tokens=90,
            tool_calls=0,
            stream=True,  # doStream
            status="ok",
            app="chat-widget",
            source="otlp:vercel-ai",
        )
    ]


def test_vercel_genai_integration_rows_only_the_chat_span() -> None:
    rows, _ = prepare("vercel_genai")
    assert rows == [
        row(
            "a05b6c7d8e9fa0b1c2d3e4f5a6b7c8d9",
            "ff00000000000003",
            request_id="vercel-genai-resp-1",
            parent_span_id="ff00000000000002",
            started_at=at(10),
            duration_ms=1500.0,
            ttft_ms=250.0,  # gen_ai.client.operation.time_to_first_chunk, seconds
            provider="google-ai-studio",
            provider_raw="gcp.gemini",
            model="google/gemini-2.5-flash",
            model_raw="gemini-2.5-flash",
            finish_reason="tool_calls",
            native_finish_reason="tool-calls",
            input_tokens=1000,
            output_tokens=100,
            reasoning_tokens=30,
            tool_calls=1,
            **quality(valid=1, invalid_json=0, unknown=0, mismatch=0),
            status="ok",
            app="trip-planner-web",
            source="otlp:vercel-ai",
        )
    ]


# --- LiteLLM, OpenRouter -----------------------------------------------------------------------


def test_litellm_callback_spans() -> None:
    rows, prepared = prepare("litellm")
    trace = "b16c7d8e9fa0b1c2d3e4f5a6b7c8d9e0"
    assert rows == [
        row(
            trace,
            "1100000000000001",
            request_id="chatcmpl-litellm-0001",
            started_at=at(0),
            duration_ms=1800.0,
            provider="amazon-bedrock",
            provider_raw="bedrock",
            model="anthropic/claude-sonnet-4.5",
            model_raw="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            finish_reason="tool_calls",
            native_finish_reason="tool_calls",  # from the JSON-encoded string
            input_tokens=1200,
            output_tokens=100,
            tool_calls=1,
            **quality(valid=1, invalid_json=0, unknown=0, mismatch=0),
            status="ok",
            app="checkout-service",  # metadata.user_api_key_alias
            user_id="cust-88",
            source="otlp:litellm",
            cost_usd=0.0051,  # gen_ai.cost.total_cost
            stream=False,  # llm.is_streaming "False"
        ),
        row(
            trace,
            "1100000000000003",
            started_at=at(3000),
            duration_ms=400.0,
            provider="google-vertex",
            provider_raw="vertex_ai",
            model="google/gemini-2.5-pro",
            model_raw="vertex_ai/gemini-2.5-pro",
            finish_reason="error",
            tool_calls=0,
            status="error",
            error_type="rate_limit",
            http_status=429,  # error.code
            app="payments",  # metadata.user_api_key_team_alias
            source="otlp:litellm",
            stream=True,  # llm.is_streaming "True"
        ),
    ]
    assert prepared.received == 4  # the raw request span and the embedding are not rows


def test_openrouter_broadcast() -> None:
    rows, _ = prepare("openrouter_broadcast")
    assert rows == [
        row(
            "c27d8e9fa0b1c2d3e4f5a6b7c8d9e0f1",
            "2200000000000001",
            started_at=at(0),
            duration_ms=2750.0,
            provider="deepinfra",
            provider_raw="DeepInfra",
            model="qwen/qwen3-coder",
            model_raw="qwen/qwen3-coder",
            finish_reason="stop",
            native_finish_reason="stop",  # singular, scalar
            input_tokens=3000,
            output_tokens=600,
            tool_calls=0,
            status="ok",
            app="openrouter",
            user_id="user_12345",
            session_id="session_abc123",
            source="otlp:openrouter",
        )
    ]


# --- bad input -------------------------------------------------------------------------------


def test_bad_timestamps_and_numbers_become_null_with_counted_warnings() -> None:
    rows, prepared = prepare("bad_values")
    trace = "d38e9fa0b1c2d3e4f5a6b7c8d9e0f1a2"
    plain = {
        "provider": "openai",
        "provider_raw": "openai",
        "model": "openai/gpt-5-mini",
        "model_raw": "gpt-5-mini",
        "tool_calls": 0,
        "status": "ok",
        "app": "edge-cases",
        "source": "otlp:genai",
    }
    assert rows == [
        row(trace, "3300000000000001", **plain),  # start at 0
        row(trace, "3300000000000002", **plain),  # start beyond now + 1 day (and 2^63)
        row(trace, "3300000000000003", **plain, started_at=at(0)),  # ends before it starts
        row(trace, "3300000000000004", **plain, started_at=at(0)),  # ends beyond now + 1 day
        row(
            trace,
            "3300000000000005",
            **plain,
            started_at=at(0),
            duration_ms=1000.0,
            input_tokens=1200,
        ),  # a number as a string is read; the rest is unusable
        row(
            trace,
            "3300000000000006",
            **{**plain, "provider_raw": "openai.responses", "source": "otlp:vercel-ai"},
            started_at=at(0),
            stream=True,  # a doStream call
        ),
    ]
    assert prepared.rejected == 0
    assert prepared.warnings == Counter(
        {
            "invalid span start time": 2,
            "invalid span end time": 1,
            "span ends before it starts": 2,
            "invalid gen_ai.usage.output_tokens": 1,
            "invalid gen_ai.usage.reasoning.output_tokens": 1,
            "invalid gen_ai.usage.cache_read.input_tokens": 1,
            "invalid gen_ai.usage.cache_write.input_tokens": 1,
            "invalid gen_ai.response.time_to_first_chunk": 1,
            "invalid http.response.status_code": 1,
            "invalid ai.usage.inputTokens": 1,
            "invalid ai.response.msToFirstChunk": 1,
        }
    )


FIXTURE_NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_prompt_and_completion_text_never_reaches_the_table(name: str) -> None:
    body = (FIXTURES / f"{name}.json").read_bytes()
    rows, _ = prepare(name)
    if name != "bad_values":
        assert CANARY.encode() in body and rows
    assert CANARY not in repr(rows)


def test_every_fixture_is_tested() -> None:
    tested = {
        "bad_values",
        "genai_current",
        "genai_deprecated_array",
        "genai_semconv_genai",
        "litellm",
        "openinference",
        "openllmetry_current",
        "openllmetry_legacy",
        "openrouter_broadcast",
        "vercel_genai",
        "vercel_legacy",
        "vercel_legacy_v3",
    }
    assert set(FIXTURE_NAMES) == tested


# --- detection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "attributes", "source"),
    [
        # LiteLLM writes llm.is_streaming as the string "True"/"False", OpenLLMetry as a bool
        (
            "completion",
            {
                "llm.is_streaming": "True",
                "metadata.user_api_key_alias": "a",
                "gen_ai.request.model": "gpt-4o",
            },
            "otlp:litellm",
        ),
        (
            "openai.chat",
            {
                "llm.is_streaming": True,
                "metadata.user_api_key_alias": "a",
                "gen_ai.request.model": "gpt-4o",
            },
            "otlp:openllmetry",
        ),
        ("openai.chat", {}, "otlp:openllmetry"),
        ("chat gpt-4o", {"gen_ai.operation.name": "chat"}, "otlp:genai"),
        (
            "chat gpt-4o",
            {"gen_ai.operation.name": "chat", "gen_ai.response.finish_reasons": ["content-filter"]},
            "otlp:vercel-ai",
        ),
        (
            "chat gpt-4o",
            {"openinference.span.kind": "LLM", "gen_ai.operation.name": "chat"},
            "otlp:openinference",
        ),
    ],
)
def test_detection_order(name: str, attributes: dict[str, Any], source: str) -> None:
    body = json_body(
        (
            {"service.name": "app"},
            [SpanSpec(span_id="a0000000000000aa", name=name, attributes=attributes)],
        )
    )
    mapped = map_spans(decode_traces_json(body), ingested_at_us=INGESTED_US)
    assert [(r["source"], r["request_id"]) for r in mapped.records] == [
        (source, f"{TRACE}:a0000000000000aa")
    ]
