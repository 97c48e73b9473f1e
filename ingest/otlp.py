"""OTLP/HTTP trace and log payloads (protobuf and JSON) → `SpanView`s and `LogView`s, one shape
for both encodings.

Both decoders produce the same view for the same span or log record, so every convention
mapper downstream is written once. OTLP JSON differs from stock protobuf JSON: ids are hex (not
base64), int64s arrive as decimal strings, enums as integers (reference/conventions.md §5).
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest.limits import (
    ATTRIBUTES_DROPPED,
    VALUE_TOO_DEEP,
    VALUE_TOO_LONG,
    VALUE_WRONG_TYPE,
    ValueLimits,
    count_cut,
    current_limits,
)

STATUS_CODE_ERROR = 2
UINT64_MAX = 2**64 - 1
MAX_QUOTED_CHARS = 80  # of a bad value quoted in an error message


class PayloadError(ValueError):
    """The whole body cannot be decoded (→ HTTP 400)."""


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


def _pb_value(value: Any, depth: int = 0, limits: ValueLimits | None = None) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    limits = limits or current_limits()
    if kind == "array_value":
        if _too_deep(depth, limits):
            return None
        return [_pb_value(v, depth + 1, limits) for v in _capped(value.array_value.values, limits)]
    if kind == "kvlist_value":
        if _too_deep(depth, limits):
            return None
        return _pb_attributes(value.kvlist_value.values, depth + 1, limits)
    scalar = getattr(value, kind)
    if kind in ("string_value", "bytes_value"):
        return _within_length(scalar, limits)
    return scalar


def _pb_attributes(
    attributes: Any, depth: int = 0, limits: ValueLimits | None = None
) -> dict[str, Any]:
    limits = limits or current_limits()
    return {kv.key: _pb_value(kv.value, depth, limits) for kv in _capped(attributes, limits)}


def _capped(entries: Any, limits: ValueLimits) -> Any:
    """The first `max_attributes` entries of an attribute list, kvlist or array."""
    if len(entries) <= limits.max_attributes:
        return entries
    count_cut(ATTRIBUTES_DROPPED)
    return entries[: limits.max_attributes]


def _too_deep(depth: int, limits: ValueLimits) -> bool:
    if depth < limits.max_depth:
        return False
    count_cut(VALUE_TOO_DEEP)
    return True


def _within_length(value: str | bytes, limits: ValueLimits) -> str | bytes | None:
    if len(value) <= limits.max_chars:
        return value
    count_cut(VALUE_TOO_LONG)
    return None


def decode_traces_protobuf(body: bytes) -> DecodedSpans:
    try:
        request = ExportTraceServiceRequest.FromString(body)
    except (DecodeError, ValueError) as e:
        raise PayloadError(f"body is not a protobuf ExportTraceServiceRequest: {e}") from e
    out = DecodedSpans(spans=[])
    for resource_spans in request.resource_spans:
        resource = _pb_attributes(resource_spans.resource.attributes)
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
                        attributes=_pb_attributes(span.attributes),
                        resource=resource,
                        events=[(e.name, _pb_attributes(e.attributes)) for e in span.events]
                        if span.events
                        else [],
                    )
                )
    return out


# --- JSON -----------------------------------------------------------------------------


def _json_value(value: Any, depth: int = 0, limits: ValueLimits | None = None) -> Any:
    if not isinstance(value, dict) or not value:
        return None
    limits = limits or current_limits()
    for key, raw in value.items():
        if key in ("stringValue", "string_value"):
            return _within_length(raw, limits) if isinstance(raw, str) else _wrong_type()
        if key in ("intValue", "int_value"):
            number = _json_int(raw)
            return number if number is not None else _wrong_type()
        if key in ("doubleValue", "double_value"):
            number = _json_double(raw)
            return number if number is not None else _wrong_type()
        if key in ("boolValue", "bool_value"):
            return raw if isinstance(raw, bool) else _wrong_type()
        if key in ("bytesValue", "bytes_value"):
            try:
                return _within_length(base64.b64decode(raw, validate=True), limits)
            except (ValueError, TypeError):
                return _wrong_type()
        if key in ("arrayValue", "array_value"):
            if _too_deep(depth, limits):
                return None
            values = raw.get("values") if isinstance(raw, dict) else None
            if not isinstance(values, list):
                return []
            return [_json_value(v, depth + 1, limits) for v in _capped(values, limits)]
        if key in ("kvlistValue", "kvlist_value"):
            if _too_deep(depth, limits):
                return None
            values = raw.get("values") if isinstance(raw, dict) else None
            return _json_attributes(values, depth + 1, limits)
    return None


def _wrong_type() -> None:
    count_cut(VALUE_WRONG_TYPE)
    return None


def _json_attributes(
    attributes: Any, depth: int = 0, limits: ValueLimits | None = None
) -> dict[str, Any]:
    if not isinstance(attributes, list):
        return {}
    limits = limits or current_limits()
    out: dict[str, Any] = {}
    for kv in _capped(attributes, limits):
        if isinstance(kv, dict):
            key = kv.get("key")
            if isinstance(key, str):
                out[key] = _json_value(kv.get("value"), depth, limits)
    return out


def _json_int(raw: Any) -> int | None:
    """OTLP JSON int64: a decimal string (spec) or a number (accepted)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            return None
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return int(raw)
    return None


