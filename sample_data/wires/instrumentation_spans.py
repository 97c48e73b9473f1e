"""Wires of the instrumentation libraries' own span conventions: OpenInference, OpenLLMetry
(current and older releases), the AI SDK's legacy `ai.*` spans and LiteLLM's OTel callback.
Each keeps the sample's span tree (ids, clock, agent parent) and writes its own attributes."""

from __future__ import annotations

import orjson

from sample_data.otlp_encoding import Attributes, SpanEvent
from sample_data.wires.logical import (
    OPENAI_FINISH,
    OPENLLMETRY_REWRITES,
    SDK_FINISH,
    Row,
    family,
    is_ok,
    tool_calls,
    uncached_input,
)
from sample_data.wires.otel_spans import Spans, otel_row, request_span
from sample_data.writers import spans_by_app

# llm.provider is the host (OpenInference spec, "LLM Provider" values), llm.system the vendor.
OPENINFERENCE_PROVIDER = {
    "anthropic": "anthropic",
    "amazon-bedrock": "aws",
    "google-vertex": "google",
    "google-ai-studio": "google",
    "openai": "openai",
    "azure": "azure",
    "together": "together",
    "fireworks": "fireworks",
    "deepinfra": "deepinfra",
}
OPENINFERENCE_SYSTEM = {"anthropic": "anthropic", "openai": "openai", "gemini": "vertexai"}
# Older OpenLLMetry releases' capitalised `gen_ai.system` (before 2026-03).
OPENLLMETRY_SYSTEM = {
    "anthropic": "Anthropic",
    "amazon-bedrock": "AWS",
    "google-vertex": "Google",
    "google-ai-studio": "Gemini",
    "openai": "OpenAI",
    "azure": "Azure",
    "together": "TogetherAI",
    "fireworks": "Fireworks",
    "deepinfra": "DeepInfra",
}
OPENLLMETRY_NAMES = {
    "input": "gen_ai.usage.input_tokens",
    "output": "gen_ai.usage.output_tokens",
    "total": "gen_ai.usage.total_tokens",
    "cache_read": "gen_ai.usage.cache_read.input_tokens",
    "cache_write": "gen_ai.usage.cache_creation.input_tokens",
    "reasoning": "gen_ai.usage.reasoning_tokens",
}
OPENLLMETRY_LEGACY_NAMES = {
    "input": "gen_ai.usage.prompt_tokens",
    "output": "gen_ai.usage.completion_tokens",
    "total": "llm.usage.total_tokens",
    "cache_read": "gen_ai.usage.cache_read_input_tokens",
    "cache_write": "gen_ai.usage.cache_creation_input_tokens",
    "reasoning": "llm.usage.reasoning_tokens",
}
VENDOR_SPAN = {"anthropic": "anthropic", "openai": "openai", "gemini": "gemini"}
# The AI SDK's provider ids (`ai.model.provider` = "<provider>.<api>").
SDK_PROVIDER = {
    "anthropic": "anthropic.messages",
    "amazon-bedrock": "amazon-bedrock",
    "google-vertex": "google.vertex.chat",
    "google-ai-studio": "google.generative-ai",
    "openai": "openai.chat",
    "azure": "azure-openai.chat",
    "together": "togetherai.chat",
    "fireworks": "fireworks.chat",
    "deepinfra": "deepinfra.chat",
}


def sdk_provider(row: Row) -> str:
    if family(row) == "anthropic" and row["provider"] == "google-vertex":
        return "vertex.anthropic.messages"  # @ai-sdk/google-vertex/anthropic
    return SDK_PROVIDER[row["provider"]]


# LiteLLM's provider ids (`custom_llm_provider`).
LITELLM_PROVIDER = {
    "anthropic": "anthropic",
    "amazon-bedrock": "bedrock",
    "google-vertex": "vertex_ai",
    "google-ai-studio": "gemini",
    "openai": "openai",
    "azure": "azure",
    "together": "together_ai",
    "fireworks": "fireworks_ai",
    "deepinfra": "deepinfra",
}


def _model(row: Row) -> str:
    return row["response_model"] if is_ok(row) else row["request_model"]


def _exception(row: Row) -> list[SpanEvent]:
    """A failed call as instrumentations record it: `span.record_exception` (an `exception`
    event with the SDK's error name), no HTTP status attribute."""
    if is_ok(row):
        return []
    return [
        SpanEvent(
            "exception",
            row["end_ns"],
            [("exception.type", row["error_name"]), ("exception.message", row["error_message"])],
        )
    ]


def _rewritten(
    row: Row,
    name: str,
    attributes: Attributes,
    *,
    tool_child: Attributes | None,
    events: list[SpanEvent] | None = None,
) -> Spans:
    """The sample's span tree with the request span renamed and re-attributed; its tool
    executions carry `tool_child` (None: the convention has no tool spans under a call)."""
    row = otel_row(row)
    spans = spans_by_app([row])
    span = request_span(spans, row)
    span.name = name
    span.attributes = [(k, v) for k, v in attributes if v is not None]
    span.events = events if events is not None else _exception(row)
    tree = spans[row["app"]]
    children = [s for s in tree if s.parent_span_id == span.span_id]
    for child in children:
        if tool_child is None:
            tree.remove(child)
        else:
            child.attributes = tool_child + [("tool.name", child.name.split(" ", 1)[1])]
    return spans


