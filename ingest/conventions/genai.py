"""OpenTelemetry GenAI semantic conventions (current and deprecated names) → canonical record.

Covers what OTel GenAI instrumentations, OpenLLMetry's current output and OpenRouter
Broadcast emit (reference/conventions.md §1–3). One span = one request attempt; agent,
workflow, embedding and tool-execution spans are not requests.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from ingest.coerce import to_count, to_float, to_text
from ingest.normalize import (
    classify_error,
    normalize_finish_reason,
    normalize_model,
    normalize_provider,
)
from ingest.otlp import STATUS_CODE_ERROR, SpanView
from ingest.record import Record

SOURCE = "otlp:genai"

LLM_OPERATIONS = frozenset({"chat", "generate_content", "text_completion", "completion"})
TOOL_OPERATION = "execute_tool"
# Attributes that only an LLM call span carries; one is enough when the operation is absent.
LLM_MARKERS = (
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
)

PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system")
MODEL_KEYS = ("gen_ai.response.model", "gen_ai.request.model")
INPUT_TOKEN_KEYS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT_TOKEN_KEYS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
REASONING_KEYS = ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens")
CACHE_READ_KEYS = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens")
CACHE_WRITE_KEYS = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
)
HTTP_STATUS_KEYS = ("http.response.status_code", "http.status_code")
USER_KEYS = ("user.id", "enduser.id")
SESSION_KEYS = ("session.id", "gen_ai.conversation.id")


def span_role(span: SpanView) -> str | None:
    """'llm' for a request span, 'tool' for a tool execution, None for anything else."""
    attrs = span.attributes
    operation = attrs.get("gen_ai.operation.name")
    if operation == TOOL_OPERATION or span.name.startswith("execute_tool"):
        return "tool"
    if operation in LLM_OPERATIONS:
        return "llm"
    if operation is None and any(key in attrs for key in LLM_MARKERS):
        return "llm"
    return None


def _lookup(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value is not None:
            return value
    return None


def _count(attrs: dict[str, Any], keys: tuple[str, ...], warnings: Counter[str]) -> int | None:
    raw = _lookup(attrs, keys)
    if raw is None:
        return None
    value = to_count(raw)
    if value is None:
        warnings[f"invalid {keys[0]}"] += 1
    return value


def finish_reasons(attrs: dict[str, Any]) -> list[str]:
    """`gen_ai.response.finish_reasons` as an array, a scalar or a JSON-encoded string;
    else the singular `gen_ai.response.finish_reason` (OpenRouter Broadcast)."""
    raw = attrs.get("gen_ai.response.finish_reasons")
    if raw is None:
        raw = attrs.get("gen_ai.response.finish_reason")
    if isinstance(raw, str) and raw.startswith("["):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    if isinstance(raw, list):
        return [str(r) for r in raw if r is not None and r != ""]
    text = to_text(raw)
    return [text] if text else []


def map_llm_span(
    span: SpanView, tool_children: int, warnings: Counter[str], *, ingested_at_us: int
) -> Record:
    attrs = span.attributes
    provider_raw = to_text(_lookup(attrs, PROVIDER_KEYS))
    model_raw = to_text(_lookup(attrs, MODEL_KEYS))
    reasons = finish_reasons(attrs)
    native = reasons[0] if reasons else None
    http_status = to_count(_lookup(attrs, HTTP_STATUS_KEYS))
    error_signal = to_text(attrs.get("error.type"))
    is_error = (
        span.status_code == STATUS_CODE_ERROR
        or error_signal is not None
        or (http_status is not None and http_status >= 400)
    )
    duration_ms = None
    if span.start_ns > 0 and span.end_ns >= span.start_ns:
        duration_ms = (span.end_ns - span.start_ns) / 1_000_000
    elif span.end_ns:
        warnings["span ends before it starts"] += 1
    ttft_s = attrs.get("gen_ai.response.time_to_first_chunk")
    ttft = to_float(ttft_s)
    if ttft_s is not None and ttft is None:
        warnings["invalid gen_ai.response.time_to_first_chunk"] += 1
    response_id = to_text(attrs.get("gen_ai.response.id"))
    finish_reason = normalize_finish_reason(
        native, has_tool_calls=tool_children > 0, is_error=is_error
    )
    if tool_children == 0 and finish_reason == "tool_calls":
        tool_calls = None  # tool calls happened, but this span does not say how many
    else:
        tool_calls = tool_children
    return {
        "request_id": response_id or f"{span.trace_id}:{span.span_id}",
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id or None,
        "started_at": span.start_ns // 1000 if span.start_ns > 0 else None,
        "duration_ms": duration_ms,
        "ttft_ms": ttft * 1000.0 if ttft is not None else None,
        "provider": normalize_provider(provider_raw),
        "provider_raw": provider_raw,
        "model": normalize_model(model_raw),
        "model_raw": model_raw,
        "finish_reason": finish_reason,
        "native_finish_reason": native,
        "input_tokens": _count(attrs, INPUT_TOKEN_KEYS, warnings),
        "output_tokens": _count(attrs, OUTPUT_TOKEN_KEYS, warnings),
        "reasoning_tokens": _count(attrs, REASONING_KEYS, warnings),
        "cached_input_tokens": _count(attrs, CACHE_READ_KEYS, warnings),
        "cache_write_tokens": _count(attrs, CACHE_WRITE_KEYS, warnings),
        "tool_calls": tool_calls,
        "status": "error" if is_error else "ok",
        "error_type": classify_error(error_signal, http_status=http_status) if is_error else None,
        "http_status": http_status,
        "app": to_text(span.resource.get("service.name")),
        "user_id": to_text(_lookup(attrs, USER_KEYS)),
        "session_id": to_text(_lookup(attrs, SESSION_KEYS)),
        "source": SOURCE,
        "ingested_at": ingested_at_us,
    }
