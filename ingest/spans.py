"""Decoded spans → canonical records: decide each span's convention, pick the request spans,
count their tool executions, build one record per request.

Detection order (first match decides; documented in docs/conventions/otlp-spans.md): the
conventions with a marker of their own come first, so their spans never fall through to the
generic GenAI reading — and an outer Vercel `ai.generateText` span, which also carries model
and usage, is never mistaken for a request.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ingest.conventions import (
    genai,
    litellm_otel,
    openinference,
    openllmetry,
    openrouter_broadcast,
    vercel,
)
from ingest.conventions.span_record import (
    AttributeReader,
    Role,
    SpanConvention,
    build_record,
)
from ingest.otlp import DecodedSpans, SpanView
from ingest.record import REQUEST_SCHEMA, Record

CONVENTIONS: tuple[SpanConvention, ...] = (
    openinference.CONVENTION,  # `openinference.span.kind`
    openrouter_broadcast.CONVENTION,  # resource `service.name = openrouter`
    vercel.LEGACY,  # `ai.operationId` / `ai.*` span names
    litellm_otel.CONVENTION,  # `litellm_request`, string `llm.is_streaming` + `metadata.*`
    openllmetry.CONVENTION,  # `llm.request.type`, `<vendor>.chat`, flattened completions
    vercel.GENAI,  # GenAI names plus the AI SDK's own spellings
    genai.CONVENTION,  # everything else
)


def convention_of(span: SpanView) -> SpanConvention:
    return next(c for c in CONVENTIONS if c.claims(span))


@dataclass(slots=True)
class MappedSpans:
    records: list[Record]  # the reference's dicts; empty where the requests are `rows`
    tool_spans: list[Record]
    spans: int
    rejected: int
    errors: list[str]
    warnings: Counter[str] = field(default_factory=Counter)
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # in REQUEST_SCHEMA's order

    @classmethod
    def of(
        cls,
        decoded: DecodedSpans,
        tool_spans: list[Record],
        warnings: Counter[str],
        *,
        records: list[Record] | None = None,
        rows: list[tuple[Any, ...]] | None = None,
    ) -> MappedSpans:
        return cls(
            records=records or [],
            tool_spans=tool_spans,
            spans=len(decoded.spans) + decoded.rejected,
            rejected=decoded.rejected,
            errors=decoded.errors,
            warnings=warnings,
            rows=rows or [],
        )


def map_span_rows(
    decoded: DecodedSpans, *, ingested_at_us: int, tenant: str | None = None
) -> MappedSpans:
    """The requests as `rows`: through the compiled mapper where it was built
    (`ingest/span_rows.pyx`), else from the reference's records."""
    if span_rows is None:
        mapped = map_spans(decoded, ingested_at_us=ingested_at_us, tenant=tenant)
        names = REQUEST_SCHEMA.names
        mapped.rows = [tuple(map(record.get, names)) for record in mapped.records]
        return mapped
    warnings: Counter[str] = Counter()
    rows, tool_spans, _ = span_rows.request_rows(decoded.spans, ingested_at_us, tenant, warnings)
    return MappedSpans.of(decoded, tool_spans, warnings, rows=rows)


def map_spans(
    decoded: DecodedSpans, *, ingested_at_us: int, tenant: str | None = None
) -> MappedSpans:
    conventions = [convention_of(span) for span in decoded.spans]
    roles: list[Role | None] = [
        c.role(span) for c, span in zip(conventions, decoded.spans, strict=True)
    ]
    warnings: Counter[str] = Counter()
    tool_spans = [
        {
            "trace_id": span.trace_id,
            "span_id": span.span_id,
            "parent_span_id": span.parent_span_id,
            "started_at": span.start_ns // 1000 if span.start_ns > 0 else None,
        }
        for span, role in zip(decoded.spans, roles, strict=True)
        if role == "tool" and span.parent_span_id
    ]
    # Tool executions count toward the request span that triggered them (their parent).
    tool_children = Counter((t["trace_id"], t["parent_span_id"]) for t in tool_spans)
    records: list[Record] = []
    for span, convention, role in zip(decoded.spans, conventions, roles, strict=True):
        if role != "llm":
            continue
        fields = convention.fields(span, AttributeReader(span.attributes, warnings))
        record = build_record(
            span,
            fields,
            tool_children.get((span.trace_id, span.span_id), 0),
            warnings,
            ingested_at_us=ingested_at_us,
        )
        if tenant is not None:
            record["tenant"] = tenant
        records.append(record)
    return MappedSpans.of(decoded, tool_spans, warnings, records=records)


try:  # compiled at install (hatch_build.py); it imports this module, so it comes last
    from ingest import span_rows
except ImportError:
    span_rows = None