def _json_double(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):  # "NaN", "Infinity" are legal protobuf JSON
        try:
            return float(raw)
        except ValueError:
            return None
    return None


def _hex_id(raw: Any, size: int, name: str, required: bool) -> str:
    if raw in (None, ""):
        if required:
            raise ValueError(f"{name} is missing")
        return ""
    if not isinstance(raw, str) or len(raw) != size * 2:
        raise ValueError(f"{name} must be {size * 2} hex characters")
    try:
        bytes.fromhex(raw)
    except ValueError:
        raise ValueError(f"{name} is not hex: {raw!r}") from None
    return raw.lower()


def _first(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


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
        trace_id=_hex_id(_first(span, "traceId", "trace_id"), 16, "traceId", True),
        span_id=_hex_id(_first(span, "spanId", "span_id"), 8, "spanId", True),
        parent_span_id=_hex_id(
            _first(span, "parentSpanId", "parent_span_id"), 8, "parentSpanId", False
        ),
        name=span.get("name") if isinstance(span.get("name"), str) else "",
        kind=_span_uint(span.get("kind"), "kind"),
        start_ns=_span_uint(
            _first(span, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano"
        ),
        end_ns=_span_uint(_first(span, "endTimeUnixNano", "end_time_unix_nano"), "endTimeUnixNano"),
        status_code=_span_uint(status.get("code"), "status.code"),
        status_message=str(status.get("message") or ""),
        attributes=_json_attributes(attributes),
        resource=resource,
        events=[
            (str(e.get("name") or ""), _json_attributes(e.get("attributes")))
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
    value = _json_int(raw)
    if value is None or not 0 <= value <= UINT64_MAX:
        raise ValueError(f"{name} is not an unsigned 64-bit integer: {_brief(raw)}")
    return value


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_QUOTED_CHARS else text[:MAX_QUOTED_CHARS] + "…"


def decode_traces_json(body: bytes) -> DecodedSpans:
    try:
        request = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as e:
        raise PayloadError(f"body is not valid JSON: {e}") from e
    if not isinstance(request, dict):
        raise PayloadError("body must be a JSON object (ExportTraceServiceRequest)")
    resource_spans_list = _first(request, "resourceSpans", "resource_spans")
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
        resource = _json_attributes(resource_attributes)
        scope_list = _first(resource_spans, "scopeSpans", "scope_spans")
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
                    out.reject(f"span {_brief(name)}: {e}")
    return out


# --- logs -----------------------------------------------------------------------------
# ExportLogsServiceRequest → `LogView`s. Events are log records named by LogRecord
# `event_name` (proto field 12) or, before that field existed, an `event.name` attribute
# (open-telemetry/opentelemetry-proto opentelemetry/proto/logs/v1/logs.proto).

EVENT_NAME_ATTRIBUTE = "event.name"


@dataclass(slots=True)
class LogView:
    index: int  # position of the record in its request, for per-record error reports
    trace_id: str  # "" when the record carries no trace context
    span_id: str
    event_name: str
    time_ns: int  # time_unix_nano, else observed_time_unix_nano; 0 when neither is set
    severity_number: int
    severity_text: str
    body: Any
    attributes: dict[str, Any]
    resource: dict[str, Any]


@dataclass(slots=True)
class DecodedLogs:
    records: list[LogView]
    received: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def reject(self, index: int, message: str) -> None:
        self.rejected += 1
        if len(self.errors) < 5:
            self.errors.append(f"log record {index}: {message}")


def _event_name(declared: Any, attributes: dict[str, Any]) -> str:
    if isinstance(declared, str) and declared:
        return declared
    legacy = attributes.get(EVENT_NAME_ATTRIBUTE)
    return legacy if isinstance(legacy, str) else ""


def _no_trace_context(hex_id: str) -> bool:
    """The spec's invalid all-zero id means "no trace context", like an empty one."""
    return not hex_id.strip("0")


def _log_ids(trace_id: str, span_id: str) -> tuple[str, str]:
    if _no_trace_context(trace_id):
        return "", ""
    return trace_id, "" if _no_trace_context(span_id) else span_id


def decode_logs_protobuf(body: bytes) -> DecodedLogs:
    try:
        request = ExportLogsServiceRequest.FromString(body)
    except (DecodeError, ValueError) as e:
        raise PayloadError(f"body is not a protobuf ExportLogsServiceRequest: {e}") from e
    out = DecodedLogs(records=[])
    for resource_logs in request.resource_logs:
        resource = _pb_attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                index = out.received
                out.received += 1
                if len(record.trace_id) not in (0, 16) or len(record.span_id) not in (0, 8):
                    out.reject(index, "traceId/spanId must be 16/8 bytes (or absent)")
                    continue
                attributes = _pb_attributes(record.attributes)
                trace_id, span_id = _log_ids(record.trace_id.hex(), record.span_id.hex())
                out.records.append(
                    LogView(
                        index=index,
                        trace_id=trace_id,
                        span_id=span_id,
                        event_name=_event_name(record.event_name, attributes),
                        time_ns=record.time_unix_nano or record.observed_time_unix_nano,
                        severity_number=record.severity_number,
                        severity_text=record.severity_text,
                        body=_pb_value(record.body) if record.HasField("body") else None,
                        attributes=attributes,
                        resource=resource,
                    )
                )
    return out


def _json_log_record(index: int, record: Any, resource: dict[str, Any]) -> LogView:
    if not isinstance(record, dict):
        raise ValueError("log record is not an object")
    attributes = _json_attributes(record.get("attributes"))
    trace_id, span_id = _log_ids(
        _hex_id(_first(record, "traceId", "trace_id"), 16, "traceId", False),
        _hex_id(_first(record, "spanId", "span_id"), 8, "spanId", False),
    )
    severity_text = _first(record, "severityText", "severity_text")
    return LogView(
        index=index,
        trace_id=trace_id,
        span_id=span_id,
        event_name=_event_name(_first(record, "eventName", "event_name"), attributes),
        time_ns=_json_int(_first(record, "timeUnixNano", "time_unix_nano"))
        or _json_int(_first(record, "observedTimeUnixNano", "observed_time_unix_nano"))
        or 0,
        severity_number=_json_int(_first(record, "severityNumber", "severity_number")) or 0,
        severity_text=severity_text if isinstance(severity_text, str) else "",
        body=_json_value(record.get("body")),
        attributes=attributes,
        resource=resource,
    )


def decode_logs_json(body: bytes) -> DecodedLogs:
    try:
        request = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as e:
        raise PayloadError(f"body is not valid JSON: {e}") from e
    if not isinstance(request, dict):
        raise PayloadError("body must be a JSON object (ExportLogsServiceRequest)")
    resource_logs_list = _first(request, "resourceLogs", "resource_logs") or []
    if not isinstance(resource_logs_list, list):
        raise PayloadError("resourceLogs must be an array")
    out = DecodedLogs(records=[])
    for resource_logs in resource_logs_list:
        if not isinstance(resource_logs, dict):
            raise PayloadError("resourceLogs[] entries must be objects")
        resource_obj = resource_logs.get("resource")
        if resource_obj is not None and not isinstance(resource_obj, dict):
            raise PayloadError("resourceLogs[].resource must be an object")
        resource = _json_attributes(resource_obj.get("attributes")) if resource_obj else {}
        scope_list = _first(resource_logs, "scopeLogs", "scope_logs") or []
        for scope_logs in scope_list if isinstance(scope_list, list) else []:
            records = (
                _first(scope_logs, "logRecords", "log_records")
                if isinstance(scope_logs, dict)
                else None
            )
            for record in records if isinstance(records, list) else []:
                index = out.received
                out.received += 1
                try:
                    out.records.append(_json_log_record(index, record, resource))
                except ValueError as e:
                    out.reject(index, str(e))
    return out
