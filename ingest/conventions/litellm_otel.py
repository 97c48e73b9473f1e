"""LiteLLM's OpenTelemetry callback → `SpanFields`.

Source: BerriAI/litellm litellm/integrations/opentelemetry.py (`set_attributes`). The request
span is `litellm_request` (or the caller's `generation_name`); its `gen_ai.system` is LiteLLM's
provider id (`bedrock`, `vertex_ai`, ...), `gen_ai.response.finish_reasons` a JSON-encoded
string, `llm.is_streaming` the string "True"/"False" (which tells it apart from OpenLLMetry's
boolean), the standard logging payload's metadata flattened to `metadata.*`, errors in
`error.type` / `error.code` / `error.llm_provider`. Tool calls are written per call as
`gen_ai.completion.<call index>.function_call.{name,arguments}`.
"""

from __future__ import annotations

import dataclasses

from ingest.conventions import genai
from ingest.conventions.openllmetry import STREAMING_KEY, function_definitions
from ingest.conventions.span_record import (
    AttributeReader,
    Role,
    SpanConvention,
    SpanFields,
    calls_from_indexed,
    indexed,
    key_prefix_test,
)
from ingest.otlp import SpanView

SOURCE = "otlp:litellm"
SPAN_NAME = "litellm_request"
# LiteLLM CallTypes that are one LLM call (embeddings, images, audio, files are not).
LLM_CALL_TYPES = frozenset(
    {
        "completion",
        "acompletion",
        "text_completion",
        "atext_completion",
        "responses",
        "aresponses",
        "anthropic_messages",
        "generate_content",
        "agenerate_content",
    }
)
APP_KEYS = ("metadata.user_api_key_alias", "metadata.user_api_key_team_alias")


METADATA_PREFIX = "metadata."
_has_metadata = key_prefix_test(METADATA_PREFIX)


def claims(span: SpanView) -> bool:
    attrs = span.attributes
    return span.name == SPAN_NAME or (
        isinstance(attrs.get(STREAMING_KEY), str) and _has_metadata(span)
    )


def role(span: SpanView) -> Role | None:
    call_type = span.attributes.get("llm.request.type")
    if call_type is not None and call_type not in LLM_CALL_TYPES:
        return None
    return genai.span_role(span)


def _http_status(code: str | None) -> int | None:
    return int(code) if code and code.isdigit() and 100 <= int(code) <= 599 else None


def fields(span: SpanView, read: AttributeReader) -> SpanFields:
    base = genai.fields(span, read, SOURCE)
    error_code = read.text("error.code")
    calls = calls_from_indexed(
        {
            n: c
            for n, c in indexed(read.attrs, "gen_ai.completion").items()
            if "function_call.name" in c
        },
        "function_call.name",
        "function_call.arguments",
    )
    return dataclasses.replace(
        base,
        provider_raw=base.provider_raw or read.text("error.llm_provider"),
        # LiteLLM writes the calls as flattened `gen_ai.completion.N.function_call.*` while its
        # `gen_ai.output.messages` holds only the text part (litellm 1.110).
        tool_calls=calls or base.tool_calls,
        tool_definitions=base.tool_definitions or function_definitions(read.attrs),
        error_signals=(base.error_signals[0], error_code),
        http_status=base.http_status or _http_status(error_code),
        app=read.text(*APP_KEYS),
        user_id=base.user_id or read.text("metadata.user_api_key_end_user_id"),
        # LiteLLM's own price for the call (observed on litellm 1.110 spans).
        cost_usd=read.amount("gen_ai.cost.total_cost"),
        # "True"/"False", or `gen_ai.request.stream` in LiteLLM's semconv mode.
        stream=base.stream if base.stream is not None else read.flag(STREAMING_KEY),
    )


CONVENTION = SpanConvention(name="litellm", claims=claims, role=role, fields=fields)
