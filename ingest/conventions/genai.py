"""OpenTelemetry GenAI semantic conventions (current and deprecated names) → `SpanFields`.

The base reader the other gen_ai-shaped conventions (OpenLLMetry, LiteLLM, OpenRouter
Broadcast, the AI SDK's GenAI integration) extend (reference/conventions.md §1–3). One span =
one request attempt; agent, workflow, embedding and tool-execution spans are not requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ingest.coerce import to_text
from ingest.conventions.span_record import (
    AttributeReader,
    Role,
    SpanConvention,
    SpanFields,
    json_items,
)
from ingest.otlp import SpanView
from ingest.tool_quality import ToolCall, tool_definitions

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
# `cache_creation.input_tokens` was renamed `cache_write.input_tokens` when the conventions moved
# (semantic-conventions-genai changelog.d/440.breaking.md); both are still sent.
CACHE_WRITE_KEYS = (
    "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
)
# v1.41 span attribute; the AI SDK's OpenTelemetry integration (vercel/ai
# packages/otel/src/open-telemetry.ts) puts the client metrics' names on the span, in seconds.
TTFT_SECONDS_KEYS = (
    "gen_ai.response.time_to_first_chunk",
    "gen_ai.client.operation.time_to_first_chunk",
)
DURATION_SECONDS_KEY = "gen_ai.client.operation.duration"
# Request options and the server the client called (semantic-conventions-genai
# docs/gen-ai/client-inference.md): the reasoning level is free text, "the exact string value
# sent to the provider"; `server.address` names the server behind any intermediaries.
REASONING_LEVEL_KEY = "gen_ai.request.reasoning.level"
STREAM_KEY = "gen_ai.request.stream"
SERVER_ADDRESS_KEY = "server.address"
HTTP_STATUS_KEYS = ("http.response.status_code", "http.status_code")
USER_KEYS = ("user.id", "enduser.id")
SESSION_KEYS = ("session.id", "gen_ai.conversation.id")


def span_role(span: SpanView) -> Role | None:
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


def finish_reasons(attrs: Mapping[str, Any]) -> list[str]:
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


def _output_messages(read: AttributeReader) -> list[Mapping[str, Any]] | None:
    """`gen_ai.output.messages`: one `{role, parts[], finish_reason}` per choice, as JSON text
    or as an OTLP array of kvlists."""
    if read.attrs.get("gen_ai.output.messages") is None:
        return None
    messages = json_items(read.attrs["gen_ai.output.messages"])
    if messages is None:
        read.warnings["invalid gen_ai.output.messages"] += 1
        return None
    return [m for m in messages if isinstance(m, Mapping)]


def _tool_call_parts(message: Mapping[str, Any]) -> list[ToolCall]:
    parts = message.get("parts")
    return [
        ToolCall(to_text(part.get("name")), part.get("arguments"))
        for part in (parts if isinstance(parts, list) else [])
        if isinstance(part, Mapping) and part.get("type") == "tool_call"
    ]


def fields(span: SpanView, read: AttributeReader, source: str = SOURCE) -> SpanFields:
    messages = _output_messages(read)
    reasons = finish_reasons(read.attrs)
    if not reasons and messages:
        reasons = [str(m["finish_reason"]) for m in messages if m.get("finish_reason")]
    definitions = read.attrs.get("gen_ai.tool.definitions")
    return SpanFields(
        source=source,
        provider_raw=read.text(*PROVIDER_KEYS),
        model_raw=read.text(*MODEL_KEYS),
        finish_reasons=reasons,
        input_tokens=read.count(*INPUT_TOKEN_KEYS),
        output_tokens=read.count(*OUTPUT_TOKEN_KEYS),
        reasoning_tokens=read.count(*REASONING_KEYS),
        cached_input_tokens=read.count(*CACHE_READ_KEYS),
        cache_write_tokens=read.count(*CACHE_WRITE_KEYS),
        tool_calls=_tool_call_parts(messages[0]) if messages else None,
        tool_definitions=tool_definitions(json_items(definitions)) if definitions else None,
        ttft_ms=read.seconds_as_ms(*TTFT_SECONDS_KEYS),
        duration_ms=read.seconds_as_ms(DURATION_SECONDS_KEY),
        response_id=read.text("gen_ai.response.id"),
        error_signals=(read.text("error.type"),),
        http_status=read.count(*HTTP_STATUS_KEYS),
        user_id=read.text(*USER_KEYS),
        session_id=read.text(*SESSION_KEYS),
        reasoning_level=read.text(REASONING_LEVEL_KEY),
        stream=read.flag(STREAM_KEY),
        server_address=read.text(SERVER_ADDRESS_KEY),
    )


CONVENTION = SpanConvention(name="genai", claims=lambda span: True, role=span_role, fields=fields)
