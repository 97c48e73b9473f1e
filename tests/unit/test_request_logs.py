from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.payloads import JSON, prepare_traces
from ingest.record import Record, records_to_table
from ingest.request_logs import (
    UNRECOGNISED_SHAPE,
    RecordError,
    map_request_logs,
    parse_request_log_body,
)
from warehouse.schema import REQUESTS_COLUMN_NAMES

EXAMPLES = Path(__file__).resolve().parents[2] / "sample_data" / "examples"
RECEIVED = 1_762_200_000_000_000


def row(**fields: Any) -> Record:
    """A whole row: every column, NULL unless given."""
    return {name: fields.get(name) for name in REQUESTS_COLUMN_NAMES}


def whole(record: Record) -> Record:
    assert set(record) <= set(REQUESTS_COLUMN_NAMES)
    return row(**record)


def map_body(body: bytes, tenant: str | None = None) -> tuple[list[Record], list[RecordError]]:
    return map_request_logs(parse_request_log_body(body), received_at_us=RECEIVED, tenant=tenant)


def canonical(**overrides: Any) -> dict[str, Any]:
    return {"request_id": "r1", "started_at": "2025-11-03T09:00:00Z", **overrides}


def jsonl(*items: object) -> bytes:
    return b"\n".join(orjson.dumps(item) for item in items)


# --- body shapes -----------------------------------------------------------------------------


def test_one_object_array_and_jsonl_bodies_give_the_same_items() -> None:
    a, b = canonical(request_id="a"), canonical(request_id="b")
    assert parse_request_log_body(orjson.dumps(a)) == [a]
    assert parse_request_log_body(orjson.dumps([a, b])) == [a, b]
    assert parse_request_log_body(jsonl(a, b)) == [a, b]


def test_jsonl_blank_lines_and_crlf_are_skipped() -> None:
    body = b"\r\n" + orjson.dumps({"x": 1}) + b"\r\n\r\n   \n" + orjson.dumps({"y": 2}) + b"\n"
    assert parse_request_log_body(body) == [{"x": 1}, {"y": 2}]


def test_pretty_printed_object_is_one_item() -> None:
    body = orjson.dumps(canonical(), option=orjson.OPT_INDENT_2)
    assert parse_request_log_body(body) == [canonical()]


@pytest.mark.parametrize("body", [b"", b"  \n\n ", b"[]"])
def test_empty_bodies_have_no_items(body: bytes) -> None:
    assert parse_request_log_body(body) == []


def test_broken_jsonl_line_keeps_its_neighbours_and_reports_its_index() -> None:
    body = b"\n".join(
        [
            orjson.dumps(canonical(request_id="a")),
            b"",
            orjson.dumps(canonical(request_id="b")),
            b'{"request_id": "c", "started_at": ',
            orjson.dumps(canonical(request_id="d")),
        ]
    )
    records, errors = map_body(body)
    assert [r["request_id"] for r in records] == ["a", "b", "d"]
    assert len(errors) == 1
    assert errors[0].index == 2
    assert errors[0].field is None
    assert errors[0].message.startswith("record 2: not valid JSON: ")


def test_broken_array_is_one_error_and_nothing_stored() -> None:
    records, errors = map_body(b'[{"request_id": "a"}, {"request_id": ')
    assert records == []
    assert [(e.index, e.field) for e in errors] == [(0, None)]
    assert errors[0].message.startswith("record 0: body is not valid JSON: ")


def test_items_that_are_not_objects_or_not_recognised_are_reported_by_index() -> None:
    items: list[object] = [[1, 2], "text", canonical(), {"model": "gpt-4o"}]
    records, errors = map_request_logs(items, received_at_us=RECEIVED)
    assert [r["request_id"] for r in records] == ["r1"]
    assert errors == [
        RecordError(0, None, "record 0: not a JSON object: list"),
        RecordError(1, None, "record 1: not a JSON object: str"),
        RecordError(3, None, f"record 3: {UNRECOGNISED_SHAPE}"),
    ]


