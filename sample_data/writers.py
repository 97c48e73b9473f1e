"""Sample traffic → files in every supported input format.

The OTLP channel (apps instrumented with OTel GenAI) becomes one `ExportTraceServiceRequest`
per day, as OTLP/HTTP JSON (`traces/YYYY-MM-DD.json`) and/or protobuf (`traces/YYYY-MM-DD.pb`);
the request-log channel (the gateway's own logs) becomes canonical records, one JSON object a
line (`requests/YYYY-MM-DD.jsonl`). Both encodings are built from one span list, so they
always describe the same spans.
"""

from __future__ import annotations

import datetime as dt
import gzip as gzip_module
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from sample_data.generator import SampleTraffic, generate

FORMATS = ("otlp-json", "otlp-proto", "jsonl")
SCOPE_NAME = "gatewatch.sample"
SPAN_KIND_INTERNAL = 1
SPAN_KIND_CLIENT = 3
STATUS_CODE_ERROR = 2
TOOL_GAP_NS = 200_000  # the agent loop's pause between an answer and each tool run
AGENT_MARGIN_NS = 1_000_000

AttributeValue = str | bool | int | float | list[str]

# Canonical columns a gateway request log carries (ids of the OTLP world stay NULL there).
JSONL_KEYS = (
    "request_id",
    "duration_ms",
    "ttft_ms",
    "provider",
    "provider_raw",
    "model",
    "model_raw",
    "finish_reason",
    "native_finish_reason",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "tool_calls",
    "status",
    "error_type",
    "http_status",
    "app",
    "user_id",
    "session_id",
)


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
    attributes: list[tuple[str, AttributeValue]]
    error_message: str | None = None


@dataclass(slots=True)
class _Agent:
    trace_id: str
    name: str
    start_ns: int
    end_ns: int
    children: list[SpanRecord] = field(default_factory=list)


def write_sample(
    traffic: SampleTraffic,
    out_dir: Path,
    formats: Sequence[str] = ("otlp-json", "jsonl"),
    *,
    gzip: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write `traffic` under `out_dir` in each of `formats`; returns the files written."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown sample format {', '.join(unknown)}; choose from {FORMATS}")
    written: list[Path] = []
    days = list(_rows_by_day(traffic))
    for number, (day, rows) in enumerate(days, start=1):
        otlp_rows = [r for r in rows if r["channel"] == "otlp"]
        log_rows = [r for r in rows if r["channel"] == "jsonl"]
        if otlp_rows and {"otlp-json", "otlp-proto"} & set(formats):
            spans = spans_by_app(otlp_rows)
            if "otlp-json" in formats:
                body = orjson.dumps(otlp_json(spans))
                written.append(_write(out_dir / "traces" / f"{day}.json", body, gzip))
            if "otlp-proto" in formats:
                body = otlp_proto(spans).SerializeToString(deterministic=True)
                written.append(_write(out_dir / "traces" / f"{day}.pb", body, gzip))
        if log_rows and "jsonl" in formats:
            body = b"".join(orjson.dumps(request_log_record(r)) + b"\n" for r in log_rows)
            written.append(_write(out_dir / "requests" / f"{day}.jsonl", body, gzip))
        if progress:
            progress(f"sample traffic: {number}/{len(days)} days written ({day})")
    return written


