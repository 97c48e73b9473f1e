"""Decoded OTLP log records → canonical records, for the GenAI events that describe a request.

Two events carry what a request row needs (reference/conventions.md §1):

- `gen_ai.client.inference.operation.details` — the same `gen_ai.*` request, response and
  usage attributes as the request span, plus opt-in `gen_ai.output.messages` and
  `gen_ai.tool.definitions` (open-telemetry/semantic-conventions
  docs/gen-ai/gen-ai-events.md; emitted by opentelemetry-python-contrib
  util/opentelemetry-util-genai span_utils.py `_maybe_emit_llm_event`).
- deprecated `gen_ai.choice` — body `{index, finish_reason, message{role, content,
  tool_calls}}`; `tool_calls` also appears beside `message` (semantic-conventions v1.28
  gen-ai-events.md), and the OpenAI instrumentation writes `"error"` when no finish reason
  was received (opentelemetry-python-contrib instrumentation-genai/
  opentelemetry-instrumentation-openai-v2 utils.py `choice_to_event`). Choice 0 is canonical.

Every other log record (message events, application logs) is accepted and produces no row.
An event record carries its span's trace and span id; the writer merges it into that span's
row (see `ingest.writer`), so the source tells the writer which rows are event-made.
Message content is never copied into a record.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from ingest.coerce import to_count, to_text
from ingest.conventions import genai
from ingest.conventions.span_record import AttributeReader, build_record
from ingest.normalize import classify_error, normalize_finish_reason, normalize_provider
from ingest.otlp import SpanView
from ingest.otlp_logs import DecodedLogs, LogView
from ingest.record import Record
from ingest.tool_quality import ToolCall

SOURCE = "otlp-logs:genai"

OPERATION_DETAILS = "gen_ai.client.inference.operation.details"
CHOICE = "gen_ai.choice"


@dataclass(slots=True)
class MappedLogs:
    records: list[Record]
    received: int
    rejected: int
    errors: list[str]
    warnings: Counter[str] = field(default_factory=Counter)


def _json_default(value: Any) -> str:
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError


def _request_id(log: LogView, response_id: str | None) -> str:
    """The response id, else the span's `trace_id:span_id`, else a hash of the whole record
    (a re-sent record maps to the same id, so it is never stored twice)."""
    if response_id:
        return response_id
    if log.trace_id and log.span_id:
        return f"{log.trace_id}:{log.span_id}"
    identity = [log.event_name, log.time_ns, log.attributes, log.body, log.resource]
    digest = hashlib.sha256(
        orjson.dumps(identity, option=orjson.OPT_SORT_KEYS, default=_json_default)
    ).hexdigest()
    return f"otlp-log:{digest[:32]}"


def _choice_tool_calls(body: dict[str, Any]) -> list[ToolCall]:
    message = body.get("message")
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    if calls is None:
        calls = body.get("tool_calls")
    out: list[ToolCall] = []
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        function = function if isinstance(function, dict) else {}
        out.append(ToolCall(to_text(function.get("name")), function.get("arguments")))
    return out


def _ids(log: LogView) -> dict[str, Any]:
    return {
        "trace_id": log.trace_id or None,
        "span_id": log.span_id or None,
        "started_at": log.time_ns // 1000 if log.time_ns > 0 else None,
        "source": SOURCE,
    }


def _operation_details(log: LogView, warnings: Counter[str], ingested_at_us: int) -> Record | None:
    # The event repeats the request span's attributes (output messages and tool definitions
    # included), so the GenAI span reading applies as it is. The event has no span clock:
    # its time stands in for the start, and the span's own row, when it comes, has the rest.
    view = SpanView(
        trace_id=log.trace_id,
        span_id=log.span_id,
        parent_span_id="",
        name=log.event_name,
        kind=0,
        start_ns=0,
        end_ns=0,
        status_code=0,
        status_message="",
        attributes=log.attributes,
        resource=log.resource,
    )
    if genai.span_role(view) != "llm":
        return None
    read = AttributeReader(log.attributes, warnings)
    fields = genai.fields(view, read, source=SOURCE)
    record = build_record(view, fields, 0, warnings, ingested_at_us=ingested_at_us)
    record.update(_ids(log))
    record.update(request_id=_request_id(log, fields.response_id), parent_span_id=None)
    return record


def _choice(log: LogView, ingested_at_us: int) -> Record | None:
    body = log.body
    if to_count(body.get("index")) not in (0, None):
        return None  # only the first choice describes the request row
    native = to_text(body.get("finish_reason")) or "error"  # the convention's "none received"
    calls = _choice_tool_calls(body)
    is_error = native == "error"
    provider_raw = next(
        (text for key in genai.PROVIDER_KEYS if (text := to_text(log.attributes.get(key)))), None
    )
    return {
        **_ids(log),
        "request_id": _request_id(log, None),
        "provider": normalize_provider(provider_raw),
        "provider_raw": provider_raw,
        "finish_reason": normalize_finish_reason(
            native, has_tool_calls=bool(calls), is_error=is_error
        ),
        "native_finish_reason": native,
        "tool_calls": len(calls),
        "status": "error" if is_error else "ok",
        "error_type": classify_error(None) if is_error else None,
        "app": to_text(log.resource.get("service.name")),
        "ingested_at": ingested_at_us,
    }


def map_logs(decoded: DecodedLogs, *, ingested_at_us: int, tenant: str | None = None) -> MappedLogs:
    warnings: Counter[str] = Counter()
    records: list[Record] = []
    for log in decoded.records:
        if log.event_name == OPERATION_DETAILS:
            record = _operation_details(log, warnings, ingested_at_us)
        elif log.event_name == CHOICE:
            if not isinstance(log.body, dict):
                decoded.reject(log.index, f"{CHOICE} body must be an object (a map)")
                continue
            record = _choice(log, ingested_at_us)
        else:
            continue
        if record is None:
            continue
        if tenant is not None:
            record["tenant"] = tenant
        records.append(record)
    return MappedLogs(
        records=records,
        received=decoded.received,
        rejected=decoded.rejected,
        errors=decoded.errors,
        warnings=warnings,
    )
