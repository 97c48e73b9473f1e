"""OTLP/HTTP log payloads (protobuf and JSON) → `LogView`s, one shape for both encodings.

Events are log records named by LogRecord `event_name` (proto field 12) or, before that field
existed, an `event.name` attribute (open-telemetry/opentelemetry-proto
opentelemetry/proto/logs/v1/logs.proto).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from ingest.otlp_values import (
    PayloadError,
    first_of,
    hex_id,
    json_attributes,
    json_int,
    json_value,
    pb_attributes,
    pb_value,
)

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
        resource = pb_attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                index = out.received
                out.received += 1
                if len(record.trace_id) not in (0, 16) or len(record.span_id) not in (0, 8):
                    out.reject(index, "traceId/spanId must be 16/8 bytes (or absent)")
                    continue
                attributes = pb_attributes(record.attributes)
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
                        body=pb_value(record.body) if record.HasField("body") else None,
                        attributes=attributes,
                        resource=resource,
                    )
                )
    return out


def _json_log_record(index: int, record: Any, resource: dict[str, Any]) -> LogView:
    if not isinstance(record, dict):
        raise ValueError("log record is not an object")
    attributes = json_attributes(record.get("attributes"))
    trace_id, span_id = _log_ids(
        hex_id(first_of(record, "traceId", "trace_id"), 16, "traceId", False),
        hex_id(first_of(record, "spanId", "span_id"), 8, "spanId", False),
    )
    severity_text = first_of(record, "severityText", "severity_text")
    return LogView(
        index=index,
        trace_id=trace_id,
        span_id=span_id,
        event_name=_event_name(first_of(record, "eventName", "event_name"), attributes),
        time_ns=json_int(first_of(record, "timeUnixNano", "time_unix_nano"))
        or json_int(first_of(record, "observedTimeUnixNano", "observed_time_unix_nano"))
        or 0,
        severity_number=json_int(first_of(record, "severityNumber", "severity_number")) or 0,
        severity_text=severity_text if isinstance(severity_text, str) else "",
        body=json_value(record.get("body")),
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
    resource_logs_list = first_of(request, "resourceLogs", "resource_logs") or []
    if not isinstance(resource_logs_list, list):
        raise PayloadError("resourceLogs must be an array")
    out = DecodedLogs(records=[])
    for resource_logs in resource_logs_list:
        if not isinstance(resource_logs, dict):
            raise PayloadError("resourceLogs[] entries must be objects")
        resource_obj = resource_logs.get("resource")
        if resource_obj is not None and not isinstance(resource_obj, dict):
            raise PayloadError("resourceLogs[].resource must be an object")
        resource = json_attributes(resource_obj.get("attributes")) if resource_obj else {}
        scope_list = first_of(resource_logs, "scopeLogs", "scope_logs") or []
        for scope_logs in scope_list if isinstance(scope_list, list) else []:
            records = (
                first_of(scope_logs, "logRecords", "log_records")
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
