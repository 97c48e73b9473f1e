"""OpenInference (Arize Phoenix instrumentations) → `SpanFields`.

Attribute names: Arize-ai/openinference spec/semantic_conventions.md and spec/tool_calling.md.
`openinference.span.kind` is required on every OpenInference span: `LLM` spans are requests,
`TOOL` spans are tool executions, the other kinds (CHAIN, AGENT, RETRIEVER, EMBEDDING, ...)
are neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingest.coerce import to_bool
from ingest.conventions.span_record import (
    AttributeReader,
    Role,
    SpanConvention,
    SpanFields,
    calls_from_indexed,
    indexed,
    parse_json,
)
from ingest.otlp import SpanView
from ingest.tool_quality import tool_definitions

SOURCE = "otlp:openinference"
KIND = "openinference.span.kind"


def claims(span: SpanView) -> bool:
    return KIND in span.attributes


def role(span: SpanView) -> Role | None:
    kind = str(span.attributes.get(KIND) or "").upper()
    return "llm" if kind == "LLM" else "tool" if kind == "TOOL" else None


def _invocation_parameters(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """`llm.invocation_parameters`: the request's own parameters as JSON text."""
    parameters = parse_json(attrs.get("llm.invocation_parameters"))
    return parameters if isinstance(parameters, dict) else {}


def _requested_model(parameters: Mapping[str, Any]) -> str | None:
    model = parameters.get("model")
    return model if isinstance(model, str) and model else None


def fields(span: SpanView, read: AttributeReader) -> SpanFields:
    attrs = read.attrs
    choice0 = indexed(attrs, "llm.output_messages").get(0)
    tools = indexed(attrs, "llm.tools")
    reason = read.text("llm.finish_reason")
    parameters = _invocation_parameters(attrs)
    return SpanFields(
        source=SOURCE,
        # llm.provider is the host (azure for Azure OpenAI), llm.system the model vendor.
        provider_raw=read.text("llm.provider", "llm.system"),
        # llm.model_name equals the response model when known (spec, "System and Model
        # Identification"); the request/response pair is optional.
        # A failed call has no response to name the model: the requested one is only in the
        # JSON of llm.invocation_parameters (as the OpenAI instrumentation records it).
        model_raw=read.text("llm.response.model_name", "llm.model_name", "llm.request.model_name")
        or _requested_model(parameters),
        finish_reasons=[reason] if reason else [],
        # The prompt_details counts are included in llm.token_count.prompt (spec).
        input_tokens=read.count("llm.token_count.prompt"),
        output_tokens=read.count("llm.token_count.completion"),
        reasoning_tokens=read.count("llm.token_count.completion_details.reasoning"),
        cached_input_tokens=read.count("llm.token_count.prompt_details.cache_read"),
        cache_write_tokens=read.count("llm.token_count.prompt_details.cache_write"),
        tool_calls=calls_from_indexed(
            indexed(choice0, "message.tool_calls"),
            "tool_call.function.name",
            "tool_call.function.arguments",
        )
        if choice0 is not None
        else None,
        tool_definitions=tool_definitions(
            [parse_json(t.get("tool.json_schema")) for t in tools.values()]
        )
        if tools
        else None,
        user_id=read.text("user.id"),
        session_id=read.text("session.id"),
        stream=to_bool(parameters["stream"]) if "stream" in parameters else None,
    )


CONVENTION = SpanConvention(name="openinference", claims=claims, role=role, fields=fields)