# --- field errors ----------------------------------------------------------------------------

FIELD_ERRORS = [
    ({"request_id": None}, "request_id", "required, a non-empty string"),
    ({"request_id": ""}, "request_id", "required, a non-empty string"),
    ({"request_id": ["x"]}, "request_id", "not a string: ['x']"),
    ({"started_at": None}, "started_at", "required, a timestamp"),
    ({"started_at": "yesterday"}, "started_at", "not a timestamp: 'yesterday'"),
    ({"started_at": -5}, "started_at", "not a timestamp: -5"),
    ({"started_at": True}, "started_at", "not a timestamp: True"),
    (
        {"started_at": "12000-01-01T00:00:00"},
        "started_at",
        "not a timestamp: '12000-01-01T00:00:00'",
    ),
    ({"input_tokens": -1}, "input_tokens", "not a non-negative integer: -1"),
    ({"output_tokens": float("nan")}, "output_tokens", "not a non-negative integer: nan"),
    ({"reasoning_tokens": "many"}, "reasoning_tokens", "not a non-negative integer: 'many'"),
    ({"cached_input_tokens": 1.5}, "cached_input_tokens", "not a non-negative integer: 1.5"),
    ({"cache_write_tokens": True}, "cache_write_tokens", "not a non-negative integer: True"),
    ({"tool_calls": "-2"}, "tool_calls", "not a non-negative integer: '-2'"),
    ({"duration_ms": -3}, "duration_ms", "not a non-negative number: -3"),
    ({"ttft_ms": "fast"}, "ttft_ms", "not a non-negative number: 'fast'"),
    ({"cost_usd": -0.01}, "cost_usd", "not a non-negative number: -0.01"),
    ({"cost_usd": float("inf")}, "cost_usd", "not a non-negative number: inf"),
    ({"http_status": 999}, "http_status", "not an HTTP status: 999"),
    ({"status": "maybe"}, "status", "not 'ok' or 'error': 'maybe'"),
    ({"model": {"name": "gpt-4o"}}, "model", "not a string: {'name': 'gpt-4o'}"),
    ({"stream": "yes"}, "stream", "not a boolean: 'yes'"),
    ({"stream": 1}, "stream", "not a boolean: 1"),
    ({"reasoning_level": ["high"]}, "reasoning_level", "not a string: ['high']"),
    ({"server_address": {"host": "x"}}, "server_address", "not a string: {'host': 'x'}"),
]


@pytest.mark.parametrize(("override", "field", "detail"), FIELD_ERRORS)
def test_field_errors_name_the_field_and_spare_the_good_records(
    override: dict[str, Any], field: str, detail: str
) -> None:
    items: list[object] = [canonical(request_id="good-0"), canonical(**override)]
    items.append(canonical(request_id="good-2"))
    records, errors = map_request_logs(items, received_at_us=RECEIVED)
    assert [r["request_id"] for r in records] == ["good-0", "good-2"]
    assert errors == [RecordError(1, field, f"record 1: {field}: {detail}")]


def test_openrouter_field_errors_name_the_field() -> None:
    items: list[object] = [
        {"id": "gen-1", "created_at": "2025-11-03T09:00:00Z", "provider_name": "OpenAI",
         "cancelled": "maybe"},
        {"id": "gen-2", "provider_name": "OpenAI", "created_at": "2025-11-03T09:00:00Z",
         "tokens_prompt": -4},
        {"provider_name": "OpenAI", "created_at": "2025-11-03T09:00:00Z"},
        {"id": "gen-4", "provider_name": "OpenAI", "created_at": "2025-11-03T09:00:00Z",
         "total_cost": -0.5},
        {"id": "gen-5", "provider_name": "OpenAI", "created_at": "2025-11-03T09:00:00Z",
         "usage": "NaN"},
    ]  # fmt: skip
    _, errors = map_request_logs(items, received_at_us=RECEIVED)
    assert [e.message for e in errors] == [
        "record 0: cancelled: not a boolean: 'maybe'",
        "record 1: tokens_prompt: not a non-negative integer: -4",
        "record 2: id: required, a non-empty string",
        "record 3: total_cost: not a non-negative number: -0.5",
        "record 4: usage: not a non-negative number: 'NaN'",
    ]


