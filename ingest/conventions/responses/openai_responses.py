"""OpenAI Responses API objects (`object: "response"`). Fields: openai/openai-python
src/openai/types/responses/response.py, response_usage.py, response_function_tool_call.py.

The status is the finish signal: `completed`, `incomplete` (the reason is in
`incomplete_details.reason`, e.g. `max_output_tokens` → length), `failed` (with `error.code`)
and `cancelled`. `function_call` output items are the tool calls the client must run; built-in
tools (web search, file search, ...) run at OpenAI and are not counted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingest.conventions.canonical import count, text
from ingest.conventions.responses.reading import (
    ResponseKind,
    ResponseReading,
    mapping,
    objects,
    under,
)
from ingest.tool_quality import ToolCall


def detect(response: Mapping[str, Any]) -> bool:
    return response.get("object") == "response"


def _native_finish_reason(response: Mapping[str, Any], status: str | None) -> str | None:
    if status == "incomplete":
        details = mapping(response, "incomplete_details") or {}
        with under("incomplete_details"):
            return text(details, "reason") or status
    return status


def read(response: Mapping[str, Any], provider_raw: str | None) -> ResponseReading:
    status = text(response, "status")
    reading = ResponseReading(
        response_id=text(response, "id"),
        model=text(response, "model"),
        native_finish_reason=_native_finish_reason(response, status),
        cancelled=status == "cancelled",
        tool_calls=[],
    )
    for index, item in objects(response, "output"):
        if item.get("type") == "function_call":
            with under(f"output.{index}"):
                reading.tool_calls.append(ToolCall(text(item, "name"), item.get("arguments")))
    error = mapping(response, "error")
    if error is not None:
        with under("error"):
            reading.error_signals = (text(error, "code"),)
    usage = mapping(response, "usage")
    if usage is not None:
        with under("usage"):
            reading.input_tokens = count(usage, "input_tokens")  # includes cached
            reading.output_tokens = count(usage, "output_tokens")  # includes reasoning
            details = mapping(usage, "input_tokens_details") or {}
            with under("input_tokens_details"):
                reading.cached_input_tokens = count(details, "cached_tokens")
            details = mapping(usage, "output_tokens_details") or {}
            with under("output_tokens_details"):
                reading.reasoning_tokens = count(details, "reasoning_tokens")
    return reading


KIND = ResponseKind("requests:openai-responses", "openai", detect, read)
