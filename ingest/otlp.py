"""OTLP/HTTP trace payloads (protobuf and JSON) → `SpanView`s, one shape for both encodings.

Both decoders produce the same view for the same span, so every convention mapper downstream
is written once. The field values both encodings share are read by `ingest.otlp_values`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest.limits import current_limits
from ingest.otlp_values import (
    PayloadError,
    brief,
    first_of,
    hex_id,
    json_attributes,
    json_int,
    pb_attributes,
)

try:  # compiled at install (hatch_build.py); absent where no C compiler was found
    from ingest import otlp_scan
except ImportError:
    otlp_scan = None

STATUS_CODE_ERROR = 2
UINT64_MAX = 2**64 - 1


@dataclass(slots=True)
class SpanView:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    status_code: int
    status_message: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Every attribute key, each after a NUL, made on first use: convention detection tests key
    # prefixes on every span, and one substring search per prefix beats a loop over the keys.
    key_text: str | None = field(default=None, compare=False, repr=False)

    def has_key_prefix(self, needles: tuple[str, ...]) -> bool:
        """Whether an attribute key starts with one of `needles`' prefixes (each NUL-led)."""
        text = self.key_text
        if text is None:
            text = self.key_text = "\0" + "\0".join(self.attributes)
        for needle in needles:
            if needle in text:
                return True
        return False


@dataclass(slots=True)
class DecodedSpans:
    spans: list[SpanView]
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def reject(self, message: str) -> None:
        self.rejected += 1
        if len(self.errors) < 5:
            self.errors.append(message)


# --- protobuf -------------------------------------------------------------------------


def decode_traces_protobuf(body: bytes) -> DecodedSpans:
    """The compiled fast path when it is built and the body is one it reads; otherwise (and
    for every error, rejection and limit cut) the reference decoder."""
    if otlp_scan is not None:
        try:
            return DecodedSpans(spans=otlp_scan.decode_traces(body, current_limits(), SpanView))
        except otlp_scan.Unusual:
            pass
    return decode_traces_protobuf_reference(body)


def decode_traces_protobuf_reference(body: bytes) -> DecodedSpans:
    """Through the protobuf runtime (upb): any body, exactly as protobuf reads it."""
    try:
        request = ExportTraceServiceRequest.FromString(body)
    except (DecodeError, ValueError) as e:
        raise PayloadError(f"body is not a protobuf ExportTraceServiceRequest: {e}") from e
    out = DecodedSpans(spans=[])
    for resource_spans in request.resource_spans:
        resource = pb_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if (
                    len(span.trace_id) != 16
                    or len(span.span_id) != 8
                    or len(span.parent_span_id) not in (0, 8)
                ):
                    out.reject(
                        f"span {span.name!r}: traceId/spanId/parentSpanId must be 16/8/8 bytes"
                    )
                    continue
                out.spans.append(
                    SpanView(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        kind=span.kind,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        status_code=span.status.code,
                        status_message=span.status.message,
                        attributes=pb_attributes(span.attributes),
                        resource=resource,
                        events=[(e.name, pb_attributes(e.attributes)) for e in span.events]
                        if span.events
                        else [],
                    )
                )
    return out


# --- JSON -----------------------------------------------------------------------------


def _json_span(span: Any, resource: dict[str, Any]) -> SpanView:
    if not isinstance(span, dict):
        raise ValueError("span is not an object")
    status = span.get("status")
    if status is not None and not isinstance(status, dict):
        raise ValueError("status must be an object")
    status = status or {}
    attributes = span.get("attributes")
    if attributes is not None and not isinstance(attributes, list):
        raise ValueError("attributes must be an array")
    events = span.get("events") or []
    return SpanView(
        trace_id=hex_id(first_of(span, "traceId", "trace_id"), 16, "traceId", True),
        span_id=hex_id(first_of(span, "spanId", "span_id"), 8, "spanId", True),
        parent_span_id=hex_id(
            first_of(span, "parentSpanId", "parent_span_id"), 8, "parentSpanId", False
        ),
        name=span.get("name") if isinstance(span.get("name"), str) else "",
        kind=_span_uint(span.get("kind"), "kind"),
        start_ns=_span_uint(
            first_of(span, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano"
        ),
        end_ns=_span_uint(
            first_of(span, "endTimeUnixNano", "end_time_unix_nano"), "endTimeUnixNano"
        ),
        status_code=_span_uint(status.get("code"), "status.code"),
        status_message=str(status.get("message") or ""),
        attributes=json_attributes(attributes),
        resource=resource,
        events=[
            (str(e.get("name") or ""), json_attributes(e.get("attributes")))
            for e in events
            if isinstance(e, dict)
        ]
        if isinstance(events, list)
        else [],
    )


def _span_uint(raw: Any, name: str) -> int:
    """A span's own integer field (enum or fixed64 time): absent is 0, anything that is not
    what protobuf could carry rejects the span, as a wrong time or status would be a wrong row."""
    if raw is None:
        return 0
    value = json_int(raw)
    if value is None or not 0 <= value <= UINT64_MAX:
        raise ValueError(f"{name} is not an unsigned 64-bit integer: {brief(raw)}")
    return value


def decode_traces_json(body: bytes) -> DecodedSpans:
    try:
        request = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as e:
        raise PayloadError(f"body is not valid JSON: {e}") from e
    if not isinstance(request, dict):
        raise PayloadError("body must be a JSON object (ExportTraceServiceRequest)")
    resource_spans_list = first_of(request, "resourceSpans", "resource_spans")
    if resource_spans_list is None:
        resource_spans_list = []
    if not isinstance(resource_spans_list, list):
        raise PayloadError("resourceSpans must be an array")
    out = DecodedSpans(spans=[])
    for resource_spans in resource_spans_list:
        if not isinstance(resource_spans, dict):
            raise PayloadError("resourceSpans[] entries must be objects")
        resource_obj = resource_spans.get("resource")
        if resource_obj is not None and not isinstance(resource_obj, dict):
            raise PayloadError("resourceSpans[].resource must be an object")
        resource_attributes = resource_obj.get("attributes") if resource_obj else None
        if resource_attributes is not None and not isinstance(resource_attributes, list):
            raise PayloadError("resourceSpans[].resource.attributes must be an array")
        resource = json_attributes(resource_attributes)
        scope_list = first_of(resource_spans, "scopeSpans", "scope_spans")
        if scope_list is None:
            scope_list = []
        if not isinstance(scope_list, list):
            raise PayloadError("resourceSpans[].scopeSpans must be an array")
        for scope_spans in scope_list:
            if not isinstance(scope_spans, dict):
                raise PayloadError("scopeSpans[] entries must be objects")
            spans = scope_spans.get("spans")
            if spans is None:
                spans = []
            if not isinstance(spans, list):
                raise PayloadError("scopeSpans[].spans must be an array")
            for span in spans:
                try:
                    out.spans.append(_json_span(span, resource))
                except ValueError as e:
                    name = span.get("name") if isinstance(span, dict) else None
                    out.reject(f"span {brief(name)}: {e}")
    return out