# --- canonical record rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("started_at", "expected_us"),
    [
        ("2025-11-03T09:00:00Z", 1_762_160_400_000_000),
        ("2025-11-03T10:00:00+01:00", 1_762_160_400_000_000),
        ("2025-11-03T09:00:00", 1_762_160_400_000_000),  # naive = UTC
        ("2025-11-03 09:00:00.25", 1_762_160_400_250_000),
        ("2025-11-03T09:00:00.123456789Z", 1_762_160_400_123_456),  # nanoseconds cut
        (1_762_160_400, 1_762_160_400_000_000),  # seconds
        (1_762_160_400.5, 1_762_160_400_500_000),
        (1_762_160_400_250, 1_762_160_400_250_000),  # milliseconds
        (1_762_160_400_250_001, 1_762_160_400_250_001),  # microseconds
        (1_762_160_400_250_001_999, 1_762_160_400_250_001),  # nanoseconds
        ("1762160400", 1_762_160_400_000_000),  # digits in a string
    ],
)
def test_started_at_forms(started_at: object, expected_us: int) -> None:
    records, errors = map_request_logs([canonical(started_at=started_at)], received_at_us=RECEIVED)
    assert errors == []
    assert records[0]["started_at"] == expected_us


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({}, {"status": "ok", "error_type": None, "finish_reason": None}),
        (
            {"http_status": 429},
            {"status": "error", "error_type": "rate_limit", "finish_reason": "error"},
        ),
        ({"http_status": 200}, {"status": "ok", "error_type": None, "finish_reason": None}),
        (
            {"error_type": "overloaded_error", "http_status": 500},
            {"status": "error", "error_type": "overloaded", "finish_reason": "error"},
        ),
        ({"status": "error"}, {"status": "error", "error_type": "other", "finish_reason": "error"}),
        (
            {"status": "ERROR", "http_status": 504},
            {"status": "error", "error_type": "timeout", "finish_reason": "error"},
        ),
        # an explicit ok status wins; an ok request has no error type
        (
            {"status": "ok", "error_type": "rate_limit"},
            {"status": "ok", "error_type": None, "finish_reason": None},
        ),
        (
            {"finish_reason": "cancelled"},
            {"status": "error", "error_type": "cancelled", "finish_reason": "cancelled"},
        ),
        (
            {"error_type": "ClientDisconnect"},
            {"status": "error", "error_type": "cancelled", "finish_reason": "cancelled"},
        ),
        (
            {"native_finish_reason": "error"},
            {"status": "error", "error_type": "other", "finish_reason": "error"},
        ),
    ],
)
def test_canonical_status_and_error_defaults(
    override: dict[str, Any], expected: dict[str, Any]
) -> None:
    records, _ = map_request_logs([canonical(**override)], received_at_us=RECEIVED)
    assert {k: records[0][k] for k in expected} == expected


@pytest.mark.parametrize(
    ("override", "finish_reason", "native"),
    [
        ({"native_finish_reason": "end_turn"}, "stop", "end_turn"),
        ({"finish_reason": "tool-calls"}, "tool_calls", "tool-calls"),
        # a recognised native reason is kept; an unknown one yields to the given label
        ({"native_finish_reason": "MAX_TOKENS", "finish_reason": "stop"}, "length", "MAX_TOKENS"),
        ({"native_finish_reason": "eos_x", "finish_reason": "stop"}, "stop", "eos_x"),
        ({"native_finish_reason": "eos_x"}, "other", "eos_x"),
        # tool calls counted beat the reason
        ({"native_finish_reason": "STOP", "tool_calls": 1}, "tool_calls", "STOP"),
        ({"native_finish_reason": "STOP", "tool_calls": 0}, "stop", "STOP"),
    ],
)
def test_canonical_finish_reason(override: dict[str, Any], finish_reason: str, native: str) -> None:
    records, _ = map_request_logs([canonical(**override)], received_at_us=RECEIVED)
    assert (records[0]["finish_reason"], records[0]["native_finish_reason"]) == (
        finish_reason,
        native,
    )


