"""Vercel AI SDK telemetry → `SpanFields`: the legacy `ai.*` spans and the GenAI integration.

Legacy (vercel/ai content/docs/03-ai-sdk-core/60-telemetry.mdx): `ai.generateText` /
`ai.streamText` / `ai.generateObject` / `ai.streamObject` wrap one or more provider calls
(`....doGenerate` / `....doStream`); only the provider calls are requests, so a multi-step call
is not counted twice. v3 names (`ai.finishReason`, `ai.result.toolCalls`,
`ai.stream.msToFirstChunk`, `ai.usage.promptTokens`) were renamed in v4 (the SDK's
`rewrite-telemetry-attributes` codemod). `ai.toolCall` spans are tool executions; they count
only when their parent is a provider call (in v4+ it is the outer span, which is no row).

GenAI integration (vercel/ai packages/otel): `invoke_agent` → `step N` → `chat {model}` →
`execute_tool`, all OTel GenAI names, read by the GenAI mapper; it is told apart by the SDK's
own traces on the span: hyphenated finish values, `ai.*` supplemental attributes, or the client
metrics' names set as span attributes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ingest.coerce import to_count, to_text
from ingest.conventions import genai
from ingest.conventions.span_record import (
    AttributeReader,
    Role,
    SpanConvention,
    SpanFields,
    json_items,
    key_prefix_test,
)
from ingest.normalize import normalize_provider
from ingest.otlp import SpanView
from ingest.tool_quality import ToolCall, tool_definitions

SOURCE = "otlp:vercel-ai"

STREAMED_CALLS = frozenset({"ai.streamText.doStream", "ai.streamObject.doStream"})
PROVIDER_CALLS = STREAMED_CALLS | {"ai.generateText.doGenerate", "ai.generateObject.doGenerate"}
TOOL_CALL = "ai.toolCall"
SDK_FINISH_SPELLINGS = frozenset({"tool-calls", "content-filter"})
# `ai.model.provider` of the AI SDK's Anthropic Messages providers (Anthropic, Claude on Vertex).
ANTHROPIC_API_PROVIDERS = ("anthropic.", "vertex.anthropic.", "google.vertex.anthropic.")

# `ai.model.provider` is "<provider>.<api>" ("openai.chat", "anthropic.messages",
# "google.vertex.chat"); the provider part, as the SDK's own mapProviderName reads it.
_PROVIDER_PREFIXES = (
    ("google.vertex", "google-vertex"),
    ("google.generative-ai", "google-ai-studio"),
    ("azure-openai", "azure"),
    ("amazon-bedrock", "amazon-bedrock"),
)


def _operation(span: SpanView) -> str:
    return to_text(span.attributes.get("ai.operationId")) or span.name


LEGACY_KEY = "ai.operationId"
LEGACY_NAME_PREFIX = "ai."


def claims_legacy(span: SpanView) -> bool:
    return LEGACY_KEY in span.attributes or span.name.startswith(LEGACY_NAME_PREFIX)


def role_legacy(span: SpanView) -> Role | None:
    operation = _operation(span)
    return "llm" if operation in PROVIDER_CALLS else "tool" if operation == TOOL_CALL else None


def provider_slug(raw: str | None) -> str | None:
    """ "openai.chat" → "openai", "google.vertex.chat" → "google-vertex"."""
    if raw is None:
        return None
    lower = raw.lower()
    for prefix, slug in _PROVIDER_PREFIXES:
        if lower == prefix or lower.startswith(prefix + "."):
            return slug
    return lower.split(".", 1)[0]


def _tool_calls(read: AttributeReader) -> list[ToolCall] | None:
    """`ai.response.toolCalls`: JSON `[{toolCallId, toolName, args}]` (v4, args as JSON text)
    or `[{toolCallId, toolName, input}]` (v5+)."""
    raw = read.first("ai.response.toolCalls", "ai.result.toolCalls")
    if raw is None:
        return None
    calls = json_items(raw)
    if calls is None:
        read.warnings["invalid ai.response.toolCalls"] += 1
        return None
    return [
        ToolCall(to_text(c.get("toolName")), c.get("args", c.get("input")))
        for c in calls
        if isinstance(c, Mapping)
    ]


def _cache_writes(read: AttributeReader) -> int | None:
    """ai 6 `inputTokenDetails.cacheWriteTokens`, else (AI SDK 5) Anthropic's
    `cacheCreationInputTokens` in the response's provider metadata."""
    written = read.count("ai.usage.inputTokenDetails.cacheWriteTokens")
    if written is not None:
        return written
    metadata = read.json("ai.response.providerMetadata")
    anthropic = metadata.get("anthropic") if isinstance(metadata, Mapping) else None
    if not isinstance(anthropic, Mapping) or anthropic.get("cacheCreationInputTokens") is None:
        return None
    return to_count(anthropic["cacheCreationInputTokens"])


