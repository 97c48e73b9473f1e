"""The weekly metrics of one set of requests are the records' own arithmetic whatever wire they
came by. All Claude requests of the sample (Anthropic, Bedrock and Vertex; with and without
thinking) are sent through each wire into a DuckDB file, the batch jobs run, and every weekly
(provider, model) cell of `stats_weekly` is compared with the SPEC definitions computed from the
rows (as the wire carries them: a wire without reasoning counts has no reasoning share)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from analytics.jobs import run_jobs
from ingest.payloads import JSON, PROTOBUF, prepare_logs, prepare_request_logs, prepare_traces
from ingest.writer import BatchWriter
from sample_data.otlp_encoding import otlp_json, otlp_logs_proto, otlp_proto
from sample_data.wires import WIRES, Wire
from sample_data.wires.gateway_logs import jsonl
from sample_data.wires.logical import Row, family
from sample_data.wires.otel_spans import merged_spans
from tests.unit.test_wire_equivalence import ROWS, without_thinking
from warehouse.db import Warehouse
from warehouse.schema import PROVIDER_ERROR_TYPES

# Every third Claude call on Anthropic or Vertex with thinking off (no reasoning reported).
CLAUDE = [
    without_thinking(r) if n % 3 == 0 and r["reasoning_tokens"] is not None else r
    for n, r in enumerate(r for r in ROWS if family(r) == "anthropic")
]
METRICS = ("requests", "ok_requests", "tool_call_rate", "reasoning_share", "uptime")


def store(wire: Wire, rows: list[Row], writer: BatchWriter) -> None:
    """Every row's payload in one export (or one JSONL body), committed."""
    payloads = [wire.emit(row) for row in rows]
    if wire.path == "requests":
        prepared = prepare_request_logs(jsonl(payloads))
        assert not prepared.record_errors
        writer.submit(prepared.table).result()
        return
    if wire.path == "traces+logs":
        events = prepare_logs(
            otlp_logs_proto(merged_spans([e for _, e in payloads])).SerializeToString(), PROTOBUF
        )
        writer.submit(events.table).result()
        payloads = [spans for spans, _ in payloads]
    spans = merged_spans(payloads)
    # Half of the wires' exports as JSON, half as protobuf: both encodings are in play.
    body, encoding = (
        (orjson.dumps(otlp_json(spans)), JSON)
        if len(wire.name) % 2
        else (otlp_proto(spans).SerializeToString(), PROTOBUF)
    )
    prepared = prepare_traces(body, encoding)
    assert not prepared.errors
    writer.submit(prepared.table, prepared.tool_spans).result()


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def expected_weekly(wire: Wire, rows: list[Row]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """SPEC §4 over the rows as the wire carries them."""
    cells: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        carried = {c: wire.expected(row, c) for c in row if c in wire.differs} | {
            c: row[c] for c in row if c not in wire.differs
        }
        day = carried["started_at"].date()
        week = day - dt.timedelta(days=day.weekday())
        cells[(week, carried["provider"], carried["model"])].append(carried)
    out = {}
    for key, cell in cells.items():
        ok = [r for r in cell if r["status"] == "ok"]
        reported = [r for r in ok if r["reasoning_tokens"] is not None]
        provider_errors = sum(r["error_type"] in PROVIDER_ERROR_TYPES for r in cell)
        out[key] = {
            "requests": len(cell),
            "ok_requests": len(ok),
            "tool_call_rate": _ratio(sum(r["finish_reason"] == "tool_calls" for r in ok), len(ok)),
            "reasoning_share": _ratio(
                sum(r["reasoning_tokens"] for r in reported),
                sum(r["output_tokens"] for r in reported),
            ),
            "uptime": _ratio(len(ok), len(ok) + provider_errors),
        }
    return out


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.name)
def test_weekly_metrics_are_the_records_arithmetic_through_every_wire(
    wire: Wire, tmp_path: Path
) -> None:
    rows = [r for r in CLAUDE if wire.applies(r)]
    if not rows:
        pytest.skip(f"{wire.name} carries no Claude requests")
    warehouse = Warehouse.open(tmp_path / "wire.duckdb")
    writer = BatchWriter(warehouse)
    writer.start()
    try:
        store(wire, rows, writer)
    finally:
        writer.stop()
    con = warehouse.connection
    run_jobs(con, full=True)
    stored = {
        (r["period_start"], r["provider"], r["model"]): {m: r[m] for m in METRICS}
        for r in con.sql(
            f"SELECT period_start, provider, model, {', '.join(METRICS)} FROM stats_weekly"
        )
        .to_arrow_table()
        .to_pylist()
    }
    warehouse.close()
    expected = expected_weekly(wire, rows)
    assert stored.keys() == expected.keys()
    wrong = {k: (stored[k], v) for k, v in expected.items() if stored[k] != v}
    assert not wrong, f"{len(wrong)} of {len(expected)} cells differ: {wrong}"


def test_claude_cells_with_reasoning_are_many() -> None:
    weeks = {(r["started_at"].isocalendar()[:2], r["provider"], r["model"]) for r in CLAUDE}
    with_reasoning = {
        (r["started_at"].isocalendar()[:2], r["provider"], r["model"])
        for r in CLAUDE
        if r["reasoning_tokens"]
    }
    assert len(weeks) >= 20 and len(with_reasoning) >= 12
    assert any(r["request_id"].endswith("-no-thinking") for r in CLAUDE)