def test_canonical_raw_and_canonical_provider_and_model() -> None:
    items: list[object] = [
        canonical(request_id="a", provider="Amazon Bedrock",
                  model="anthropic.claude-3-haiku-20240307-v1:0"),
        canonical(request_id="b", provider_raw="aws.bedrock",
                  model_raw="us.anthropic.claude-opus-4-1-20250805-v1:0"),
        canonical(request_id="c", provider="amazon-bedrock", provider_raw="bedrock",
                  model="anthropic/claude-opus-4.1", model_raw="claude-opus-4-1@20250805"),
    ]  # fmt: skip
    records, _ = map_request_logs(items, received_at_us=RECEIVED)
    picked = [(r["provider"], r["provider_raw"], r["model"], r["model_raw"]) for r in records]
    assert picked == [
        ("amazon-bedrock", "Amazon Bedrock", "anthropic/claude-3-haiku",
         "anthropic.claude-3-haiku-20240307-v1:0"),
        ("amazon-bedrock", "aws.bedrock", "anthropic/claude-opus-4.1",
         "us.anthropic.claude-opus-4-1-20250805-v1:0"),
        ("amazon-bedrock", "bedrock", "anthropic/claude-opus-4.1", "claude-opus-4-1@20250805"),
    ]  # fmt: skip


def test_canonical_numbers_as_strings_and_unknown_keys_ignored() -> None:
    item = canonical(input_tokens="120", output_tokens=" 30 ", duration_ms="812.5",
                     http_status="200", prompt="secret text", cost_usd="0.125")  # fmt: skip
    records, errors = map_request_logs([item], received_at_us=RECEIVED, tenant="acme")
    assert errors == []
    assert whole(records[0]) == row(
        request_id="r1",
        started_at=1_762_160_400_000_000,
        duration_ms=812.5,
        input_tokens=120,
        output_tokens=30,
        http_status=200,
        status="ok",
        tenant="acme",
        cost_usd=0.125,
        source="requests:canonical",
        ingested_at=RECEIVED,
    )


@pytest.mark.parametrize(("given", "stored"), [(True, True), ("FALSE", False), (None, None)])
def test_canonical_request_details(given: object, stored: bool | None) -> None:
    item = canonical(
        reasoning_level="xhigh", stream=given, server_address="api.anthropic.com", tool_calls=0
    )
    records, errors = map_request_logs([item], received_at_us=RECEIVED)
    assert errors == []
    assert whole(records[0]) == row(
        request_id="r1",
        started_at=1_762_160_400_000_000,
        tool_calls=0,
        status="ok",
        reasoning_level="xhigh",
        stream=stored,
        server_address="api.anthropic.com",
        source="requests:canonical",
        ingested_at=RECEIVED,
    )


