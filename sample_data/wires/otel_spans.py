"""Wires that carry a request as OTel GenAI spans: current names, the names before v1.37,
completed by a `gen_ai.client.inference.operation.details` log event, OpenRouter Broadcast and
the AI SDK's GenAI integration. All start from the sample's own GenAI span
(`sample_data.writers.llm_span`), so they differ only where their conventions do."""

from __future__ import annotations

from sample_data.otlp_encoding import Attributes, EventRecord, SpanEvent, SpanRecord
from sample_data.wires.logical import (
    OPENAI_FINISH,
    SDK_FINISH,
    Row,
    gateway_provider,
    ids,
    otel_provider,
)
from sample_data.writers import spans_by_app

Spans = dict[str, list[SpanRecord]]

OPERATION_DETAILS = "gen_ai.client.inference.operation.details"
CACHE_WRITE = "gen_ai.usage.cache_write.input_tokens"
GENAI_EXCEPTION = "gen_ai.client.operation.exception"
# What only the answer tells: the event of a split span carries these, the span the rest.
RESPONSE_KEYS = frozenset(
    {
        "gen_ai.response.model",
        "gen_ai.response.id",
        "gen_ai.response.finish_reasons",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.response.time_to_first_chunk",
    }
)
# Semantic conventions before v1.37 (v1.27–v1.36): `gen_ai.system`, prompt/completion token
# names, the old HTTP status name; no reasoning, cache or time-to-first-chunk attributes.
PRE_1_37_NAMES = {
    "gen_ai.usage.input_tokens": "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.output_tokens": "gen_ai.usage.completion_tokens",
    "http.response.status_code": "http.status_code",
}
PRE_1_37_ABSENT = frozenset(
    {
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.response.time_to_first_chunk",
        "gen_ai.request.stream",
    }
)


def otel_row(row: Row, *, deprecated: bool = False) -> Row:
    """The row as an OTel-instrumented app reports it: its own span ids, the provider's OTel
    name (`gen_ai.system`'s deprecated spelling when asked)."""
    trace_id, span_id = ids(row)
    return row | {
        "trace_id": trace_id,
        "span_id": span_id,
        "provider_key": "gen_ai.system" if deprecated else "gen_ai.provider.name",
        "provider_raw": otel_provider(row, deprecated=deprecated),
    }


def request_span(spans: Spans, row: Row) -> SpanRecord:
    return next(s for s in spans[row["app"]] if s.span_id == row["span_id"])


def genai_current(row: Row) -> Spans:
    """The sample's span; a failed call also records the GenAI exception event
    (semantic-conventions-genai model/gen-ai/events.yaml) beside `error.type`."""
    row = otel_row(row)
    spans = spans_by_app([row])
    if row["status"] == "error":
        request_span(spans, row).events.append(
            SpanEvent(
                GENAI_EXCEPTION,
                row["end_ns"],
                [("exception.type", row["error_name"]), ("exception.message", "failed")],
            )
        )
    return spans


def genai_pre_1_37(row: Row) -> Spans:
    row = otel_row(row, deprecated=True)
    spans = spans_by_app([row])
    span = request_span(spans, row)
    span.attributes = [
        (PRE_1_37_NAMES.get(key, key), value)
        for key, value in span.attributes
        if key not in PRE_1_37_ABSENT
    ]
    return spans


def genai_v1_41(row: Row) -> Spans:
    """The last names before the move to semantic-conventions-genai: cache writes were
    `gen_ai.usage.cache_creation.input_tokens`."""
    row = otel_row(row)
    spans = spans_by_app([row])
    span = request_span(spans, row)
    span.attributes = [
        ("gen_ai.usage.cache_creation.input_tokens" if k == CACHE_WRITE else k, v)
        for k, v in span.attributes
    ]
    return spans


def genai_split(row: Row) -> tuple[Spans, dict[str, list[EventRecord]]]:
    """The span with the request's attributes; the operation-details event, logged at the
    span's end, with all of them (the event repeats the span's attributes)."""
    row = otel_row(row)
    spans = spans_by_app([row])
    span = request_span(spans, row)
    event = EventRecord(
        span.trace_id, span.span_id, OPERATION_DETAILS, span.end_ns, list(span.attributes)
    )
    span.attributes = [(k, v) for k, v in span.attributes if k not in RESPONSE_KEYS]
    return spans, {row["app"]: [event]}


def openrouter_broadcast(row: Row) -> Spans:
    """OpenRouter Broadcast (OpenRouterTeam/docs guides/features/broadcast): resource
    `service.name = openrouter`, the provider as OpenRouter names it, OpenRouter's model id,
    input/output usage and OpenRouter's own finish reason in the singular
    `gen_ai.response.finish_reason`."""
    trace_id, span_id = ids(row)
    attributes: Attributes = [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.system", gateway_provider(row)),
        ("gen_ai.request.model", row["model"]),
        ("gen_ai.response.model", row["model"]),
        ("gen_ai.usage.input_tokens", row["input_tokens"]),
        ("gen_ai.usage.output_tokens", row["output_tokens"]),
        ("gen_ai.usage.total_tokens", row["input_tokens"] + row["output_tokens"]),
        ("gen_ai.response.finish_reason", OPENAI_FINISH[row["finish_reason"]]),
    ]
    attributes += [(k, row[c]) for k, c in (("user.id", "user_id"), ("session.id", "session_id"))]
    span = SpanRecord(
        trace_id, span_id, None, "chat", 3, row["start_ns"], row["end_ns"], _present(attributes)
    )
    return {"openrouter": [span]}


def vercel_genai(row: Row) -> Spans:
    """The AI SDK's OpenTelemetry integration (vercel/ai packages/otel): GenAI names, the
    SDK's own finish values, TTFT as the client metric's name in seconds, reasoning in the
    supplemental `ai.usage.outputTokenDetails.reasoningTokens`; errors as `error.type` only."""
    row = otel_row(row)
    spans = spans_by_app([row])
    span = request_span(spans, row)
    renamed: Attributes = []
    for key, value in span.attributes:
        if key == "gen_ai.response.finish_reasons":
            value = [SDK_FINISH[row["finish_reason"]]]
        elif key == "gen_ai.response.time_to_first_chunk":
            key = "gen_ai.client.operation.time_to_first_chunk"
        elif key == "gen_ai.usage.reasoning.output_tokens":
            key = "ai.usage.outputTokenDetails.reasoningTokens"
        elif key == "http.response.status_code":
            continue
        renamed.append((key, value))
    span.attributes = renamed
    return spans


def _present(attributes: Attributes) -> Attributes:
    return [(k, v) for k, v in attributes if v is not None]


def merged_spans(exports: list[Spans]) -> Spans:
    """Several requests' spans in one export, per app."""
    merged: Spans = {}
    for export in exports:
        for app, spans in export.items():
            merged.setdefault(app, []).extend(spans)
    return merged