def _input_tokens(
    read: AttributeReader, provider_raw: str | None, cached: int | None, written: int | None
) -> int | None:
    """All input. ai 6 reports the total (with `inputTokenDetails`); before it, the Anthropic
    provider (@ai-sdk/anthropic 2.x, reused for Claude on Vertex) reported Anthropic's own
    count, which leaves the cache reads and writes out."""
    total = read.count("ai.usage.inputTokens", "ai.usage.promptTokens", *genai.INPUT_TOKEN_KEYS)
    uncached = (provider_raw or "").lower().startswith(ANTHROPIC_API_PROVIDERS) and not any(
        key.startswith("ai.usage.inputTokenDetails.") for key in read.attrs
    )
    if total is None or not uncached:
        return total
    return total + (cached or 0) + (written or 0)


def fields_legacy(span: SpanView, read: AttributeReader) -> SpanFields:
    provider_raw = read.text("ai.model.provider", "gen_ai.system")
    reason = read.text("ai.response.finishReason", "ai.finishReason")
    tools = read.attrs.get("ai.prompt.tools")  # one JSON text per declared tool
    cached = read.count("ai.usage.cachedInputTokens", "ai.usage.inputTokenDetails.cacheReadTokens")
    written = _cache_writes(read)
    return SpanFields(
        source=SOURCE,
        provider_raw=provider_raw,
        provider=normalize_provider(provider_slug(provider_raw)),
        model_raw=read.text(
            "ai.response.model", "gen_ai.response.model", "ai.model.id", "gen_ai.request.model"
        ),
        finish_reasons=[reason] if reason else genai.finish_reasons(read.attrs),
        input_tokens=_input_tokens(read, provider_raw, cached, written),
        output_tokens=read.count(
            "ai.usage.outputTokens", "ai.usage.completionTokens", *genai.OUTPUT_TOKEN_KEYS
        ),
        reasoning_tokens=read.count(
            "ai.usage.reasoningTokens", "ai.usage.outputTokenDetails.reasoningTokens"
        ),
        cached_input_tokens=cached,
        cache_write_tokens=written,
        tool_calls=_tool_calls(read),
        tool_definitions=tool_definitions(json_items(tools)) if tools else None,
        ttft_ms=read.amount("ai.response.msToFirstChunk", "ai.stream.msToFirstChunk"),
        duration_ms=read.amount("ai.response.msToFinish"),
        response_id=read.text("ai.response.id", "gen_ai.response.id"),
        error_signals=(read.text("error.type"),),
        user_id=read.text("ai.telemetry.metadata.userId"),
        session_id=read.text("ai.telemetry.metadata.sessionId"),
        stream=_operation(span) in STREAMED_CALLS,
    )


# The AI SDK's own keys (`ai.*`), and the client metrics' names it puts on the span.
SDK_KEY_PREFIXES = ("ai.", "gen_ai.client.operation.")
_has_sdk_key = key_prefix_test(SDK_KEY_PREFIXES)


def claims_genai(span: SpanView) -> bool:
    attrs = span.attributes
    return _has_sdk_key(span) or not SDK_FINISH_SPELLINGS.isdisjoint(genai.finish_reasons(attrs))


def fields_genai(span: SpanView, read: AttributeReader) -> SpanFields:
    base = genai.fields(span, read, SOURCE)
    if base.reasoning_tokens is not None:
        return base
    return dataclasses.replace(
        base, reasoning_tokens=read.count("ai.usage.outputTokenDetails.reasoningTokens")
    )


LEGACY = SpanConvention(
    name="vercel-ai-legacy", claims=claims_legacy, role=role_legacy, fields=fields_legacy
)
GENAI = SpanConvention(
    name="vercel-ai", claims=claims_genai, role=genai.span_role, fields=fields_genai
)