def test_a_canonical_record_and_its_span_give_the_same_row() -> None:
    """The first span of spans/genai_semconv_genai.json, logged by a gateway as a canonical
    record: the same row but for where it came from."""
    spans = orjson.loads((EXAMPLES / "conventions/spans/genai_semconv_genai.json").read_bytes())
    span = spans["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span_rows = prepare_traces(orjson.dumps(spans), JSON).table.to_pylist()
    item = {
        "request_id": "chatcmpl-Semconv142Stream01",
        "trace_id": span["traceId"],
        "span_id": span["spanId"],
        "started_at": "2025-11-03T09:00:00Z",
        "duration_ms": 4200,
        "ttft_ms": 350,
        "provider": "openai",
        "model_raw": "gpt-5-2025-08-07",
        "native_finish_reason": "stop",
        "input_tokens": 3000,
        "output_tokens": 800,
        "reasoning_tokens": 512,
        "cached_input_tokens": 1024,
        "cache_write_tokens": 256,
        "tool_calls": 0,
        "app": "semconv-client",
        "reasoning_level": "high",
        "stream": True,
        "server_address": "api.openai.com",
    }
    records, errors = map_request_logs([item], received_at_us=RECEIVED)
    assert errors == []
    (canonical_row,) = records_to_table(records).to_pylist()
    differing = {"source", "ingested_at"}
    assert {k: v for k, v in canonical_row.items() if k not in differing} == {
        k: v for k, v in span_rows[0].items() if k not in differing
    }


# --- OpenRouter generation records -----------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        {"id": "x1", "tokens_prompt": 3},
        {"id": "x1", "provider_name": "OpenAI"},
        {"id": "gen-123", "native_finish_reason": "stop"},
        {"data": {"id": "gen-123", "provider_name": "OpenAI"}},
    ],
)
def test_openrouter_detection(item: dict[str, Any]) -> None:
    _, errors = map_request_logs([item], received_at_us=RECEIVED)
    # recognised as OpenRouter: the complaint is about its own required field, not the shape
    assert [e.field for e in errors] == ["created_at"]


def test_openrouter_is_not_claimed_without_its_markers() -> None:
    _, errors = map_request_logs(
        [{"id": "chatcmpl-1", "native_finish_reason": "stop"}], received_at_us=RECEIVED
    )
    assert errors == [RecordError(0, None, f"record 0: {UNRECOGNISED_SHAPE}")]


def test_openrouter_fallbacks() -> None:
    item = {
        "id": "gen-9",
        "created_at": "2025-11-03T09:00:00Z",
        "provider_name": "Together",
        "model": "meta-llama/llama-3.3-70b-instruct",
        "latency": None,
        "generation_time": 1500,
        "tokens_prompt": 100,
        "tokens_completion": 20,
        "native_tokens_prompt": None,
        "native_tokens_reasoning": None,
        "native_tokens_cached": None,
        "finish_reason": "stop",
        "user": "u1",
        "tool_calls": 0,
        "total_cost": 0.0042,
        "usage": 0.0099,  # `total_cost` wins
    }
    records, errors = map_request_logs([item], received_at_us=RECEIVED)
    assert errors == []
    assert whole(records[0]) == row(
        request_id="gen-9",
        started_at=1_762_160_400_000_000,
        duration_ms=1500.0,
        provider="together",
        provider_raw="Together",
        model="meta-llama/llama-3.3-70b-instruct",
        model_raw="meta-llama/llama-3.3-70b-instruct",
        finish_reason="stop",
        native_finish_reason="stop",
        input_tokens=100,
        output_tokens=20,
        tool_calls=0,
        status="ok",
        user_id="u1",
        cost_usd=0.0042,
        source="requests:openrouter",
        ingested_at=RECEIVED,
    )


@pytest.mark.parametrize(
    ("error", "http_status", "error_type"),
    [
        ({"code": 502, "message": "Provider returned error"}, 502, "server_error"),
        (
            {"code": 400, "metadata": {"error_type": "context_length_exceeded"}},
            400,
            "context_length",
        ),
        ({"code": "rate_limit_exceeded"}, None, "rate_limit"),
        ("provider_unavailable", None, "connection"),
    ],
)
def test_openrouter_error_objects_are_classified(
    error: object, http_status: int | None, error_type: str
) -> None:
    item = {"id": "gen-e", "created_at": "2025-11-03T09:00:00Z", "provider_name": "Groq",
            "error": error}  # fmt: skip
    records, _ = map_request_logs([item], received_at_us=RECEIVED)
    picked = {k: records[0][k] for k in ("status", "http_status", "error_type", "finish_reason")}
    assert picked == {
        "status": "error",
        "http_status": http_status,
        "error_type": error_type,
        "finish_reason": "error",
    }


# --- the committed examples, whole rows ------------------------------------------------------