def sample_command(
    days: int,
    out: Path,
    formats: list[str],
    seed: int,
    end: dt.date | None,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """`gatewatch sample`: generate `days` days of traffic and write it under `out`."""
    traffic = generate(days, end=end, seed=seed)
    report = progress or (lambda message: print(message, file=sys.stderr))
    return write_sample(traffic, out, formats, progress=report)


def _write(path: Path, body: bytes, gzip: bool) -> Path:
    if gzip:
        path = path.with_name(path.name + ".gz")
        body = gzip_module.compress(body, mtime=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def _rows_by_day(traffic: SampleTraffic) -> Iterator[tuple[dt.date, list[dict[str, Any]]]]:
    """Each day's rows (request columns and wire columns merged), in start order."""
    started_us = traffic.requests.column("started_at").cast("int64").to_numpy()
    day_number = started_us // 86_400_000_000
    boundaries = np.flatnonzero(np.diff(day_number)) + 1
    starts = np.concatenate([[0], boundaries]).astype(int)
    ends = np.concatenate([boundaries, [len(day_number)]]).astype(int)
    for first, stop in zip(starts, ends, strict=True):
        if first == stop:
            continue
        requests = traffic.requests.slice(first, stop - first).to_pylist()
        wire = traffic.wire.slice(first, stop - first).to_pylist()
        day = dt.date(1970, 1, 1) + dt.timedelta(days=int(day_number[first]))
        yield day, [r | w for r, w in zip(requests, wire, strict=True)]


def request_log_record(row: dict[str, Any]) -> dict[str, Any]:
    """A gateway request-log line: the canonical record, NULL columns left out. A failed
    request got no answer, so it carries no finish reason (the pipeline stores `error`)."""
    record: dict[str, Any] = {
        "started_at": row["started_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    for key in JSONL_KEYS:
        if row[key] is not None:
            record[key] = row[key]
    if row["status"] == "error":
        del record["finish_reason"]
    return record


def spans_by_app(rows: list[dict[str, Any]]) -> dict[str, list[SpanRecord]]:
    """LLM spans with their execute_tool children and invoke_agent parents, per app."""
    by_app: dict[str, list[SpanRecord]] = {}
    agents: dict[str, tuple[str, _Agent]] = {}
    for row in rows:
        spans = by_app.setdefault(row["app"], [])
        llm = llm_span(row)
        spans.append(llm)
        children = tool_spans(row, llm)
        spans.extend(children)
        parent = row["parent_span_id"]
        if parent is None:
            continue
        end_ns = max([llm.end_ns, *(c.end_ns for c in children)])
        if parent not in agents:
            agent = _Agent(row["trace_id"], row["agent_name"], llm.start_ns, end_ns)
            agents[parent] = (row["app"], agent)
        agent = agents[parent][1]
        agent.start_ns = min(agent.start_ns, llm.start_ns)
        agent.end_ns = max(agent.end_ns, end_ns)
    for span_id, (app, agent) in agents.items():
        by_app[app].append(
            SpanRecord(
                agent.trace_id,
                span_id,
                None,
                f"invoke_agent {agent.name}",
                SPAN_KIND_INTERNAL,
                agent.start_ns - AGENT_MARGIN_NS,
                agent.end_ns + AGENT_MARGIN_NS,
                [("gen_ai.operation.name", "invoke_agent"), ("gen_ai.agent.name", agent.name)],
            )
        )
    return by_app


def llm_span(row: dict[str, Any]) -> SpanRecord:
    ok = row["status"] == "ok"
    attributes: list[tuple[str, AttributeValue]] = [
        ("gen_ai.operation.name", "chat"),
        (row["provider_key"], row["provider_raw"]),
        ("gen_ai.request.model", row["request_model"]),
        ("gen_ai.request.stream", row["streaming"]),
    ]
    if ok:
        attributes += [
            ("gen_ai.response.model", row["response_model"]),
            ("gen_ai.response.id", row["request_id"]),
            ("gen_ai.response.finish_reasons", [row["native_finish_reason"]]),
        ]
    optional = (
        ("gen_ai.usage.input_tokens", "input_tokens"),
        ("gen_ai.usage.output_tokens", "output_tokens"),
        ("gen_ai.usage.reasoning.output_tokens", "reasoning_tokens"),
        ("gen_ai.usage.cache_read.input_tokens", "cached_input_tokens"),
        ("gen_ai.usage.cache_creation.input_tokens", "cache_write_tokens"),
        ("gen_ai.response.time_to_first_chunk", "ttft_s"),
        ("user.id", "user_id"),
        ("session.id", "session_id"),
        ("error.type", "error_name"),
        ("http.response.status_code", "http_status"),
    )
    attributes += [(key, row[column]) for key, column in optional if row[column] is not None]
    return SpanRecord(
        row["trace_id"],
        row["span_id"],
        row["parent_span_id"],
        f"chat {row['request_model']}",
        SPAN_KIND_CLIENT,
        row["start_ns"],
        row["end_ns"],
        attributes,
        None if ok else row["error_message"],
    )


def tool_spans(row: dict[str, Any], llm: SpanRecord) -> list[SpanRecord]:
    """One execute_tool child per tool call, run one after another once the answer is in."""
    spans = []
    start_ns = llm.end_ns
    for name, span_id, duration_ns in zip(
        row["tool_names"], row["tool_span_ids"], row["tool_durations_ns"], strict=True
    ):
        start_ns += TOOL_GAP_NS
        spans.append(
            SpanRecord(
                llm.trace_id,
                span_id,
                llm.span_id,
                f"execute_tool {name}",
                SPAN_KIND_INTERNAL,
                start_ns,
                start_ns + duration_ns,
                [("gen_ai.operation.name", "execute_tool"), ("gen_ai.tool.name", name)],
            )
        )
        start_ns += duration_ns
    return spans


# --- encodings ------------------------------------------------------------------------


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


def _json_span(span: SpanRecord) -> dict[str, Any]:
    encoded: dict[str, Any] = {"traceId": span.trace_id, "spanId": span.span_id}
    if span.parent_span_id:
        encoded["parentSpanId"] = span.parent_span_id
    encoded |= {
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": [{"key": k, "value": _json_value(v)} for k, v in span.attributes],
    }
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


def _proto_span(span: SpanRecord) -> Span:
    return Span(
        trace_id=bytes.fromhex(span.trace_id),
        span_id=bytes.fromhex(span.span_id),
        parent_span_id=bytes.fromhex(span.parent_span_id or ""),
        name=span.name,
        kind=span.kind,
        start_time_unix_nano=span.start_ns,
        end_time_unix_nano=span.end_ns,
        attributes=[KeyValue(key=k, value=_proto_value(v)) for k, v in span.attributes],
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
