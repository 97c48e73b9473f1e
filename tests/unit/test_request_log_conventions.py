"""LiteLLM payloads and wrapped provider responses on `/v1/requests`: whole rows from the
committed examples, field errors by path, detection by shape, content never stored."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from ingest.app import create_app
from ingest.conventions.responses.provider_error import RECOGNISED_RESPONSES
from ingest.payloads import now_us, prepare_request_logs
from ingest.record import Record
from ingest.request_logs import RecordError, map_request_logs
from ingest.writer import BatchWriter
from tests.unit.test_request_logs import RECEIVED, row
from warehouse.db import Warehouse

EXAMPLES = Path(__file__).resolve().parents[2] / "sample_data" / "examples" / "conventions"
FIXTURES = EXAMPLES / "requests"
CANARY = "CANARY-7f3a"


def at(rfc3339: str) -> datetime:
    return datetime.fromisoformat(rfc3339).astimezone(UTC)


def quality(valid: int, invalid_json: int = 0, unknown: int = 0, mismatch: int = 0) -> Record:
    return {
        "tool_calls_valid": valid,
        "tool_calls_invalid_json": invalid_json,
        "tool_calls_unknown_tool": unknown,
        "tool_calls_schema_mismatch": mismatch,
    }


EXPECTED: dict[str, Record] = {
    "litellm_success_stream.json": row(
        request_id="chatcmpl-CZ9q1LxT4bWm2nRk7sVd0eYfHg", started_at=at("2025-11-03T09:00:00.125Z"),
        duration_ms=2750.0, ttft_ms=485.0, provider="openai", provider_raw="openai",
        model="openai/gpt-4.1", model_raw="gpt-4.1-2025-04-14", finish_reason="tool_calls",
        native_finish_reason="tool_calls", input_tokens=1320, output_tokens=160,
        reasoning_tokens=0, cached_input_tokens=1024, tool_calls=2, status="ok",
        app="travel-planner", user_id="u_5531", source="requests:litellm", cost_usd=0.00312,
        stream=True, **quality(1, invalid_json=1)),
    # non-streaming: completionStartTime is LiteLLM's copy of endTime, not a first token
    "litellm_success.json": row(
        request_id="chatcmpl-8e6b0c1a-41f2-4d7e-9b3a-5c2f7e1d9a04",
        started_at=at("2025-11-03T09:00:30Z"), duration_ms=6500.0, provider="anthropic",
        provider_raw="anthropic", model="anthropic/claude-sonnet-4.5",
        model_raw="claude-sonnet-4-5-20250929", finish_reason="stop", native_finish_reason="stop",
        input_tokens=14210, output_tokens=842, reasoning_tokens=512, cached_input_tokens=12288,
        cache_write_tokens=1536, tool_calls=0, status="ok", app="code-review",
        session_id="sess_40d1", source="requests:litellm", cost_usd=0.0213),
    "litellm_failure.json": row(
        request_id="6c2d9e1f-7a3b-4c5d-8e9f-0a1b2c3d4e5f", started_at=at("2025-11-03T09:01:00.5Z"),
        duration_ms=312.0, provider="azure", provider_raw="azure", model="openai/gpt-4o-mini",
        model_raw="azure/gpt-4o-mini", finish_reason="error", tool_calls=0,
        status="error", error_type="rate_limit", http_status=429, app="docs-assistant",
        user_id="u_0193", source="requests:litellm", cost_usd=0.0),
    "openai_chat_tool_calls.json": row(
        request_id="chatcmpl-CZ3tU8wE1rY6iO0pA5sD9fG2hJ", started_at=at("2025-11-03T09:02:00.25Z"),
        duration_ms=1840.0, provider="openai", provider_raw="openai", model="openai/gpt-4o",
        model_raw="gpt-4o-2024-08-06", finish_reason="tool_calls",
        native_finish_reason="tool_calls", input_tokens=2140, output_tokens=58,
        reasoning_tokens=0, cached_input_tokens=0, tool_calls=2, status="ok",
        app="support-triage", user_id="u_4821", session_id="sess_7f3a",
        source="requests:openai-chat", **quality(1, mismatch=1)),
    "openai_chat_reasoning_cached.json": row(
        request_id="chatcmpl-CY0bR7hJ2kQ8sW4eT6uN1mV9xL", started_at=at("2025-11-03T09:02:05.5Z"),
        duration_ms=18240.5, ttft_ms=2950.0, provider="openai", provider_raw="openai",
        model="openai/o4-mini", model_raw="o4-mini-2025-04-16", finish_reason="stop",
        native_finish_reason="stop", input_tokens=9850, output_tokens=1730,
        reasoning_tokens=1408, cached_input_tokens=8192, tool_calls=0, status="ok",
        app="docs-assistant", source="requests:openai-chat"),
    # no `provider` in the envelope: the Responses API is OpenAI's
    "openai_responses_completed.json": row(
        request_id="resp_68f0b7c1e2d3a4f5b6c7d8e9", started_at=at("2025-11-03T09:03:10Z"),
        duration_ms=14210.0, provider="openai", model="openai/o3", model_raw="o3-2025-04-16",
        finish_reason="stop", native_finish_reason="completed", input_tokens=5400,
        output_tokens=3120, reasoning_tokens=2688, cached_input_tokens=2048, tool_calls=0,
        status="ok", app="research-agent", session_id="sess_b21c",
        source="requests:openai-responses"),
    "openai_responses_incomplete.json": row(
        request_id="resp_68f0a2d4e5f60718293a4b5c", started_at=at("2025-11-03T09:04:00Z"),
        duration_ms=61020.0, provider="openai", provider_raw="openai", model="openai/gpt-5",
        model_raw="gpt-5-2025-08-07", finish_reason="length",
        native_finish_reason="max_output_tokens", input_tokens=5120, output_tokens=4096,
        reasoning_tokens=4096, cached_input_tokens=0, tool_calls=0, status="ok",
        app="report-writer", source="requests:openai-responses"),
    "openai_responses_function_calls.json": row(
        request_id="resp_68f0a3e5f6a7b8c9d0e1f2a3", started_at=at("2025-11-03T09:05:30.5Z"),
        duration_ms=2310.0, ttft_ms=880.0, provider="azure", provider_raw="azure.ai.openai",
        model="openai/gpt-5-mini", model_raw="gpt-5-mini-2025-08-07", finish_reason="tool_calls",
        native_finish_reason="completed", input_tokens=1880, output_tokens=410,
        reasoning_tokens=320, cached_input_tokens=1536, tool_calls=2, status="ok",
        app="travel-planner", user_id="u_5531", source="requests:openai-responses",
        **quality(1, unknown=1)),
    "anthropic_messages_cache_tool_use.json": row(
        request_id="msg_01Kq7ZrT5wXe9bN3cV6mL2pD", started_at=at("2025-11-03T09:14:07.412Z"),
        duration_ms=8412.5, ttft_ms=1130.0, provider="anthropic", provider_raw="anthropic",
        model="anthropic/claude-sonnet-4.5", model_raw="claude-sonnet-4-5-20250929",
        finish_reason="tool_calls", native_finish_reason="tool_use",
        input_tokens=412 + 16384 + 1024, output_tokens=941, reasoning_tokens=620,
        cached_input_tokens=16384, cache_write_tokens=1024, tool_calls=1, status="ok",
        app="code-review-bot", user_id="u_4821", source="requests:anthropic-messages",
        **quality(1)),
    "anthropic_messages_refusal.json": row(
        request_id="msg_01Rf8sQnW3kE5tY7uI9oP1aS", started_at=at("2025-11-03T09:15:00Z"),
        duration_ms=1420.0, provider="anthropic", provider_raw="anthropic",
        model="anthropic/claude-opus-4.1", model_raw="claude-opus-4-1-20250805",
        finish_reason="content_filter", native_finish_reason="refusal", input_tokens=310,
        output_tokens=12, cached_input_tokens=0, cache_write_tokens=0, tool_calls=0,
        status="ok", app="support-triage", source="requests:anthropic-messages"),
    "gemini_function_call.json": row(
        request_id="yP0HaaKoFe6MnvgP3rWx0Qs", started_at=at("2025-11-03T09:16:20.125Z"),
        duration_ms=690.0, provider="google-ai-studio", provider_raw="gemini",
        model="google/gemini-2.5-flash", model_raw="gemini-2.5-flash", finish_reason="tool_calls",
        native_finish_reason="STOP", input_tokens=640, output_tokens=18, tool_calls=1,
        status="ok", app="travel-planner", source="requests:gemini", **quality(1)),
    "gemini_thoughts.json": row(
        request_id="Kf0HacrGA4Sp2PgPjdq1mAU", started_at=at("2025-11-03T09:17:45Z"),
        duration_ms=12850.0, ttft_ms=7020.0, provider="google-vertex", provider_raw="vertex_ai",
        model="google/gemini-2.5-pro", model_raw="gemini-2.5-pro", finish_reason="stop",
        native_finish_reason="STOP", input_tokens=5210, output_tokens=402 + 1210,
        reasoning_tokens=1210, cached_input_tokens=4096, tool_calls=0, status="ok",
        app="docs-assistant", session_id="sess_9e21", source="requests:gemini"),
    # latency from the response's metrics.latencyMs; id from boto3's ResponseMetadata
    "bedrock_converse_cache_tool_use.json": row(
        request_id="7c1e9a52-3b0d-4f5e-9a61-0c2d8e4b7f10", started_at=at("2025-11-03T09:18:30.75Z"),
        duration_ms=1935.0, provider="amazon-bedrock", provider_raw="bedrock",
        model="anthropic/claude-3.7-sonnet",
        model_raw="us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        finish_reason="tool_calls", native_finish_reason="tool_use",
        input_tokens=220 + 3072 + 512, output_tokens=96, cached_input_tokens=3072,
        cache_write_tokens=512, tool_calls=1, status="ok", app="finance-bot",
        source="requests:bedrock-converse", **quality(1)),
    "failed_anthropic_overloaded_529.json": row(
        request_id="req_011CUkZ2kq8QpR5vX7yB3nDw", started_at=at("2025-11-03T09:20:00Z"),
        duration_ms=1210.0, provider="anthropic", provider_raw="anthropic",
        model="anthropic/claude-opus-4.1", model_raw="claude-opus-4-1-20250805",
        finish_reason="error", tool_calls=0, status="error", error_type="overloaded",
        http_status=529,
        app="code-review-bot", source="requests:provider-error"),
    # no id anywhere: a hash of the record (this value must never change: it is the dedupe key)
    "failed_gemini_rate_limit_429.json": row(
        request_id="sha256:68836ab2befb16dcb10d45271430215b",
        started_at=at("2025-11-03T09:21:10.5Z"), duration_ms=310.0, provider="google-ai-studio",
        provider_raw="gemini", model="google/gemini-2.5-flash", model_raw="gemini-2.5-flash",
        finish_reason="error", tool_calls=0, status="error", error_type="rate_limit",
        http_status=429, app="docs-assistant", source="requests:provider-error"),
}  # fmt: skip


def fixture_items() -> list[dict[str, Any]]:
    return [orjson.loads((FIXTURES / name).read_bytes()) for name in EXPECTED]


def jsonl(*items: object) -> bytes:
    return b"\n".join(orjson.dumps(item) for item in items)


def test_every_fixture_has_an_expected_row() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_gives_the_exact_row(name: str) -> None:
    before = now_us()
    prepared = prepare_request_logs((FIXTURES / name).read_bytes(), tenant=None)
    assert (prepared.received, prepared.rejected, prepared.errors) == (1, 0, [])
    [stored] = prepared.table.to_pylist()
    ingested_at = stored.pop("ingested_at")
    assert before <= (ingested_at - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1e6
    assert stored == {k: v for k, v in EXPECTED[name].items() if k != "ingested_at"}


# --- prompt and completion content never reach a row ------------------------------------------

# String fields that hold prompt or completion text in some fixture, and tool-argument objects.
TEXT_FIELDS = frozenset({"content", "text", "thinking", "reasoning_content", "arguments",
                         "refusal", "message", "error_message", "error_str"})  # fmt: skip
ARGUMENT_OBJECTS = frozenset({"args", "input"})


def content_values(value: Any) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if (key in TEXT_FIELDS and isinstance(inner, str) and inner) or (
                key in ARGUMENT_OBJECTS and isinstance(inner, dict)
            ):
                found.append(inner)
            found.extend(content_values(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(content_values(inner))
    return found


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_content_fields_carry_the_canary_and_never_reach_the_table(name: str) -> None:
    body = (FIXTURES / name).read_bytes()
    values = content_values(orjson.loads(body))
    assert values, "every fixture has prompt or completion content"
    assert all(CANARY in orjson.dumps(v).decode() for v in values)
    table = prepare_request_logs(body).table
    assert CANARY not in str(table.to_pylist())


# --- a mixed body: every kind, two bad records ------------------------------------------------

BAD_ANTHROPIC = {
    "started_at": "2025-11-03T09:30:00Z",
    "response": {"type": "message", "id": "msg_bad", "stop_reason": "end_turn",
                 "usage": {"input_tokens": "many", "output_tokens": 3}},
}  # fmt: skip
BAD_LITELLM = {"id": "litellm-bad", "call_type": "completion", "startTime": "yesterday"}
BAD_ERRORS = [
    RecordError(3, "response.usage.input_tokens",
                "record 3: response.usage.input_tokens: not a non-negative integer: 'many'"),
    RecordError(9, "startTime", "record 9: startTime: not a timestamp: 'yesterday'"),
]  # fmt: skip


def mixed_body() -> bytes:
    items: list[object] = fixture_items()
    items.insert(3, BAD_ANTHROPIC)
    items.insert(9, BAD_LITELLM)
    return jsonl(*items)


def expected_ids() -> list[str]:
    return sorted(r["request_id"] for r in EXPECTED.values())


def test_mixed_jsonl_stores_every_good_record_and_names_the_bad_fields() -> None:
    prepared = prepare_request_logs(mixed_body())
    assert (prepared.received, prepared.rejected) == (len(EXPECTED) + 2, 2)
    assert prepared.record_errors == BAD_ERRORS
    stored = {r["request_id"]: r for r in prepared.table.to_pylist()}
    assert sorted(stored) == expected_ids()
    for expected in EXPECTED.values():
        assert stored[expected["request_id"]]["source"] == expected["source"]


def test_mixed_jsonl_over_http_is_stored_once(writer: BatchWriter, warehouse: Warehouse) -> None:
    client = TestClient(create_app(writer))
    for _ in range(2):  # re-sent: the same rows, no duplicates (ids from the records or hashes)
        response = client.post("/v1/requests", content=mixed_body())
        assert response.status_code == 200
        answer = response.json()
        assert answer["accepted"] == len(EXPECTED)
        assert [(e["index"], e["field"], e["error"]) for e in answer["rejected"]] == [
            (e.index, e.field, e.message) for e in BAD_ERRORS
        ]
    rows = warehouse.cursor().execute("SELECT request_id FROM requests ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == expected_ids()


# --- ids ----------------------------------------------------------------------------------------


def map_items(*items: object) -> tuple[list[Record], list[RecordError]]:
    return map_request_logs(list(items), received_at_us=RECEIVED)


def test_a_hashed_id_ignores_key_order_and_spacing_but_not_content() -> None:
    item = orjson.loads((FIXTURES / "failed_gemini_rate_limit_429.json").read_bytes())
    reordered = dict(reversed(list(item.items())))
    records, _ = map_items(item, reordered, {**item, "latency_ms": 311})
    ids = [r["request_id"] for r in records]
    assert ids[0] == ids[1] == EXPECTED["failed_gemini_rate_limit_429.json"]["request_id"]
    assert ids[2] != ids[0] and ids[2].startswith("sha256:")


def test_the_envelope_request_id_wins_over_the_response_id() -> None:
    item = orjson.loads((FIXTURES / "openai_chat_tool_calls.json").read_bytes())
    records, _ = map_items({**item, "request_id": "gw-123"})
    assert records[0]["request_id"] == "gw-123"


# --- detection by shape ---------------------------------------------------------------------


def chat_completion(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-x", "object": "chat.completion", "model": "llama-3.3-70b-versatile",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "hi"}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5}, **overrides,
    }  # fmt: skip


def wrapped(response: object, **envelope: Any) -> dict[str, Any]:
    return {"started_at": "2025-11-03T09:00:00Z", "response": response, **envelope}


@pytest.mark.parametrize(
    ("item", "source", "provider"),
    [
        (wrapped(chat_completion(), provider="Groq"), "requests:openai-chat", "groq"),
        # many providers answer in chat format: no provider given, none guessed
        (wrapped(chat_completion()), "requests:openai-chat", None),
        (
            wrapped({"type": "message", "id": "msg_1", "stop_reason": "end_turn"},
                    provider="aws.bedrock"),
            "requests:anthropic-messages", "amazon-bedrock",
        ),
        (wrapped({"candidates": []}), "requests:gemini", "google-ai-studio"),
        (wrapped({"stopReason": "end_turn"}, model="amazon.nova-pro-v1:0"),
         "requests:bedrock-converse", "amazon-bedrock"),
        (wrapped({"object": "response", "status": "completed"}), "requests:openai-responses",
         "openai"),
    ],
)  # fmt: skip
def test_the_response_kind_comes_from_its_shape(
    item: dict[str, Any], source: str, provider: str | None
) -> None:
    records, errors = map_items(item)
    assert errors == []
    assert (records[0]["source"], records[0]["provider"]) == (source, provider)


def test_xai_chat_output_adds_the_reasoning_it_reports_apart() -> None:
    usage = {"prompt_tokens": 100, "completion_tokens": 40,
             "completion_tokens_details": {"reasoning_tokens": 300}}  # fmt: skip
    records, _ = map_items(
        wrapped(chat_completion(usage=usage), provider="xai"),
        wrapped(chat_completion(usage=usage), provider="openai"),
    )
    assert [(r["output_tokens"], r["reasoning_tokens"]) for r in records] == [(340, 300), (40, 300)]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            {"object": "response", "status": "failed", "error": {"code": "server_error"}},
            ("error", "server_error", "error", "failed"),
        ),
        (
            {"object": "response", "status": "cancelled"},
            ("error", "cancelled", "cancelled", "cancelled"),
        ),
        (
            {"object": "response", "status": "incomplete",
             "incomplete_details": {"reason": "content_filter"}},
            ("ok", None, "content_filter", "content_filter"),
        ),
        (
            {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 9}},
            ("ok", None, "content_filter", "SAFETY"),
        ),
        (
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"},
             "ResponseMetadata": {"RequestId": "b-1", "HTTPStatusCode": 400}},
            ("error", "rate_limit", "error", None),
        ),
        (
            {"error": {"code": 1001, "type": "overloaded_error"}},  # not an HTTP status
            ("error", "overloaded", "error", None),
        ),
        (
            {"error": {"message": "no", "type": "invalid_request_error",
                       "code": "context_length_exceeded"}},
            ("error", "context_length", "error", None),
        ),
    ],
)  # fmt: skip
def test_outcomes(response: dict[str, Any], expected: tuple[Any, ...]) -> None:
    records, errors = map_items(wrapped(response))
    assert errors == []
    record = records[0]
    picked = ("status", "error_type", "finish_reason", "native_finish_reason")
    assert tuple(record[k] for k in picked) == expected


def test_a_call_that_got_no_answer_is_an_error_row() -> None:
    records, _ = map_items(
        wrapped(None, provider="openai", model="gpt-4o", error="APIConnectionError")
    )
    record = records[0]
    assert (record["status"], record["error_type"], record["finish_reason"]) == (
        "error",
        "connection",
        "error",
    )
    assert (record["tool_calls"], record["input_tokens"]) == (0, None)
    assert record["source"] == "requests:provider-error"


# --- field errors -----------------------------------------------------------------------------

LITELLM_BASE = {"id": "l-1", "call_type": "completion", "startTime": 1762160400.0}

FIELD_ERRORS = [
    (wrapped(chat_completion(choices="x")), "response.choices", "not an array: 'x'"),
    (
        wrapped(chat_completion(choices=[{"message": {"tool_calls": [{}, {"function": "f"}]}}])),
        "response.choices.0.message.tool_calls.1.function",
        "not an object: 'f'",
    ),
    (
        wrapped({"object": "response",
                 "usage": {"output_tokens_details": {"reasoning_tokens": -3}}}),
        "response.usage.output_tokens_details.reasoning_tokens",
        "not a non-negative integer: -3",
    ),
    (
        wrapped({"candidates": [], "usageMetadata": {"thoughtsTokenCount": "lots"}}),
        "response.usageMetadata.thoughtsTokenCount",
        "not a non-negative integer: 'lots'",
    ),
    (
        wrapped({"stopReason": "end_turn",
                 "usage": {"inputTokens": 1, "cacheReadInputTokens": 1.5}}),
        "response.usage.cacheReadInputTokens",
        "not a non-negative integer: 1.5",
    ),
    (
        wrapped({"stopReason": "end_turn", "output": {"message": {"content": ["x"]}}}),
        "response.output.message.content.0",
        "not an object: 'x'",
    ),
    ({"response": chat_completion()}, "started_at", "required, a timestamp"),
    (wrapped("text"), "response", "not an object: 'text'"),
    (wrapped({"foo": 1}), "response", f"unrecognised response shape: {RECOGNISED_RESPONSES}"),
    (wrapped({"error": None}), "response", f"unrecognised response shape: {RECOGNISED_RESPONSES}"),
    (wrapped(None), "response", "null, but nothing says the call failed (error, http_status)"),
    (wrapped(chat_completion(), status="maybe"), "status", "not 'ok' or 'error': 'maybe'"),
    (wrapped(chat_completion(), latency_ms="slow"), "latency_ms",
     "not a non-negative number: 'slow'"),
    (wrapped(chat_completion(), error=[1]), "error", "not a string or an object: [1]"),
    (wrapped(chat_completion(), request={"toolConfig": 1}), "request.toolConfig",
     "not an object: 1"),
    ({**LITELLM_BASE, "status": "pending"}, "status", "not 'success' or 'failure': 'pending'"),
    ({**LITELLM_BASE, "endTime": 1762160399.0}, "endTime", "before startTime: 1762160399.0"),
    ({**LITELLM_BASE, "id": None}, "id", "required, a non-empty string"),
    ({**LITELLM_BASE, "metadata": "x"}, "metadata", "not an object: 'x'"),
    ({**LITELLM_BASE, "prompt_tokens": "ten"}, "prompt_tokens",
     "not a non-negative integer: 'ten'"),
    (
        {**LITELLM_BASE, "response": chat_completion(usage={"prompt_tokens_details": {
            "cached_tokens": "x"}})},
        "response.usage.prompt_tokens_details.cached_tokens",
        "not a non-negative integer: 'x'",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("item", "field", "detail"), FIELD_ERRORS)
def test_bad_fields_reject_the_record_with_their_path(
    item: dict[str, Any], field: str, detail: str
) -> None:
    good = wrapped(chat_completion())
    records, errors = map_items(good, item)
    assert len(records) == 1
    assert errors == [RecordError(1, field, f"record 1: {field}: {detail}")]
