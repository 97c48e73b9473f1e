"""One span list → OTLP/HTTP `ExportTraceServiceRequest` as JSON or as protobuf (and one
event list → `ExportLogsServiceRequest`).

OTLP JSON is not stock protobuf JSON (reference/conventions.md §5): ids are lower-case hex,
int64s decimal strings, enums integers, keys lowerCamelCase. Both encoders take the same
`SpanRecord`s, so the two files of a day always describe the same spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

SCOPE_NAME = "gatewatch.sample"
STATUS_CODE_ERROR = 2

AttributeValue = str | bool | int | float | list[str]
Attributes = list[tuple[str, AttributeValue]]


@dataclass(slots=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: Attributes


@dataclass(slots=True)
class SpanRecord:
    """One span, independent of the encoding."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: Attributes
    error_message: str | None = None
    events: list[SpanEvent] = field(default_factory=list)


@dataclass(slots=True)
class EventRecord:
    """One log record that is an event of a span (`event_name` set, trace context given)."""

    trace_id: str
    span_id: str
    event_name: str
    time_ns: int
    attributes: Attributes


def _json_value(value: AttributeValue) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}  # OTLP JSON: int64 as a decimal string
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_json_value(v) for v in value]}}
    return {"stringValue": value}


def _json_attributes(attributes: Attributes) -> list[dict[str, Any]]:
    return [{"key": k, "value": _json_value(v)} for k, v in attributes]


def _json_span(span: SpanRecord) -> dict[str, Any]:
    encoded: dict[str, Any] = {"traceId": span.trace_id, "spanId": span.span_id}
    if span.parent_span_id:
        encoded["parentSpanId"] = span.parent_span_id
    encoded |= {
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": _json_attributes(span.attributes),
    }
    if span.events:
        encoded["events"] = [
            {
                "timeUnixNano": str(e.time_ns),
                "name": e.name,
                "attributes": _json_attributes(e.attributes),
            }
            for e in span.events
        ]
    if span.error_message is not None:
        encoded["status"] = {"code": STATUS_CODE_ERROR, "message": span.error_message}
    return encoded


def otlp_json(spans_per_app: dict[str, list[SpanRecord]]) -> dict[str, Any]:
    """An OTLP/HTTP JSON `ExportTraceServiceRequest`: hex ids, string int64s, integer enums."""
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": app}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": SCOPE_NAME},
                        "spans": [_json_span(s) for s in spans],
                    }
                ],
            }
            for app, spans in spans_per_app.items()
        ]
    }


def _proto_value(value: AttributeValue) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[_proto_value(v) for v in value]))
    return AnyValue(string_value=value)


def _proto_attributes(attributes: Attributes) -> list[KeyValue]:
    return [KeyValue(key=k, value=_proto_value(v)) for k, v in attributes]


def _proto_span(span: SpanRecord) -> Span:
    return Span(
        trace_id=bytes.fromhex(span.trace_id),
        span_id=bytes.fromhex(span.span_id),
        parent_span_id=bytes.fromhex(span.parent_span_id or ""),
        name=span.name,
        kind=span.kind,
        start_time_unix_nano=span.start_ns,
        end_time_unix_nano=span.end_ns,
        attributes=_proto_attributes(span.attributes),
        events=[
            Span.Event(
                time_unix_nano=e.time_ns, name=e.name, attributes=_proto_attributes(e.attributes)
            )
            for e in span.events
        ],
        status=Status(code=STATUS_CODE_ERROR, message=span.error_message)
        if span.error_message is not None
        else None,
    )


def otlp_proto(spans_per_app: dict[str, list[SpanRecord]]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    for app, spans in spans_per_app.items():
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.append(
            KeyValue(key="service.name", value=AnyValue(string_value=app))
        )
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = SCOPE_NAME
        scope_spans.spans.extend(_proto_span(s) for s in spans)
    return request


def otlp_logs_json(events_per_app: dict[str, list[EventRecord]]) -> dict[str, Any]:
    """An OTLP/HTTP JSON `ExportLogsServiceRequest` of span events."""
    return {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": app}}]
                },
                "scopeLogs": [
                    {
                        "scope": {"name": SCOPE_NAME},
                        "logRecords": [
                            {
                                "timeUnixNano": str(e.time_ns),
                                "eventName": e.event_name,
                                "traceId": e.trace_id,
                                "spanId": e.span_id,
                                "attributes": _json_attributes(e.attributes),
                            }
                            for e in events
                        ],
                    }
                ],
            }
            for app, events in events_per_app.items()
        ]
    }


def otlp_logs_proto(events_per_app: dict[str, list[EventRecord]]) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    for app, events in events_per_app.items():
        resource_logs = request.resource_logs.add()
        resource_logs.resource.attributes.append(
            KeyValue(key="service.name", value=AnyValue(string_value=app))
        )
        scope_logs = resource_logs.scope_logs.add()
        scope_logs.scope.name = SCOPE_NAME
        scope_logs.log_records.extend(
            LogRecord(
                time_unix_nano=e.time_ns,
                event_name=e.event_name,
                trace_id=bytes.fromhex(e.trace_id),
                span_id=bytes.fromhex(e.span_id),
                attributes=_proto_attributes(e.attributes),
            )
            for e in events
        )
    return request