def openinference(row: Row) -> Spans:
    """Arize-ai/openinference spec/semantic_conventions.md: prompt counts include the
    prompt_details (cache reads and writes), completion counts include the reasoning."""
    attributes: Attributes = [
        ("openinference.span.kind", "LLM"),
        ("llm.provider", OPENINFERENCE_PROVIDER[row["provider"]]),
        ("llm.system", OPENINFERENCE_SYSTEM[family(row)]),
        ("llm.model_name", row["response_model"] if is_ok(row) else None),
        (
            "llm.invocation_parameters",
            orjson.dumps({"model": row["request_model"], "stream": row["streaming"]}).decode(),
        ),
        ("llm.token_count.prompt", row["input_tokens"]),
        ("llm.token_count.completion", row["output_tokens"]),
        ("llm.token_count.completion_details.reasoning", row["reasoning_tokens"]),
        ("llm.token_count.prompt_details.cache_read", row["cached_input_tokens"]),
        ("llm.token_count.prompt_details.cache_write", row["cache_write_tokens"]),
        ("llm.finish_reason", row["native_finish_reason"]),
        ("user.id", row["user_id"]),
        ("session.id", row["session_id"]),
    ]
    if is_ok(row):
        attributes.append(("llm.output_messages.0.message.role", "assistant"))
    for m, (call_id, name, arguments) in enumerate(tool_calls(row)):
        prefix = f"llm.output_messages.0.message.tool_calls.{m}.tool_call"
        attributes += [
            (f"{prefix}.id", call_id),
            (f"{prefix}.function.name", name),
            (f"{prefix}.function.arguments", arguments),
        ]
    name = "Messages" if family(row) == "anthropic" else "ChatCompletion"
    return _rewritten(row, name, attributes, tool_child=[("openinference.span.kind", "TOOL")])


def _openllmetry(row: Row, *, legacy: bool) -> Spans:
    """traceloop/openllmetry: `<vendor>.chat` spans, `llm.request.type`, flattened
    completions. Current releases name the provider with OTel values, write the OTel cache
    and total names and rewrite finish reasons (tool_use → tool_call, end_turn → stop,
    max_tokens → length); older ones used capitalised `gen_ai.system` values, prompt/
    completion token names, `llm.usage.total_tokens` and native reasons. Input includes the
    cache, except from the Bedrock instrumentation (`bedrock.completion`), which reports
    Bedrock's own count."""
    native = row["native_finish_reason"]
    names = OPENLLMETRY_LEGACY_NAMES if legacy else OPENLLMETRY_NAMES
    bedrock = row["provider"] == "amazon-bedrock"
    input_tokens = uncached_input(row) if bedrock else row["input_tokens"]
    total = None
    if input_tokens is not None:
        total = input_tokens + row["output_tokens"]
    attributes: Attributes = [
        ("llm.request.type", "chat"),
        ("gen_ai.system", OPENLLMETRY_SYSTEM[row["provider"]])
        if legacy
        else ("gen_ai.provider.name", otel_row(row)["provider_raw"]),
        ("gen_ai.request.model", row["request_model"]),
        ("gen_ai.response.model", row["response_model"] if is_ok(row) else None),
        ("gen_ai.response.id", row["request_id"] if is_ok(row) else None),
        (names["input"], input_tokens),
        (names["output"], row["output_tokens"]),
        (names["total"], total),
        (names["cache_read"], row["cached_input_tokens"]),
        (names["cache_write"], row["cache_write_tokens"]),
        (names["reasoning"], row["reasoning_tokens"]),
        ("llm.is_streaming", row["streaming"]),
    ]
    if is_ok(row):
        reason = native if legacy else OPENLLMETRY_REWRITES.get(native, native)
        attributes.append(("gen_ai.completion.0.finish_reason", reason))
        if not legacy:
            attributes.append(("gen_ai.response.finish_reasons", [reason]))
    for m, (call_id, name, arguments) in enumerate(tool_calls(row)):
        prefix = f"gen_ai.completion.0.tool_calls.{m}"
        attributes += [
            (f"{prefix}.id", call_id),
            (f"{prefix}.name", name),
            (f"{prefix}.arguments", arguments),
        ]
    name = "bedrock.completion" if bedrock else f"{VENDOR_SPAN[family(row)]}.chat"
    return _rewritten(row, name, attributes, tool_child=[("traceloop.span.kind", "tool")])


def openllmetry(row: Row) -> Spans:
    return _openllmetry(row, legacy=False)


def openllmetry_legacy(row: Row) -> Spans:
    return _openllmetry(row, legacy=True)


# Providers whose AI SDK 5 `inputTokens` is Anthropic's own count, without the cache
# (@ai-sdk/anthropic 2.x; Vertex's Claude reuses it): cache writes only in providerMetadata.
SDK5_UNCACHED_INPUT = frozenset({"anthropic", "google-vertex"})


