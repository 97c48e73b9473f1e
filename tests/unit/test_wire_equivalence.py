"""One logical request, every wire: the same canonical row.

Each generator row is emitted through every wire convention gatewatch reads
(`sample_data.wires`), ingested through the real decode and mapping path (spans as OTLP JSON
and as protobuf; span + log event through the writer into DuckDB; request logs as JSONL), and
compared field by field with the row. A field a convention cannot carry is named on the wire
(`Wire.differs`) with the value it then has, so no difference passes silently.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

from ingest.app import IngestSettings
from ingest.grpc_server import start_grpc_receiver
from ingest.metrics import IngestMetrics
from ingest.payloads import JSON, PROTOBUF, prepare_logs, prepare_request_logs, prepare_traces
from ingest.writer import BatchWriter
from sample_data.generator import generate
from sample_data.otlp_encoding import otlp_json, otlp_logs_json, otlp_logs_proto, otlp_proto
from sample_data.wires import WIRES, Wire
from sample_data.wires.gateway_logs import jsonl
from sample_data.wires.logical import Row, family, ids
from sample_data.wires.otel_spans import merged_spans
from sample_data.wires.registry import COMPARED
from sample_data.writers import _rows_by_day
from warehouse.db import Warehouse

TRAFFIC = generate(28, end=dt.date(2026, 11, 29), seed=5, requests_per_day=300)
ROWS: list[Row] = [row for _, rows in _rows_by_day(TRAFFIC) for row in rows]


def _outcome(row: Row) -> str:
    return row["finish_reason"] if row["status"] == "ok" else f"error:{row['error_type']}"


GROUPS: dict[tuple[str, str, str], list[Row]] = {}
for _row in ROWS:
    GROUPS.setdefault((_row["provider"], _row["model"], _outcome(_row)), []).append(_row)


def without_thinking(row: Row) -> Row:
    """The same call with thinking off: no reasoning count reported; its own ids."""
    return row | {
        "request_id": row["request_id"] + "-no-thinking",
        "trace_id": None,
        "span_id": None,
        "parent_span_id": None,
        "reasoning_tokens": None,
    }


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BatchWriter]:
    warehouse = Warehouse.open(tmp_path_factory.mktemp("wires") / "wires.duckdb")
    w = BatchWriter(warehouse)
    w.start()
    yield w
    w.stop()
    warehouse.close()


def _single(rows: list[dict[str, Any]], wire: str) -> dict[str, Any]:
    assert len(rows) == 1, f"{wire}: {len(rows)} rows for one request"
    return rows[0]


def ingest(wire: Wire, row: Row, writer: BatchWriter) -> list[tuple[str, dict[str, Any]]]:
    """The stored row for each encoding of the wire's payload."""
    payload = wire.emit(row)
    if wire.path == "requests":
        prepared = prepare_request_logs(jsonl([payload]))
        assert not prepared.record_errors, prepared.record_errors
        return [("jsonl", _single(prepared.table.to_pylist(), wire.name))]
    if wire.path == "traces":
        rows = []
        for encoding, body in (
            (JSON, orjson.dumps(otlp_json(payload))),
            (PROTOBUF, otlp_proto(payload).SerializeToString()),
        ):
            prepared = prepare_traces(body, encoding)
            assert not prepared.errors, prepared.errors
            rows.append((encoding, _single(prepared.table.to_pylist(), wire.name)))
        return rows
    spans, events = payload
    traces = prepare_traces(otlp_proto(spans).SerializeToString(), PROTOBUF)
    rows = []
    for encoding, body in (
        (JSON, orjson.dumps(otlp_logs_json(events))),
        (PROTOBUF, otlp_logs_proto(events).SerializeToString()),
    ):
        logs = prepare_logs(body, encoding)
        # Event first, then its span (either order must give one row).
        writer.submit(logs.table).result()
        writer.submit(traces.table, traces.tool_spans).result()
        trace_id, span_id = traces.table["trace_id"][0].as_py(), traces.table["span_id"][0].as_py()
        cursor = writer._warehouse.connection.cursor()
        found = cursor.sql(
            "SELECT * FROM requests WHERE trace_id = $t AND span_id = $s",
            params={"t": trace_id, "s": span_id},
        ).to_arrow_table()
        rows.append((encoding, _single(found.to_pylist(), wire.name)))
    return rows


