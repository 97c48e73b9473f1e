"""Decoded spans → canonical records: pick the request spans, count their tool executions,
apply the convention mapper."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ingest.conventions import genai
from ingest.otlp import DecodedSpans
from ingest.record import Record


@dataclass(slots=True)
class MappedSpans:
    records: list[Record]
    tool_spans: list[Record]
    spans: int
    rejected: int
    errors: list[str]
    warnings: Counter[str] = field(default_factory=Counter)


def map_spans(
    decoded: DecodedSpans, *, ingested_at_us: int, tenant: str | None = None
) -> MappedSpans:
    roles = [genai.span_role(span) for span in decoded.spans]
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
    for span, role in zip(decoded.spans, roles, strict=True):
        if role != "llm":
            continue
        record = genai.map_llm_span(
            span,
            tool_children.get((span.trace_id, span.span_id), 0),
            warnings,
            ingested_at_us=ingested_at_us,
        )
        if tenant is not None:
            record["tenant"] = tenant
        records.append(record)
    return MappedSpans(
        records=records,
        tool_spans=tool_spans,
        spans=len(decoded.spans) + decoded.rejected,
        rejected=decoded.rejected,
        errors=decoded.errors,
        warnings=warnings,
    )