def vercel_legacy(row: Row) -> Spans:
    """The AI SDK's `ai.*` provider-call span (vercel/ai content/docs/03-ai-sdk-core/
    60-telemetry.mdx; usage as ai 6 writes it: totals with input and output details): tool
    calls in `ai.response.toolCalls`, the SDK's finish values, TTFT in ms on streamed calls.
    Its tool spans hang under the outer call, so the provider call has none."""
    details: Attributes = [
        ("ai.usage.inputTokenDetails.noCacheTokens", uncached_input(row)),
        ("ai.usage.inputTokenDetails.cacheReadTokens", row["cached_input_tokens"]),
        ("ai.usage.inputTokenDetails.cacheWriteTokens", row["cache_write_tokens"]),
        ("ai.usage.outputTokenDetails.reasoningTokens", row["reasoning_tokens"]),
    ]
    return _vercel_legacy(row, row["input_tokens"], details)


def vercel_legacy_v5(row: Row) -> Spans:
    """The same span from AI SDK 5 (ai@5 generate-text.ts): for Claude on Anthropic or
    Vertex `ai.usage.inputTokens` leaves the cache out, `ai.usage.cachedInputTokens` is the
    cache reads and the cache writes are only in `ai.response.providerMetadata`."""
    if family(row) != "anthropic" or row["provider"] not in SDK5_UNCACHED_INPUT:
        return _vercel_legacy(row, row["input_tokens"], [])
    metadata = None
    if row["cache_write_tokens"] is not None:
        metadata = orjson.dumps(
            {"anthropic": {"cacheCreationInputTokens": row["cache_write_tokens"]}}
        ).decode()
    return _vercel_legacy(row, uncached_input(row), [("ai.response.providerMetadata", metadata)])


def _vercel_legacy(row: Row, input_tokens: int | None, usage_details: Attributes) -> Spans:
    operation = "ai.streamText.doStream" if row["streaming"] else "ai.generateText.doGenerate"
    calls = [
        {"toolCallId": call_id, "toolName": name, "input": orjson.loads(arguments)}
        for call_id, name, arguments in tool_calls(row)
    ]
    attributes: Attributes = [
        ("ai.operationId", operation),
        ("ai.model.provider", sdk_provider(row)),
        ("ai.model.id", row["request_model"]),
        ("ai.response.model", row["response_model"] if is_ok(row) else None),
        ("ai.response.id", row["request_id"] if is_ok(row) else None),
        ("ai.response.finishReason", SDK_FINISH[row["finish_reason"]] if is_ok(row) else None),
        ("ai.usage.inputTokens", input_tokens),
        ("ai.usage.outputTokens", row["output_tokens"]),
        ("ai.usage.reasoningTokens", row["reasoning_tokens"]),
        ("ai.usage.cachedInputTokens", row["cached_input_tokens"]),
        *usage_details,
        ("ai.response.msToFirstChunk", row["ttft_ms"] if row["streaming"] else None),
        ("ai.response.toolCalls", orjson.dumps(calls).decode() if is_ok(row) else None),
        ("ai.telemetry.metadata.userId", row["user_id"]),
        ("ai.telemetry.metadata.sessionId", row["session_id"]),
        ("error.type", row["error_name"]),
    ]
    return _rewritten(row, operation, attributes, tool_child=None, events=[])


def litellm_callback(row: Row) -> Spans:
    """LiteLLM's OTel callback (BerriAI/litellm litellm/integrations/opentelemetry.py):
    `litellm_request`, LiteLLM's provider id, OpenAI finish values as a JSON string, usage
    under the prompt/completion names, calls as `gen_ai.completion.N.function_call.*`."""
    ok = is_ok(row)
    attributes: Attributes = [
        ("gen_ai.request.model", row["request_model"]),
        ("llm.request.type", "acompletion"),
        ("gen_ai.system", LITELLM_PROVIDER[row["provider"]]),
        ("llm.is_streaming", str(bool(row["streaming"]))),
        ("metadata.user_api_key_alias", row["app"]),
        ("metadata.user_api_key_end_user_id", row["user_id"]),
        ("gen_ai.response.id", row["request_id"] if ok else None),
        ("gen_ai.response.model", row["response_model"] if ok else None),
        (
            "gen_ai.response.finish_reasons",
            orjson.dumps([OPENAI_FINISH[row["finish_reason"]]]).decode() if ok else None,
        ),
        ("gen_ai.usage.prompt_tokens", row["input_tokens"]),
        ("gen_ai.usage.completion_tokens", row["output_tokens"]),
        ("error.type", row["error_name"]),
        ("error.code", str(row["http_status"]) if row["http_status"] else None),
        ("error.llm_provider", None if ok else LITELLM_PROVIDER[row["provider"]]),
    ]
    for n, (_, name, arguments) in enumerate(tool_calls(row)):
        attributes += [
            (f"gen_ai.completion.{n}.function_call.name", name),
            (f"gen_ai.completion.{n}.function_call.arguments", arguments),
        ]
    return _rewritten(row, "litellm_request", attributes, tool_child=None, events=[])