def load_example(name: str, tenant: str | None = "acme") -> list[Record]:
    records, errors = map_body((EXAMPLES / name).read_bytes(), tenant=tenant)
    assert errors == []
    records_to_table(records)  # every row fits the Arrow schema of the requests table
    return [whole(r) for r in records]


def test_canonical_example_rows() -> None:
    common = {"tenant": "acme", "source": "requests:canonical", "ingested_at": RECEIVED}
    assert load_example("requests_canonical.jsonl") == [
        row(request_id="msg_01XFDUDYJgAACzvnptvVoYEL", started_at=1_762_161_247_412_000,
            duration_ms=8412.5, ttft_ms=1130.0, provider="anthropic", provider_raw="anthropic",
            model="anthropic/claude-sonnet-4.5", model_raw="claude-sonnet-4-5-20250929",
            finish_reason="tool_calls", native_finish_reason="tool_use", input_tokens=18230,
            output_tokens=941, reasoning_tokens=512, cached_input_tokens=16384,
            cache_write_tokens=1024, tool_calls=2, status="ok", app="code-review-bot",
            user_id="u_4821", session_id="sess_7f3a", **common),
        row(request_id="bedrock-7c1e9a52-3b0d-4f5e-9a61-0c2d8e4b7f10",
            started_at=1_762_161_310_250_000, duration_ms=2210.0, provider="amazon-bedrock",
            provider_raw="aws.bedrock", model="anthropic/claude-3.5-haiku",
            model_raw="us.anthropic.claude-3-5-haiku-20241022-v1:0", finish_reason="stop",
            native_finish_reason="end_turn", input_tokens=1450, output_tokens=212, tool_calls=0,
            status="ok", app="support-triage", **common),
        row(request_id="chatcmpl-CXk2pQ9vF3mT0aLrZb8sNw1yHe", started_at=1_762_157_742_000_000,
            duration_ms=5120.75, provider="openai", provider_raw="OpenAI",
            model="openai/gpt-5-mini", model_raw="gpt-5-mini-2025-08-07", finish_reason="stop",
            native_finish_reason="stop", input_tokens=3200, output_tokens=1480,
            reasoning_tokens=1216, cached_input_tokens=0, tool_calls=0, status="ok",
            app="docs-assistant", user_id="u_0193", **common),
        row(request_id="vertex-5f0c2a7e-91d4-4c36-a8b2-3e7d61f0c9aa",
            started_at=1_762_161_360_000_001, duration_ms=310.0, provider="google-vertex",
            provider_raw="gcp.vertex_ai", model="google/gemini-2.5-flash",
            model_raw="gemini-2.5-flash", finish_reason="error", tool_calls=0, status="error",
            error_type="rate_limit", http_status=429, app="docs-assistant", **common),
        row(request_id="azure-3e8b1d44-0f6a-4d2b-bb1e-8a9c2f5d7e31",
            started_at=1_762_161_450_000_000, duration_ms=30544.0, provider="azure",
            provider_raw="azure.ai.openai", model="openai/gpt-4.1", model_raw="gpt-4.1",
            finish_reason="length", native_finish_reason="length", input_tokens=9120,
            output_tokens=4096, tool_calls=0, status="ok", app="report-writer", **common),
    ]  # fmt: skip


