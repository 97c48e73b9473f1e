"""A provider's own response, wrapped with what only the caller knows about the request.

    {"started_at": "2025-11-03T09:00:00Z" | epoch, "latency_ms": 812, "ttft_ms": 95,
     "provider": "anthropic", "model": "requested-model", "request_id": "...", "app": "...",
     "user_id": "...", "session_id": "...", "stream": true, "request": {"tools": [...]},
     "response": {...the provider's JSON body, success or error...} | null,
     "status": "ok" | "error", "http_status": 529, "error": "code" | {"type", "code", ...}}

`response` (its presence) and `started_at` are required; everything else is optional. The
response kind is detected from the body's shape, never from `provider`, so an
OpenAI-compatible provider's chat completion reads as one. Documented in
docs/conventions/request-logs.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from ingest.conventions.canonical import (
    FieldError,
    boolean,
    http_status,
    milliseconds,
    resolve_outcome,
    text,
    timestamp_us,
)
from ingest.conventions.responses import (
    anthropic_messages,
    bedrock_converse,
    gemini,
    openai_chat,
    openai_responses,
    provider_error,
)
from ingest.conventions.responses.reading import (
    ResponseKind,
    ResponseReading,
    choice,
    mapping,
    tool_columns,
    under,
)
from ingest.normalize import normalize_model, normalize_provider
from ingest.record import Record

# Tried in order; the error kind is last because it takes whatever the others leave.
KINDS: tuple[ResponseKind, ...] = (
    openai_chat.KIND,
    openai_responses.KIND,
    anthropic_messages.KIND,
    gemini.KIND,
    bedrock_converse.KIND,
    provider_error.KIND,
)
OK_OR_ERROR = {"ok": "ok", "error": "error"}


def is_envelope(item: Mapping[str, Any]) -> bool:
    return "response" in item


def kind_of(response: object) -> ResponseKind:
    """The kind that reads this body; no body (or a non-object, rejected when read) is the
    error kind's."""
    if isinstance(response, Mapping):
        return next(kind for kind in KINDS if kind.detect(response))
    return provider_error.KIND


def matcher(kind: ResponseKind) -> Callable[[Mapping[str, Any]], bool]:
    return lambda item: is_envelope(item) and kind_of(item["response"]) is kind


def mapper(kind: ResponseKind) -> Callable[[Mapping[str, Any]], Record]:
    return lambda item: to_record(item, kind)


def stable_request_id(item: Mapping[str, Any]) -> str:
    """An id for a record that carries none: a hash of its content with sorted keys, so the
    same record re-sent (in any key order or spacing) maps to the same row."""
    digest = hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"sha256:{digest[:32]}"


def _read(item: Mapping[str, Any], kind: ResponseKind, provider_raw: str | None) -> ResponseReading:
    response = item.get("response")
    if response is None:
        return ResponseReading(answered=False)
    if not isinstance(response, Mapping):
        raise FieldError("response", f"not an object: {response!r}")
    with under("response"):
        return kind.read(response, provider_raw)


def _envelope_error(item: Mapping[str, Any]) -> tuple[tuple[str | None, ...], int | None]:
    error = item.get("error")
    if error is None or isinstance(error, str):
        return (text(item, "error"),), None
    if not isinstance(error, Mapping):
        raise FieldError("error", f"not a string or an object: {error!r}")
    with under("error"):
        return provider_error.error_object(error)


def declared_tools(item: Mapping[str, Any]) -> Any:
    """The request's tool declarations: `tools` (OpenAI, Anthropic, Gemini) or Bedrock's
    `toolConfig.tools`. Nothing else of the request is read."""
    request = mapping(item, "request") or {}
    with under("request"):
        tool_config = mapping(request, "toolConfig") or {}
    return request.get("tools", tool_config.get("tools"))


def to_record(item: Mapping[str, Any], kind: ResponseKind) -> Record:
    provider_raw = text(item, "provider")
    reading = _read(item, kind, provider_raw)
    error_signals, error_status = _envelope_error(item)
    status = choice(item, "status", OK_OR_ERROR)
    latency = milliseconds(item, "latency_ms")
    model_raw = reading.model or text(item, "model")
    record: Record = {
        "request_id": text(item, "request_id") or reading.response_id or stable_request_id(item),
        "started_at": timestamp_us(item, "started_at", required=True),
        "duration_ms": latency if latency is not None else reading.latency_ms,
        "ttft_ms": milliseconds(item, "ttft_ms"),
        "provider": normalize_provider(provider_raw or kind.default_provider),
        "provider_raw": provider_raw,
        "model": normalize_model(model_raw),
        "model_raw": model_raw,
        "input_tokens": reading.input_tokens,
        "output_tokens": reading.output_tokens,
        "reasoning_tokens": reading.reasoning_tokens,
        "cached_input_tokens": reading.cached_input_tokens,
        "cache_write_tokens": reading.cache_write_tokens,
        "http_status": http_status(item, "http_status") or error_status or reading.http_status,
        "app": text(item, "app"),
        "user_id": text(item, "user_id"),
        "session_id": text(item, "session_id"),
        "stream": boolean(item, "stream"),
        **tool_columns(reading.tool_calls, declared_tools(item)),
    }
    signals = (*error_signals, *reading.error_signals)
    if not reading.answered and status is None and not any(signals) and not record["http_status"]:
        raise FieldError("response", "null, but nothing says the call failed (error, http_status)")
    resolve_outcome(
        record,
        native=reading.native_finish_reason,
        status=status,
        error_signals=signals,
        cancelled=reading.cancelled,
    )
    return record
