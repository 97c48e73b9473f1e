"""LiteLLM's standard logging payload (`StandardLoggingPayload`, the object every LiteLLM
callback receives for a success or a failure), as LiteLLM's generic API / S3 / GCS loggers
export it. Fields: BerriAI/litellm litellm/types/utils.py and
docs/my-website/docs/proxy/logging_spec.md.

The counts LiteLLM computed (`prompt_tokens`, `completion_tokens`) are the row's input and
output; the provider response it logged (`response`, OpenAI chat format for `completion`
calls, the native shape for `/v1/messages` or `/v1/responses` passthrough) adds the finish
reason, tool calls, reasoning and cache counts. `messages` and the response text are never
read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingest.conventions.canonical import (
    FieldError,
    amount,
    boolean,
    count,
    resolve_outcome,
    text,
    timestamp_us,
)
from ingest.conventions.responses import envelope, provider_error
from ingest.conventions.responses.reading import (
    ResponseReading,
    choice,
    mapping,
    tool_columns,
    under,
)
from ingest.normalize import normalize_model, normalize_provider
from ingest.record import Record

SOURCE = "requests:litellm"
STATUSES = {"success": "ok", "failure": "error"}


def matches(item: Mapping[str, Any]) -> bool:
    return "call_type" in item and "startTime" in item


def _response(item: Mapping[str, Any], provider_raw: str | None) -> ResponseReading:
    """What the logged provider response adds; nothing when it is absent, text, or a shape
    that is not a provider response (LiteLLM logs `{}` for failures)."""
    response = item.get("response")
    if not isinstance(response, Mapping):
        return ResponseReading()
    kind = envelope.kind_of(response)
    if kind is provider_error.KIND:
        return ResponseReading()
    with under("response"):
        return kind.read(response, provider_raw)


def _error(item: Mapping[str, Any]) -> tuple[tuple[str | None, ...], int | None, str | None]:
    """Signals, HTTP status and provider from `error_information`: `error_class` (e.g.
    `RateLimitError`), `error_code`, which LiteLLM fills with the provider's HTTP status as a
    string ("429"), and `llm_provider`."""
    information = mapping(item, "error_information") or {}
    with under("error_information"):
        error_class = text(information, "error_class")
        error_code = text(information, "error_code")
        provider = text(information, "llm_provider")
    if error_code is not None and error_code.isdigit() and 100 <= int(error_code) <= 599:
        return (error_class,), int(error_code), provider
    return (error_class, error_code), None, provider


def _times(item: Mapping[str, Any]) -> tuple[int | None, float | None, float | None]:
    """Start (epoch seconds), total latency, and time to first token only when it is one:
    LiteLLM stamps `completionStartTime` on the first streamed chunk and, when there was none
    (every non-streaming call), copies `endTime` into it (litellm/litellm_core_utils/
    litellm_logging.py, `_success_handler_helper_fn`). A first chunk at the end is that copy."""
    start = timestamp_us(item, "startTime", required=True)
    end = timestamp_us(item, "endTime")
    first_chunk = timestamp_us(item, "completionStartTime")
    if end is None or start is None:
        return start, None, None
    if end < start:
        raise FieldError("endTime", f"before startTime: {item.get('endTime')!r}")
    ttft = None
    if first_chunk is not None and start <= first_chunk < end:
        ttft = (first_chunk - start) / 1000
    return start, (end - start) / 1000, ttft


def _tool_declarations(item: Mapping[str, Any]) -> Any:
    parameters = mapping(item, "model_parameters") or {}
    return parameters.get("tools")


def to_record(item: Mapping[str, Any]) -> Record:
    request_id = text(item, "id") or text(item, "litellm_call_id")
    if request_id is None:
        raise FieldError("id", "required, a non-empty string")
    started_at, duration_ms, ttft_ms = _times(item)
    error_signals, error_status, error_provider = _error(item)
    provider_raw = text(item, "custom_llm_provider") or error_provider
    reading = _response(item, provider_raw)
    model_raw = reading.model or text(item, "model") or text(item, "model_group")
    metadata = mapping(item, "metadata") or {}
    with under("metadata"):
        app = text(metadata, "user_api_key_alias") or text(metadata, "user_api_key_team_alias")
    status = choice(item, "status", STATUSES)
    prompt_tokens = count(item, "prompt_tokens")
    completion_tokens = count(item, "completion_tokens")
    if status == "error" and not prompt_tokens and not completion_tokens:
        # LiteLLM logs zero counts for a call that failed before any answer: none reported.
        prompt_tokens = completion_tokens = None
    record: Record = {
        "request_id": request_id,
        "started_at": started_at,
        "duration_ms": duration_ms,
        "ttft_ms": ttft_ms,
        "provider": normalize_provider(provider_raw),
        "provider_raw": provider_raw,
        "model": normalize_model(model_raw),
        "model_raw": model_raw,
        "input_tokens": reading.input_tokens if prompt_tokens is None else prompt_tokens,
        "output_tokens": reading.output_tokens if completion_tokens is None else completion_tokens,
        "reasoning_tokens": reading.reasoning_tokens,
        "cached_input_tokens": reading.cached_input_tokens,
        "cache_write_tokens": reading.cache_write_tokens,
        "http_status": error_status or reading.http_status,
        "app": app,
        "user_id": text(item, "end_user"),
        "session_id": text(item, "session_id"),
        # LiteLLM's own price of the call (`StandardLoggingPayload.response_cost`, USD).
        "cost_usd": amount(item, "response_cost"),
        # True for a streamed call; LiteLLM leaves it null otherwise (litellm_logging.py,
        # `get_standard_logging_object_payload`), which stays NULL: not reported.
        "stream": boolean(item, "stream"),
        **tool_columns(reading.tool_calls, _tool_declarations(item)),
    }
    resolve_outcome(
        record,
        native=reading.native_finish_reason,
        status=status,
        error_signals=(*error_signals, *reading.error_signals),
    )
    return record
