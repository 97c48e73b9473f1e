"""OpenRouter Broadcast → `SpanFields`: OTel GenAI names (singular, scalar
`gen_ai.response.finish_reason`) on spans whose resource is `service.name = openrouter`
(OpenRouterTeam/docs guides/features/broadcast)."""

from __future__ import annotations

from ingest.conventions import genai
from ingest.conventions.span_record import AttributeReader, SpanConvention, SpanFields
from ingest.otlp import SpanView

SOURCE = "otlp:openrouter"


def claims(span: SpanView) -> bool:
    return span.resource.get("service.name") == "openrouter"


def fields(span: SpanView, read: AttributeReader) -> SpanFields:
    return genai.fields(span, read, SOURCE)


CONVENTION = SpanConvention(name="openrouter", claims=claims, role=genai.span_role, fields=fields)
