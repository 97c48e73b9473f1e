"""OpenRouter generation records, as answered by GET /api/v1/generation (`{"data": {...}}`,
unwrapped here) and exported as request logs. Field list: OpenRouterTeam/docs openapi.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingest.conventions.canonical import (
    FieldError,
    amount,
    boolean,
    count,
    flag,
    http_status,
    milliseconds,
    resolve_outcome,
    text,
    timestamp_us,
)
from ingest.normalize import normalize_model, normalize_provider
from ingest.record import Record

SOURCE = "requests:openrouter"


def _generation(item: Mapping[str, Any]) -> Mapping[str, Any]:
    data = item.get("data")
    return data if isinstance(data, Mapping) and len(item) == 1 else item


def matches(item: Mapping[str, Any]) -> bool:
    generation = _generation(item)
    if "tokens_prompt" in generation or "provider_name" in generation:
        return True
    generation_id = generation.get("id")
    return (
        "native_finish_reason" in generation
        and isinstance(generation_id, str)
        and generation_id.startswith("gen-")
    )


def _first_count(generation: Mapping[str, Any], *fields: str) -> int | None:
    for field in fields:
        value = count(generation, field)
        if value is not None:
            return value
    return None


def _reported(generation: Mapping[str, Any], field: str) -> int | None:
    """A reasoning or cache count, where OpenRouter writes 0 also for providers that report
    none (Amazon Bedrock's reasoning, most open-weight hosts' cache): a 0 is not a measured
    zero, so it is stored as not reported, as the same call's span would have it."""
    return count(generation, field) or None


def _cost(generation: Mapping[str, Any]) -> float | None:
    """`total_cost` ("Total cost of the generation in USD"), else `usage` ("Usage amount in
    USD"), which older exports carry alone (OpenRouterTeam/docs openapi/openapi.yaml,
    `GenerationResponse`)."""
    cost = amount(generation, "total_cost")
    return cost if cost is not None else amount(generation, "usage")


def _error(generation: Mapping[str, Any]) -> tuple[tuple[str | None, ...], int | None]:
    """Error signals (most specific first) and the HTTP status from an `error` member, which
    OpenRouter shapes as `{code, message, metadata: {error_type}}` (or a bare string)."""
    error = generation.get("error")
    if error is None:
        return (), None
    if isinstance(error, str):
        return (error,), None
    if not isinstance(error, Mapping):
        raise FieldError("error", f"not an object: {error!r}")
    metadata = error.get("metadata")
    detail = text(metadata, "error_type") if isinstance(metadata, Mapping) else None
    code = error.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599:
        return (detail, text(error, "type")), code
    return (detail, text(error, "code"), text(error, "type")), None


def to_record(item: Mapping[str, Any]) -> Record:
    """Map one generation. Token counts prefer the provider's native counts, the ones the
    reasoning and cache counts come from; `tokens_*` (OpenRouter's own count) fill in."""
    generation = _generation(item)
    provider_raw = text(generation, "provider_name")
    model_raw = text(generation, "model")
    error_signals, error_status = _error(generation)
    latency = milliseconds(generation, "latency")
    record: Record = {
        "request_id": text(generation, "id", required=True),
        "started_at": timestamp_us(generation, "created_at", required=True),
        "duration_ms": latency
        if latency is not None
        else milliseconds(generation, "generation_time"),
        "provider": normalize_provider(provider_raw),
        "provider_raw": provider_raw,
        "model": normalize_model(model_raw),
        "model_raw": model_raw,
        "input_tokens": _first_count(generation, "native_tokens_prompt", "tokens_prompt"),
        "output_tokens": _first_count(generation, "native_tokens_completion", "tokens_completion"),
        "reasoning_tokens": _reported(generation, "native_tokens_reasoning"),
        "cached_input_tokens": _reported(generation, "native_tokens_cached"),
        "tool_calls": count(generation, "tool_calls"),
        "http_status": http_status(generation, "http_status")
        or http_status(generation, "status_code")
        or error_status,
        "app": text(generation, "app_id"),
        "user_id": text(generation, "external_user") or text(generation, "user"),
        "session_id": text(generation, "session_id"),
        "cost_usd": _cost(generation),
        "stream": boolean(generation, "streamed"),
    }
    resolve_outcome(
        record,
        native=text(generation, "native_finish_reason"),
        given_reason=text(generation, "finish_reason"),
        error_signals=error_signals,
        cancelled=flag(generation, "cancelled"),
    )
    return record