def test_openrouter_example_rows() -> None:
    common = {"tenant": None, "source": "requests:openrouter", "ingested_at": RECEIVED}
    assert load_example("requests_openrouter.jsonl", tenant=None) == [
        row(request_id="gen-1762161402-aQ7rT2kLmN9pXzB4cD1e", started_at=1_762_161_402_318_000,
            duration_ms=1240.0, provider="amazon-bedrock", provider_raw="Amazon Bedrock",
            model="anthropic/claude-sonnet-4.5", model_raw="anthropic/claude-sonnet-4.5",
            finish_reason="tool_calls", native_finish_reason="tool_use", input_tokens=20544,
            output_tokens=702, cached_input_tokens=16384, status="ok", app="2872617",
            user_id="u_4821", cost_usd=0.07176, stream=True, **common),
        row(request_id="gen-1762161455-Hj3kL9mNq2RsT5uVw8xY", started_at=1_762_161_455_004_000,
            duration_ms=6350.0, provider="openai", provider_raw="OpenAI",
            model="openai/gpt-5-mini", model_raw="openai/gpt-5-mini", finish_reason="stop",
            native_finish_reason="stop", input_tokens=2890, output_tokens=1544,
            reasoning_tokens=1280, cached_input_tokens=1024, tool_calls=0, status="ok",
            app="2872617", cost_usd=0.003811, stream=False, **common),
        row(request_id="gen-1762161490-Zx8cV7bN6mQ5wE4rT3yU", started_at=1_762_161_490_550_000,
            duration_ms=980.0, provider="fireworks", provider_raw="Fireworks",
            model="qwen/qwen3-coder", model_raw="qwen/qwen3-coder", finish_reason="cancelled",
            input_tokens=11872, output_tokens=296, tool_calls=0, status="error",
            error_type="cancelled", user_id="u_0193", cost_usd=0.00612, stream=True, **common),
        row(request_id="gen-1762161533-Pq1wE2rT3yU4iO5pA6sD", started_at=1_762_161_533_120_000,
            duration_ms=412.0, provider="google-ai-studio", provider_raw="Google AI Studio",
            model="google/gemini-2.5-flash", model_raw="google/gemini-2.5-flash",
            finish_reason="error", native_finish_reason="error", input_tokens=0,
            output_tokens=0, tool_calls=0, status="error", error_type="rate_limit", http_status=429,
            app="2872617", cost_usd=0.0, stream=False, **common),
        row(request_id="gen-1762161590-Lk9jH8gF7dS6aP5oI4uY", started_at=1_762_161_590_777_000,
            duration_ms=15400.0, provider="deepinfra", provider_raw="DeepInfra",
            model="deepseek/deepseek-chat-v3.1", model_raw="deepseek/deepseek-chat-v3.1",
            finish_reason="length", native_finish_reason="length", input_tokens=6015,
            output_tokens=8192, cached_input_tokens=4096, tool_calls=0, status="ok", app="2872617",
            cost_usd=0.00901, stream=True, **common),
    ]  # fmt: skip


def test_array_example_rows() -> None:
    common = {"tenant": "acme", "ingested_at": RECEIVED}
    assert load_example("requests_array.json") == [
        row(request_id="resp_68f0a1c2d3e4f5a6b7c8d9e0", started_at=1_762_164_131_250_000,
            duration_ms=14210.0, provider="openai", provider_raw="openai", model="openai/o3",
            model_raw="o3-2025-04-16", finish_reason="tool_calls",
            native_finish_reason="completed", input_tokens=5400, output_tokens=3120,
            reasoning_tokens=2688, tool_calls=1, status="ok", app="research-agent",
            session_id="sess_b21c", source="requests:canonical", **common),
        row(request_id="groq-01k8x2y3z4a5b6c7d8e9f0g1h2", started_at=1_762_164_200_000_000,
            duration_ms=640.0, ttft_ms=95.0, provider="groq", provider_raw="Groq",
            model="meta-llama/llama-3.3-70b-versatile", model_raw="llama-3.3-70b-versatile",
            finish_reason="stop", native_finish_reason="stop", input_tokens=830,
            output_tokens=154, tool_calls=0, status="ok", app="support-triage",
            source="requests:canonical", **common),
        row(request_id="gen-1762164260-Mn7bV6cX5zL4kJ3hG2fD", started_at=1_762_164_260_900_000,
            duration_ms=2210.0, provider="xai", provider_raw="xAI",
            model="x-ai/grok-code-fast-1", model_raw="x-ai/grok-code-fast-1",
            finish_reason="tool_calls", native_finish_reason="tool_calls", input_tokens=4388,
            output_tokens=915, reasoning_tokens=640, cached_input_tokens=3968, status="ok",
            app="3310452", source="requests:openrouter", cost_usd=0.00151, stream=True, **common),
    ]  # fmt: skip
