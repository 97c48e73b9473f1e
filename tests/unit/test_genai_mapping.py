"""SpanViews → canonical records (OTel GenAI, current and deprecated names).

Every span is written both as protobuf and as OTLP JSON; both must map to the same records.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import orjson
import pytest

from ingest.otlp import decode_traces_json, decode_traces_protobuf
from ingest.record import Record, records_to_table
from ingest.spans import MappedSpans, map_spans
from tests.unit.test_otlp_decode import (
    KIND_INTERNAL,
    START_NS,
    TRACE,
    SpanSpec,
    json_body,
    protobuf_body,
    to_json,
)

INGESTED_US = 1_762_200_000_000_000
S1 = "a000000000000001"
RESOURCE = {"service.name": "billing-bot"}


def map_both(*specs: SpanSpec, resource: dict[str, Any] | None = None) -> MappedSpans:
    """Map the spans from both encodings; they must agree exactly."""
    res = (RESOURCE if resource is None else resource, list(specs))
    pb = map_spans(decode_traces_protobuf(protobuf_body(res)), ingested_at_us=INGESTED_US)
    js = map_spans(decode_traces_json(json_body(res)), ingested_at_us=INGESTED_US)
    assert pb.records == js.records
    assert pb.tool_spans == js.tool_spans
    assert (pb.spans, pb.rejected, pb.errors, pb.warnings) == (
        js.spans,
        js.rejected,
        js.errors,
        js.warnings,
    )
    return pb


def map_one(attributes: dict[str, Any], **spec: Any) -> Record:
    mapped = map_both(SpanSpec(span_id=S1, attributes=attributes, **spec))
    assert len(mapped.records) == 1
    return mapped.records[0]


def expected(**overrides: Any) -> Record:
    """The record of a plain successful span `S1` with no usage attributes."""
    base: Record = {
        "request_id": f"{TRACE}:{S1}",
        "trace_id": TRACE,
        "span_id": S1,
        "parent_span_id": None,
        "started_at": START_NS // 1000,
        "duration_ms": 1250.0,
        "ttft_ms": None,
        "provider": None,
        "provider_raw": None,
        "model": None,
        "model_raw": None,
        "finish_reason": None,
        "native_finish_reason": None,
        "input_tokens": None,
        "output_tokens": None,
        "reasoning_tokens": None,
        "cached_input_tokens": None,
        "cache_write_tokens": None,
        "tool_calls": 0,
        "status": "ok",
        "error_type": None,
        "http_status": None,
        "app": "billing-bot",
        "user_id": None,
        "session_id": None,
        "source": "otlp:genai",
        "ingested_at": INGESTED_US,
        "cost_usd": None,
        "reasoning_level": None,
        "stream": None,
        "server_address": None,
    }
    assert set(overrides) <= set(base)
    return {**base, **overrides}


# --- current and deprecated names ----------------------------------------------------------

CURRENT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-sonnet-4-5",
    "gen_ai.response.model": "claude-sonnet-4-5-20250929",
    "gen_ai.response.id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "gen_ai.response.finish_reasons": ["end_turn"],
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.output_tokens": 340,
    "gen_ai.usage.reasoning.output_tokens": 120,
    "gen_ai.usage.cache_read.input_tokens": 800,
    "gen_ai.usage.cache_creation.input_tokens": 64,
    "gen_ai.response.time_to_first_chunk": 0.42,
    "user.id": "u-17",
    "session.id": "sess-9",
}

CURRENT_RECORD = expected(
    request_id="msg_01XFDUDYJgAACzvnptvVoYEL",
    provider="anthropic",
    provider_raw="anthropic",
    model="anthropic/claude-sonnet-4.5",
    model_raw="claude-sonnet-4-5-20250929",
    finish_reason="stop",
    native_finish_reason="end_turn",
    input_tokens=1200,
    output_tokens=340,
    reasoning_tokens=120,
    cached_input_tokens=800,
    cache_write_tokens=64,
    ttft_ms=420.0,
    user_id="u-17",
    session_id="sess-9",
)


def test_current_genai_names_map_to_the_exact_record() -> None:
    mapped = map_both(SpanSpec(span_id=S1, attributes=CURRENT))
    assert mapped.records == [CURRENT_RECORD]
    assert (mapped.tool_spans, mapped.spans, mapped.rejected, mapped.errors) == ([], 1, 0, [])
    assert mapped.warnings == Counter()


def test_deprecated_genai_names_map_to_the_same_record() -> None:
    deprecated = {
        "gen_ai.system": "Anthropic",  # OpenLLMetry before 2026-03
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.response.model": "claude-sonnet-4-5-20250929",
        "gen_ai.response.id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "gen_ai.response.finish_reason": "end_turn",
        "gen_ai.usage.prompt_tokens": 1200,
        "gen_ai.usage.completion_tokens": 340,
        "gen_ai.usage.reasoning_tokens": 120,
        "gen_ai.usage.cache_read_input_tokens": 800,
        "gen_ai.usage.cache_creation_input_tokens": 64,
        "gen_ai.response.time_to_first_chunk": 0.42,
        "enduser.id": "u-17",
        "gen_ai.conversation.id": "sess-9",
    }
    # no gen_ai.operation.name: an LLM span recognised by its request model
    assert map_one(deprecated) == {**CURRENT_RECORD, "provider_raw": "Anthropic"}


def test_current_names_win_over_deprecated_ones() -> None:
    record = map_one(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "gcp.gemini",
            "gen_ai.system": "vertex_ai",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.prompt_tokens": 99,
            "gen_ai.usage.output_tokens": 5,
            "gen_ai.usage.completion_tokens": 77,
            "gen_ai.usage.reasoning.output_tokens": 2,
            "gen_ai.usage.reasoning_tokens": 66,
        }
    )
    assert (record["provider"], record["provider_raw"]) == ("google-ai-studio", "gcp.gemini")
    assert (record["input_tokens"], record["output_tokens"], record["reasoning_tokens"]) == (
        10,
        5,
        2,
    )


@pytest.mark.parametrize(
    ("models", "model_raw", "model"),
    [
        ({"gen_ai.request.model": "gpt-4o"}, "gpt-4o", "openai/gpt-4o"),
        (
            {"gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06"},
            "gpt-4o-2024-08-06",
            "openai/gpt-4o",
        ),
        (
            {"gen_ai.response.model": "gemini-2.5-flash"},
            "gemini-2.5-flash",
            "google/gemini-2.5-flash",
        ),
    ],
)
def test_response_model_wins_over_request_model(
    models: dict[str, str], model_raw: str, model: str
) -> None:
    record = map_one({"gen_ai.operation.name": "chat", **models})
    assert (record["model_raw"], record["model"]) == (model_raw, model)


@pytest.mark.parametrize(
    ("attributes", "native", "finish_reason"),
    [
        ({"gen_ai.response.finish_reasons": ["stop"]}, "stop", "stop"),
        ({"gen_ai.response.finish_reasons": ["length", "stop"]}, "length", "length"),
        ({"gen_ai.response.finish_reasons": "max_tokens"}, "max_tokens", "length"),
        ({"gen_ai.response.finish_reasons": '["stop"]'}, "stop", "stop"),  # LiteLLM
        ({"gen_ai.response.finish_reasons": '["tool_calls"]'}, "tool_calls", "tool_calls"),
        ({"gen_ai.response.finish_reason": "stop"}, "stop", "stop"),  # OpenRouter Broadcast
        (
            {"gen_ai.response.finish_reasons": ["content-filter"]},
            "content-filter",
            "content_filter",
        ),
        ({"gen_ai.response.finish_reasons": ["pause_turn"]}, "pause_turn", "other"),
        ({"gen_ai.response.finish_reasons": ["", "stop"]}, "stop", "stop"),
        ({"gen_ai.response.finish_reasons": []}, None, None),
        ({"gen_ai.response.finish_reasons": "[broken"}, "[broken", "other"),
        ({}, None, None),
    ],
)
def test_finish_reason_spellings(
    attributes: dict[str, Any], native: str | None, finish_reason: str | None
) -> None:
    record = map_one({"gen_ai.operation.name": "chat", **attributes})
    assert (record["native_finish_reason"], record["finish_reason"]) == (native, finish_reason)


def test_reported_tool_calls_without_children_leave_the_count_unknown() -> None:
    record = map_one(
        {"gen_ai.operation.name": "chat", "gen_ai.response.finish_reasons": "tool_use"}
    )
    assert (record["finish_reason"], record["tool_calls"]) == ("tool_calls", None)


def test_absent_usage_is_none_and_reported_zero_is_zero() -> None:
    absent = map_one({"gen_ai.operation.name": "chat", "gen_ai.usage.output_tokens": 50})
    assert [
        absent[k] for k in ("reasoning_tokens", "cached_input_tokens", "cache_write_tokens")
    ] == [
        None,
        None,
        None,
    ]
    zero = map_one(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.reasoning.output_tokens": 0,
            "gen_ai.usage.cache_read.input_tokens": 0,
            "gen_ai.usage.cache_creation.input_tokens": 0,
        }
    )
    assert [zero[k] for k in ("reasoning_tokens", "cached_input_tokens", "cache_write_tokens")] == [
        0,
        0,
        0,
    ]


@pytest.mark.parametrize(("ttft", "ttft_ms"), [(0.25, 250.0), (2, 2000.0), (0.0, 0.0)])
def test_time_to_first_chunk_seconds_become_milliseconds(ttft: float, ttft_ms: float) -> None:
    record = map_one({"gen_ai.operation.name": "chat", "gen_ai.response.time_to_first_chunk": ttft})
    assert record["ttft_ms"] == ttft_ms


def test_request_id_falls_back_to_trace_and_span_ids() -> None:
    record = map_one({"gen_ai.operation.name": "chat", "gen_ai.response.id": ""})
    assert record["request_id"] == f"{TRACE}:{S1}"


def test_tenant_is_set_on_every_record() -> None:
    res = (RESOURCE, [SpanSpec(span_id=S1, attributes={"gen_ai.operation.name": "chat"})])
    mapped = map_spans(
        decode_traces_json(json_body(res)), ingested_at_us=INGESTED_US, tenant="acme"
    )
    assert mapped.records == [{**expected(), "tenant": "acme"}]


def test_resource_without_service_name_leaves_app_empty() -> None:
    mapped = map_both(
        SpanSpec(span_id=S1, attributes={"gen_ai.operation.name": "chat"}), resource={}
    )
    assert mapped.records == [expected(app=None)]


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "status_code", "error_type", "http_status"),
    [
        ({}, 2, "other", None),
        ({"error.type": "RateLimitError"}, 2, "rate_limit", None),
        ({"error.type": "openai.RateLimitError"}, 0, "rate_limit", None),
        ({"http.response.status_code": 429}, 0, "rate_limit", 429),
        ({"http.status_code": 429}, 2, "rate_limit", 429),
        (
            {"error.type": "overloaded_error", "http.response.status_code": 529},
            2,
            "overloaded",
            529,
        ),
        ({"http.response.status_code": 529}, 2, "overloaded", 529),
        ({"error.type": "529"}, 2, "overloaded", None),
        ({"error.type": "_OTHER", "http.response.status_code": 500}, 2, "server_error", 500),
        ({"error.type": "APITimeoutError"}, 2, "timeout", None),
        (
            {"error.type": "context_length_exceeded", "http.response.status_code": 400},
            2,
            "context_length",
            400,
        ),
        ({"http.response.status_code": 401}, 0, "auth", 401),
        ({"http.response.status_code": "503"}, 0, "overloaded", 503),
    ],
)
def test_error_spans_get_status_error_type_and_finish_reason_error(
    attributes: dict[str, Any], status_code: int, error_type: str, http_status: int | None
) -> None:
    record = map_one(
        {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", **attributes},
        status_code=status_code,
    )
    assert {k: record[k] for k in ("status", "error_type", "http_status", "finish_reason")} == {
        "status": "error",
        "error_type": error_type,
        "http_status": http_status,
        "finish_reason": "error",
    }
    assert record["native_finish_reason"] is None


def test_error_span_keeps_a_reported_finish_reason() -> None:
    record = map_one(
        {"gen_ai.operation.name": "chat", "gen_ai.response.finish_reasons": ["length"]},
        status_code=2,
    )
    assert (record["status"], record["finish_reason"], record["native_finish_reason"]) == (
        "error",
        "length",
        "length",
    )


def test_successful_http_status_is_kept_and_not_an_error() -> None:
    record = map_one({"gen_ai.operation.name": "chat", "http.response.status_code": 200})
    assert (record["status"], record["error_type"], record["http_status"]) == ("ok", None, 200)


# --- which spans are requests ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "attributes"),
    [
        ("invoke_agent planner", {"gen_ai.operation.name": "invoke_agent"}),
        ("create_agent planner", {"gen_ai.operation.name": "create_agent"}),
        (
            "embeddings text-embedding-3-small",
            {
                "gen_ai.operation.name": "embeddings",
                "gen_ai.request.model": "text-embedding-3-small",
            },
        ),
        ("POST /v1/chat/completions", {"http.request.method": "POST", "url.path": "/v1/chat"}),
        ("SELECT requests", {"db.system": "duckdb"}),
    ],
)
def test_non_llm_spans_are_not_rows(name: str, attributes: dict[str, Any]) -> None:
    mapped = map_both(SpanSpec(span_id=S1, name=name, attributes=attributes))
    assert (mapped.records, mapped.tool_spans, mapped.spans) == ([], [], 1)


@pytest.mark.parametrize("operation", ["chat", "generate_content", "text_completion"])
def test_llm_operations_are_rows(operation: str) -> None:
    assert map_one({"gen_ai.operation.name": operation}) == expected()


def test_agent_llm_and_tool_spans_of_one_trace() -> None:
    agent, llm, gemini = "b000000000000001", "b000000000000002", "b000000000000003"
    specs = [
        SpanSpec(
            span_id=agent,
            name="invoke_agent planner",
            attributes={"gen_ai.operation.name": "invoke_agent"},
        ),
        SpanSpec(
            span_id=llm,
            parent_span_id=agent,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.response.finish_reasons": ["stop"],
            },
        ),
        SpanSpec(
            span_id=gemini,
            parent_span_id=agent,
            name="generate_content gemini-2.5-flash",
            attributes={
                "gen_ai.operation.name": "generate_content",
                "gen_ai.response.finish_reasons": ["STOP"],
            },
        ),
    ]
    tools = [
        # children of `llm`: one by operation name, one by span name only
        SpanSpec(
            span_id="c000000000000001",
            parent_span_id=llm,
            kind=KIND_INTERNAL,
            name="execute_tool get_weather",
            attributes={"gen_ai.operation.name": "execute_tool"},
        ),
        SpanSpec(
            span_id="c000000000000002",
            parent_span_id=llm,
            kind=KIND_INTERNAL,
            name="execute_tool search",
            start_ns=START_NS + 10,
        ),
        # child of the Gemini span
        SpanSpec(
            span_id="c000000000000003",
            parent_span_id=gemini,
            kind=KIND_INTERNAL,
            name="execute_tool lookup",
            attributes={"gen_ai.operation.name": "execute_tool"},
        ),
        # same parent span id in another trace: not a child of `llm`
        SpanSpec(
            span_id="c000000000000004",
            parent_span_id=llm,
            trace_id="f" * 32,
            name="execute_tool other",
        ),
        # a tool span without a parent is kept nowhere
        SpanSpec(span_id="c000000000000005", name="execute_tool orphan"),
    ]
    mapped = map_both(*specs, *tools)
    assert [
        (r["span_id"], r["finish_reason"], r["native_finish_reason"], r["tool_calls"])
        for r in mapped.records
    ] == [
        (llm, "tool_calls", "stop", 2),
        (gemini, "tool_calls", "STOP", 1),
    ]
    assert [r["parent_span_id"] for r in mapped.records] == [agent, agent]
    assert mapped.tool_spans == [
        {
            "trace_id": TRACE,
            "span_id": "c000000000000001",
            "parent_span_id": llm,
            "started_at": START_NS // 1000,
        },
        {
            "trace_id": TRACE,
            "span_id": "c000000000000002",
            "parent_span_id": llm,
            "started_at": (START_NS + 10) // 1000,
        },
        {
            "trace_id": TRACE,
            "span_id": "c000000000000003",
            "parent_span_id": gemini,
            "started_at": START_NS // 1000,
        },
        {
            "trace_id": "f" * 32,
            "span_id": "c000000000000004",
            "parent_span_id": llm,
            "started_at": START_NS // 1000,
        },
    ]
    assert mapped.spans == 8


# --- bad values --------------------------------------------------------------------------------


def test_bad_values_become_none_with_warnings_never_an_exception() -> None:
    record = map_one(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": "abc",
            "gen_ai.usage.output_tokens": -5,
            "gen_ai.usage.reasoning.output_tokens": 12.5,
            "gen_ai.usage.cache_read.input_tokens": True,
            "gen_ai.usage.cache_creation.input_tokens": [3],
            "gen_ai.response.time_to_first_chunk": math.nan,
            "http.response.status_code": -1,
        }
    )
    assert record == expected(http_status=None)
    mapped = map_both(
        SpanSpec(
            span_id=S1,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.usage.input_tokens": "abc",
                "gen_ai.usage.prompt_tokens": "also ignored",
                "gen_ai.usage.output_tokens": -5,
                "gen_ai.usage.reasoning.output_tokens": 12.5,
                "gen_ai.usage.cache_read.input_tokens": True,
                "gen_ai.usage.cache_creation.input_tokens": [3],
                "gen_ai.response.time_to_first_chunk": math.nan,
            },
        ),
        SpanSpec(
            span_id="a000000000000002",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.usage.completion_tokens": "-1",
                "gen_ai.response.time_to_first_chunk": -0.5,
            },
        ),
    )
    assert mapped.warnings == Counter(
        {
            "invalid gen_ai.usage.input_tokens": 1,
            "invalid gen_ai.usage.output_tokens": 2,
            "invalid gen_ai.usage.reasoning.output_tokens": 1,
            "invalid gen_ai.usage.cache_read.input_tokens": 1,
            "invalid gen_ai.usage.cache_write.input_tokens": 1,
            "invalid gen_ai.response.time_to_first_chunk": 2,
        }
    )
    assert [r["output_tokens"] for r in mapped.records] == [None, None]
    assert [r["ttft_ms"] for r in mapped.records] == [None, None]


def test_numeric_strings_and_integral_doubles_are_counts() -> None:
    record = map_one(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": " 42 ",
            "gen_ai.usage.output_tokens": 7.0,
            "gen_ai.response.time_to_first_chunk": "0.5",
        }
    )
    assert (record["input_tokens"], record["output_tokens"], record["ttft_ms"]) == (42, 7, 500.0)


def test_span_ending_before_it_starts_has_no_duration_and_a_warning() -> None:
    mapped = map_both(
        SpanSpec(span_id=S1, attributes={"gen_ai.operation.name": "chat"}, end_ns=START_NS - 1)
    )
    assert mapped.records == [expected(duration_ms=None)]
    assert mapped.warnings == Counter({"span ends before it starts": 1})


def test_span_without_timestamps_has_no_start_or_duration() -> None:
    mapped = map_both(
        SpanSpec(span_id=S1, attributes={"gen_ai.operation.name": "chat"}, start_ns=0, end_ns=0)
    )
    assert mapped.records == [expected(started_at=None, duration_ms=None)]
    assert mapped.warnings == Counter()


def test_records_with_bad_values_still_fit_the_arrow_schema() -> None:
    record = map_one({"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": "abc"})
    table = records_to_table([record, CURRENT_RECORD])
    assert table.column("input_tokens").to_pylist() == [None, 1200]
    assert table.column("request_id").to_pylist() == [f"{TRACE}:{S1}", CURRENT_RECORD["request_id"]]


def test_rejected_json_spans_are_counted_and_good_ones_mapped() -> None:
    body = to_json(
        (
            RESOURCE,
            [
                SpanSpec(span_id=S1, attributes={"gen_ai.operation.name": "chat"}),
                SpanSpec(
                    span_id="a000000000000002",
                    name="bad",
                    attributes={"gen_ai.operation.name": "chat"},
                ),
            ],
        )
    )
    body["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["spanId"] = "xyz"

    mapped = map_spans(decode_traces_json(orjson.dumps(body)), ingested_at_us=INGESTED_US)
    assert mapped.records == [expected()]
    assert (mapped.spans, mapped.rejected, mapped.errors) == (
        2,
        1,
        ["span 'bad': spanId must be 16 hex characters"],
    )


def test_request_details_as_reported_and_a_bad_stream_flag_is_null_with_a_warning() -> None:
    mapped = map_both(
        SpanSpec(
            span_id=S1,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.reasoning.level": "minimal",
                "gen_ai.request.stream": "yes",
                "server.address": "openrouter.ai",
            },
        )
    )
    assert mapped.records == [
        expected(reasoning_level="minimal", stream=None, server_address="openrouter.ai")
    ]
    assert mapped.warnings == Counter({"invalid gen_ai.request.stream": 1})
