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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from sample_data.generator import WIRE_SCHEMA, SampleTraffic, generate
from sample_data.otlp_encoding import AttributeValue, SpanRecord, otlp_json, otlp_proto
from warehouse.schema import REQUESTS_COLUMN_NAMES

FORMATS = ("otlp-json", "otlp-proto", "jsonl")
SPAN_KIND_INTERNAL = 1
SPAN_KIND_CLIENT = 3
TOOL_GAP_NS = 200_000  # the agent loop's pause between an answer and each tool run
AGENT_MARGIN_NS = 1_000_000

# A gateway request log carries the canonical columns, less the OTLP ids and what ingest
# assigns; `started_at` is written first, as RFC 3339 text.
_NOT_IN_REQUEST_LOGS = {
    *("trace_id", "span_id", "parent_span_id", "started_at"),
    *("tenant", "source", "ingested_at"),
}
JSONL_KEYS = tuple(c for c in REQUESTS_COLUMN_NAMES if c not in _NOT_IN_REQUEST_LOGS)


@dataclass(slots=True)
class _Agent:
    trace_id: str
    name: str
    start_ns: int
    end_ns: int


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
        ("gen_ai.usage.cache_write.input_tokens", "cache_write_tokens"),
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


# --- committed examples ---------------------------------------------------------------

EXAMPLE_TRACE_ID = "5b8efff798038103d269b633813fc60c"
EXAMPLE_AGENT_SPAN_ID = "eee19b7ec3c1b174"
EXAMPLE_START_NS = 1_763_647_200_000_000_000  # 2025-11-20T14:00:00Z
_MS = 1_000_000


def example_rows() -> list[dict[str, Any]]:
    """One support-agent turn: Claude on Anthropic answers with two tool calls, Gemini on
    Vertex (named with the deprecated `gen_ai.system`) answers, GPT-5 on OpenAI is rate
    limited. All three run under one invoke_agent span."""
    base: dict[str, Any] = dict.fromkeys(REQUESTS_COLUMN_NAMES + tuple(WIRE_SCHEMA.names))
    base |= {
        "trace_id": EXAMPLE_TRACE_ID,
        "parent_span_id": EXAMPLE_AGENT_SPAN_ID,
        "agent_name": "support-triage",
        "app": "support-agent",
        "user_id": "user-0042",
        "session_id": "sess-3f9a1c07d2b4",
        "status": "ok",
        "provider_key": "gen_ai.provider.name",
        "streaming": False,
        "tool_names": [],
        "tool_span_ids": [],
        "tool_durations_ns": [],
    }
    claude = base | {
        "request_id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "span_id": "a1b2c3d4e5f60718",
        "provider_raw": "anthropic",
        "request_model": "claude-sonnet-4-5-20250929",
        "response_model": "claude-sonnet-4-5-20250929",
        "native_finish_reason": "tool_use",
        "input_tokens": 5120,
        "output_tokens": 412,
        "reasoning_tokens": 128,
        "cached_input_tokens": 2048,
        "cache_write_tokens": 0,
        "streaming": True,
        "ttft_s": 0.812,
        "start_ns": EXAMPLE_START_NS + 5 * _MS,
        "end_ns": EXAMPLE_START_NS + 3_205 * _MS,
        "tool_names": ["search_kb", "get_order"],
        "tool_span_ids": ["b2c3d4e5f6071829", "c3d4e5f60718293a"],
        "tool_durations_ns": [180 * _MS, 95 * _MS],
    }
    gemini = base | {
        "request_id": "2iMfafqKI9yKz_8PiZWm6Qg",
        "span_id": "d4e5f60718293a4b",
        "provider_key": "gen_ai.system",
        "provider_raw": "vertex_ai",
        "request_model": "gemini-2.5-pro",
        "response_model": "gemini-2.5-pro",
        "native_finish_reason": "STOP",
        "input_tokens": 7900,
        "output_tokens": 640,
        "reasoning_tokens": 310,
        "start_ns": EXAMPLE_START_NS + 3_600 * _MS,
        "end_ns": EXAMPLE_START_NS + 11_250 * _MS,
    }
    gpt = base | {
        "request_id": f"{EXAMPLE_TRACE_ID}:e5f60718293a4b5c",
        "span_id": "e5f60718293a4b5c",
        "provider_raw": "openai",
        "request_model": "gpt-5",
        "status": "error",
        "error_name": "RateLimitError",
        "error_message": "Rate limit exceeded",
        "http_status": 429,
        "start_ns": EXAMPLE_START_NS + 11_300 * _MS,
        "end_ns": EXAMPLE_START_NS + 11_420 * _MS,
    }
    return [claude, gemini, gpt]


def write_examples(directory: Path) -> list[Path]:
    """(Re)write `otlp_traces.json` and `otlp_traces.pb` from `example_rows`."""
    spans = spans_by_app(example_rows())
    json_path = directory / "otlp_traces.json"
    json_path.write_bytes(orjson.dumps(otlp_json(spans), option=orjson.OPT_INDENT_2) + b"\n")
    proto_path = directory / "otlp_traces.pb"
    proto_path.write_bytes(otlp_proto(spans).SerializeToString(deterministic=True))
    return [json_path, proto_path]