def _equal(got: Any, want: Any, tolerance: float) -> bool:
    if isinstance(got, float) and isinstance(want, float):
        return math.isclose(got, want, rel_tol=0.0, abs_tol=tolerance)
    if isinstance(got, dt.datetime) and isinstance(want, dt.datetime):
        return abs(got - want) <= dt.timedelta(microseconds=tolerance)
    return got == want


def mismatches(wire: Wire, row: Row, stored: dict[str, Any]) -> list[str]:
    out = []
    for column in COMPARED:
        want = wire.expected(row, column)
        carried = wire.differs.get(column)
        tolerance = carried.tolerance if carried else 0.0
        if not _equal(stored[column], want, tolerance):
            out.append(f"{column}: stored {stored[column]!r}, the request has {want!r}")
    return out


def check_every_wire(row: Row, writer: BatchWriter) -> None:
    failures = []
    for wire in WIRES:
        if not wire.applies(row):
            continue
        for encoding, stored in ingest(wire, row, writer):
            failures += [f"{wire.name} ({encoding}) {m}" for m in mismatches(wire, row, stored)]
    assert not failures, f"{row['provider']} {row['model']} {_outcome(row)}:\n" + "\n".join(
        failures
    )


@pytest.mark.parametrize("key", sorted(GROUPS), ids="/".join)
def test_every_wire_gives_the_row_for_each_family_and_outcome(
    key: tuple[str, str, str], writer: BatchWriter
) -> None:
    check_every_wire(GROUPS[key][0], writer)


@given(
    key=st.sampled_from(sorted(GROUPS)),
    pick=st.integers(0, 10**6),
    thinking_off=st.booleans(),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_request_gives_the_same_row_through_every_wire(
    key: tuple[str, str, str], pick: int, thinking_off: bool, writer: BatchWriter
) -> None:
    rows = GROUPS[key]
    row = rows[pick % len(rows)]
    if thinking_off and family(row) == "anthropic" and row["reasoning_tokens"] is not None:
        row = without_thinking(row)
    check_every_wire(row, writer)


def test_the_sample_covers_every_family_with_and_without_thinking() -> None:
    claude = [r for r in ROWS if family(r) == "anthropic" and r["status"] == "ok"]
    assert {r["provider"] for r in claude} == {"anthropic", "amazon-bedrock", "google-vertex"}
    assert any(r["reasoning_tokens"] is None for r in claude)
    assert any(r["reasoning_tokens"] for r in claude)
    assert {family(r) for r in ROWS} == {"anthropic", "openai", "gemini"}


SPAN_WIRES = [w for w in WIRES if w.path == "traces"]


@pytest.mark.parametrize("wire", SPAN_WIRES, ids=lambda w: w.name)
def test_every_span_wire_over_otlp_grpc_gives_the_rows(wire: Wire, tmp_path: Path) -> None:
    """The same exports through a real gRPC channel to the receiver, committed to DuckDB."""
    rows = [group[0] for group in GROUPS.values() if wire.applies(group[0])]
    warehouse = Warehouse.open(tmp_path / "grpc.duckdb")
    writer = BatchWriter(warehouse)
    writer.start()
    receiver = start_grpc_receiver(
        writer, IngestSettings(), IngestMetrics(writer), host="127.0.0.1", port=0
    )
    try:
        spans = merged_spans([wire.emit(row) for row in rows])
        with grpc.insecure_channel(f"127.0.0.1:{receiver.port}") as channel:
            answer = TraceServiceStub(channel).Export(otlp_proto(spans), timeout=30)
        assert not answer.HasField("partial_success")
        stored = {
            (r["trace_id"], r["span_id"]): r
            for r in warehouse.connection.sql("SELECT * FROM requests").to_arrow_table().to_pylist()
        }
    finally:
        receiver.stop(grace_seconds=1)
        writer.stop()
        warehouse.close()
    assert len(stored) == len(rows)
    failures = [
        f"{row['provider']} {row['model']} {_outcome(row)} {m}"
        for row in rows
        for m in mismatches(wire, row, stored[ids(row)])
    ]
    assert not failures, "\n".join(failures)
