"""Gemini `generateContent` responses (Gemini API and Vertex AI): `candidates` and/or
`promptFeedback` with `usageMetadata`. Fields: googleapis/python-genai google/genai/types.py
(GenerateContentResponse, GenerateContentResponseUsageMetadata), in their JSON camelCase.

`promptTokenCount` already includes cached content; `candidatesTokenCount` leaves the thoughts
out, so canonical output adds `thoughtsTokenCount`. A `STOP` candidate with `functionCall` parts
finished on tool calls. A prompt blocked before any candidate carries the reason in
`promptFeedback.blockReason`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingest.conventions.canonical import count, text
from ingest.conventions.responses.reading import (
    ResponseKind,
    ResponseReading,
    counts_sum,
    first_object,
    mapping,
    objects,
    under,
)
from ingest.tool_quality import ToolCall


def detect(response: Mapping[str, Any]) -> bool:
    return "candidates" in response or "promptFeedback" in response


def _tool_calls(candidate: Mapping[str, Any]) -> list[ToolCall]:
    content = mapping(candidate, "content") or {}
    calls: list[ToolCall] = []
    with under("content"):
        for index, part in objects(content, "parts"):
            with under(f"parts.{index}"):
                call = mapping(part, "functionCall")
                if call is not None:
                    with under("functionCall"):
                        calls.append(ToolCall(text(call, "name"), call.get("args")))
    return calls


def read(response: Mapping[str, Any], provider_raw: str | None) -> ResponseReading:
    reading = ResponseReading(
        response_id=text(response, "responseId"), model=text(response, "modelVersion")
    )
    candidate = first_object(response, "candidates")
    if candidate is not None:
        with under("candidates.0"):
            reading.native_finish_reason = text(candidate, "finishReason")
            reading.tool_calls = _tool_calls(candidate)
    else:
        feedback = mapping(response, "promptFeedback") or {}
        with under("promptFeedback"):
            reading.native_finish_reason = text(feedback, "blockReason")
        reading.tool_calls = []
    usage = mapping(response, "usageMetadata")
    if usage is not None:
        with under("usageMetadata"):
            reading.input_tokens = count(usage, "promptTokenCount")
            reading.reasoning_tokens = count(usage, "thoughtsTokenCount")
            reading.output_tokens = counts_sum(usage, "candidatesTokenCount", "thoughtsTokenCount")
            if reading.output_tokens is None:  # thoughts only, no visible output
                reading.output_tokens = reading.reasoning_tokens
            reading.cached_input_tokens = count(usage, "cachedContentTokenCount")
    return reading


KIND = ResponseKind("requests:gemini", "gemini", detect, read)
