"""OpenLLMetry (Traceloop) spans → `SpanFields`, current and older releases.

Names: traceloop/openllmetry packages/opentelemetry-semantic-conventions-ai
(`opentelemetry/semconv_ai/__init__.py`, and `semconv/ai` for older releases). Current releases
write OTel GenAI names (`gen_ai.provider.name`, rewritten finish reasons), read by the GenAI
mapper; older ones add capitalised `gen_ai.system` values ("Anthropic", "AWS"), flattened
completions `gen_ai.completion.N.*`, `llm.usage.*` and `llm.request.functions.N.*`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from ingest.coerce import to_text
from ingest.conventions import genai
from ingest.conventions.span_record import (
    AttributeReader,
    Role,
    SpanConvention,
    SpanFields,
    calls_from_indexed,
    indexed,
    key_prefix_test,
    parse_json,
)
from ingest.normalize import normalize_provider
from ingest.otlp import SpanView
from ingest.tool_quality import ToolDefinitions, tool_definitions

SOURCE = "otlp:openllmetry"

LLM_REQUEST_TYPES = frozenset({"chat", "completion"})  # LLMRequestTypeValues, minus embedding
# Span names of the per-vendor instrumentations: `openai.chat`, `anthropic.chat`, ...
SPAN_NAME = re.compile(r"^[a-z][a-z0-9_]*\.(chat|completion)$")
_SPAN_NAME_ENDINGS = (".chat", ".completion")  # checked first: most names end otherwise
REQUEST_TYPE_KEY = "llm.request.type"
MARKER_PREFIXES = ("gen_ai.completion.", "gen_ai.prompt.", "llm.usage.", "traceloop.")
_has_marker = key_prefix_test(MARKER_PREFIXES)
# `SpanAttributes.LLM_IS_STREAMING`: a boolean here, the text "True"/"False" from LiteLLM.
STREAMING_KEY = "llm.is_streaming"


def claims(span: SpanView) -> bool:
    attrs = span.attributes
    return REQUEST_TYPE_KEY in attrs or vendor_span_name(span.name) or _has_marker(span)


def vendor_span_name(name: str) -> bool:
    return name.endswith(_SPAN_NAME_ENDINGS) and bool(SPAN_NAME.match(name))


def role(span: SpanView) -> Role | None:
    attrs = span.attributes
    kind = attrs.get("traceloop.span.kind")
    if kind is not None:  # workflow/task/agent/tool decorators of the Traceloop SDK
        return "tool" if kind == "tool" else None
    request_type = attrs.get("llm.request.type")
    if request_type is not None:
        return "llm" if request_type in LLM_REQUEST_TYPES else None
    return genai.span_role(span) or ("llm" if SPAN_NAME.match(span.name) else None)


def function_definitions(attrs: Mapping[str, Any]) -> ToolDefinitions | None:
    """`llm.request.functions.N.{name,parameters}` (parameters as JSON text) → definitions.
    LiteLLM's OTel callback writes the same names."""
    functions = indexed(attrs, "llm.request.functions")
    if not functions:
        return None
    return tool_definitions(
        [
            {"name": f.get("name"), "parameters": parse_json(f.get("parameters"))}
            for f in functions.values()
        ]
    )


def fields(span: SpanView, read: AttributeReader) -> SpanFields:
    base = genai.fields(span, read, SOURCE)
    attrs = read.attrs
    completions = indexed(attrs, "gen_ai.completion")
    reasons = base.finish_reasons or [
        r for c in completions.values() if (r := to_text(c.get("finish_reason")))
    ]
    if not reasons and (reason := read.text("llm.response.finish_reason")):
        reasons = [reason]
    output_tokens = base.output_tokens
    total = read.count("gen_ai.usage.total_tokens", "llm.usage.total_tokens")
    if output_tokens is None and total is not None and base.input_tokens is not None:
        output_tokens = total - base.input_tokens if total >= base.input_tokens else None
    input_tokens = base.input_tokens
    if input_tokens is not None and normalize_provider(base.provider_raw) == "amazon-bedrock":
        # The Bedrock instrumentation reports Bedrock's own input count, which leaves the
        # cache reads and writes out (opentelemetry-instrumentation-bedrock span_utils.py);
        # the other vendors' instrumentations add them.
        input_tokens += (base.cached_input_tokens or 0) + (base.cache_write_tokens or 0)
    choice0 = completions.get(0)
    calls = base.tool_calls
    if calls is None and choice0 is not None:
        calls = calls_from_indexed(indexed(choice0, "tool_calls"), "name", "arguments")
    return dataclasses.replace(
        base,
        finish_reasons=reasons,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        reasoning_tokens=base.reasoning_tokens
        if base.reasoning_tokens is not None
        else read.count("llm.usage.reasoning_tokens"),
        tool_calls=calls,
        tool_definitions=base.tool_definitions or function_definitions(attrs),
        stream=base.stream if base.stream is not None else read.flag(STREAMING_KEY),
    )


CONVENTION = SpanConvention(name="openllmetry", claims=claims, role=role, fields=fields)
