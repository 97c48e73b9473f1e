"""Replay OTLP JSON spans through the real OpenTelemetry SDK and its OTLP/HTTP exporter.

The SDK keeps the recorded ids (via an IdGenerator fed per span), start/end times,
attributes and status, so the exporter sends exactly the recorded spans — encoded by the
SDK, as a real instrumented application would.
"""

from __future__ import annotations

from pathlib import Path

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from ingest.otlp import STATUS_CODE_ERROR, SpanView, decode_traces_json


class RecordedIds(IdGenerator):
    def __init__(self) -> None:
        self.trace_id = 0
        self.span_id = 0

    def generate_trace_id(self) -> int:
        return self.trace_id

    def generate_span_id(self) -> int:
        return self.span_id


def _sdk_attributes(attributes: dict) -> dict:
    return {k: v for k, v in attributes.items() if v is not None and not isinstance(v, dict)}


def replay(files: list[Path], endpoint: str) -> int:
    """Send every span of the OTLP JSON files; returns the number of spans sent."""
    spans: list[SpanView] = []
    for path in files:
        spans.extend(decode_traces_json(path.read_bytes()).spans)
    providers: dict[str, tuple[TracerProvider, RecordedIds]] = {}
    for span in spans:
        app = span.resource.get("service.name", "unknown")
        if app not in providers:
            ids = RecordedIds()
            provider = TracerProvider(resource=Resource.create(span.resource), id_generator=ids)
            provider.add_span_processor(
                # A queue for every span: replay outpaces any exporter, and dropped spans
                # would be the client's loss, not the server's.
                BatchSpanProcessor(
                    OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"),
                    max_queue_size=len(spans) + 1,
                )
            )
            providers[app] = (provider, ids)
        provider, ids = providers[app]
        ids.trace_id = int(span.trace_id, 16)
        ids.span_id = int(span.span_id, 16)
        context = None
        if span.parent_span_id:
            parent = SpanContext(
                int(span.trace_id, 16),
                int(span.parent_span_id, 16),
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
            context = trace.set_span_in_context(NonRecordingSpan(parent))
        sdk_span = provider.get_tracer("gatewatch.replay").start_span(
            span.name,
            context=context,
            kind=SpanKind(span.kind - 1) if span.kind else SpanKind.INTERNAL,
            attributes=_sdk_attributes(span.attributes),
            start_time=span.start_ns,
        )
        if span.status_code == STATUS_CODE_ERROR:
            sdk_span.set_status(Status(StatusCode.ERROR, span.status_message or None))
        sdk_span.end(end_time=span.end_ns)
    for provider, _ in providers.values():
        provider.force_flush()
        provider.shutdown()
    return len(spans)
