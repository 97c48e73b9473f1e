"""Where ingest time goes, in process and without HTTP: decode, mapping, Arrow, commit.

`bench/ingest.py` runs this file in a child process against a source tree (this checkout or
a worktree of another commit, first on `sys.path`), so the stages timed are that tree's own:

    python -c "<run this file>" BODIES_FILE WIRE BATCHES   # prints {stage: us/span} as JSON

BODIES_FILE holds length-prefixed bodies (`write_bodies`); the last one warms up and is not
timed.
"""

from __future__ import annotations

import gc
import json
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STAGES = ("decode", "mapping", "arrow", "commit")
LABELS = {
    "decode": "decode   ingest.otlp.decode_traces_* / parse_request_log_body",
    "mapping": "mapping  ingest.spans.map_span_rows / map_request_logs",
    "arrow": "arrow    ingest.record.rows_to_table / records_to_table",
    "commit": "commit   BatchWriter.submit + wait (one txn per batch)",
}
_LENGTH = struct.Struct("<Q")


def write_bodies(path: Path, bodies: list[bytes]) -> None:
    with open(path, "wb") as out:
        for body in bodies:
            out.write(_LENGTH.pack(len(body)) + body)


def _read_bodies(path: Path) -> list[bytes]:
    data, bodies, at = path.read_bytes(), [], 0
    while at < len(data):
        (size,) = _LENGTH.unpack_from(data, at)
        bodies.append(data[at + _LENGTH.size : at + _LENGTH.size + size])
        at += _LENGTH.size + size
    return bodies


def _pipeline(
    wire: str,
) -> tuple[Callable[[bytes], Any], Callable[[Any], tuple[Any, Any, int]], Callable[[Any], Any]]:
    """The wire's decode, mapping and Arrow steps as ingest runs them in the source tree given
    (mapping gives (rows or records, tool spans, items)); a tree from before the span rows
    mapper maps spans to records."""
    from ingest.payloads import now_us
    from ingest.record import records_to_table

    if wire == "requests":
        from ingest.request_logs import map_request_logs, parse_request_log_body

        def map_records(items: Any) -> tuple[Any, Any, int]:
            records, _errors = map_request_logs(items, received_at_us=now_us())
            return records, None, len(items)

        return parse_request_log_body, map_records, records_to_table

    from ingest import spans
    from ingest.otlp import decode_traces_json, decode_traces_protobuf

    decode = decode_traces_json if wire == "otlp-json" else decode_traces_protobuf
    if hasattr(spans, "map_span_rows"):
        from ingest.record import rows_to_table

        def map_rows(decoded: Any) -> tuple[Any, Any, int]:
            mapped = spans.map_span_rows(decoded, ingested_at_us=now_us())
            return mapped.rows, mapped.tool_spans, mapped.spans

        return decode, map_rows, rows_to_table

    def map_traces(decoded: Any) -> tuple[Any, Any, int]:
        mapped = spans.map_spans(decoded, ingested_at_us=now_us())
        return mapped.records, mapped.tool_spans, len(decoded.spans) + decoded.rejected

    return decode, map_traces, records_to_table


def breakdown(bodies: list[bytes], wire: str) -> dict[str, float]:
    """µs per span of each stage over `bodies[:-1]`, one commit per body."""
    from ingest.record import tool_spans_to_table
    from ingest.writer import BatchWriter
    from warehouse.db import Warehouse

    decode, map_records, to_table = _pipeline(wire)
    totals = dict.fromkeys(STAGES, 0.0)
    spans = 0
    with tempfile.TemporaryDirectory(prefix="gatewatch-bench-") as tmp:
        warehouse = Warehouse.open(Path(tmp) / "breakdown.duckdb")
        writer = BatchWriter(warehouse)
        writer.start()
        try:
            for i, body in enumerate([bodies[-1], *bodies[:-1]]):
                gc.disable()  # as `serve`'s workers prepare a body (ingest.prepare_pool)
                t0 = time.perf_counter()
                decoded = decode(body)
                t1 = time.perf_counter()
                records, tool_spans, items = map_records(decoded)
                t2 = time.perf_counter()
                table = to_table(records)
                tools = tool_spans_to_table(tool_spans) if tool_spans else None
                t3 = time.perf_counter()
                gc.enable()
                writer.submit(table, tools).result(120)
                t4 = time.perf_counter()
                if i == 0:
                    continue
                spans += items
                laps = (t1 - t0, t2 - t1, t3 - t2, t4 - t3)
                for stage, seconds in zip(STAGES, laps, strict=True):
                    totals[stage] += seconds
        finally:
            writer.stop()
            warehouse.close()
    return {stage: seconds / spans * 1e6 for stage, seconds in totals.items()}


def breakdown_in(source: Path, bodies: list[bytes], wire: str) -> dict[str, float] | str:
    """Run `breakdown` in a child process on `source`'s code; the error text if it fails."""
    runner = (
        f"import runpy, sys; sys.argv[0] = {__file__!r}; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    with tempfile.TemporaryDirectory(prefix="gatewatch-bench-") as tmp:
        path = Path(tmp) / "bodies.bin"
        write_bodies(path, bodies)
        # cwd = source puts it first on the child's sys.path ("" for -c), ahead of the
        # editable install of this checkout.
        done = subprocess.run(
            [sys.executable, "-c", runner, str(path), wire],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=600,
        )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return lines[-1] if lines else f"exit status {done.returncode}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_breakdown(title: str, us_per_span: dict[str, float] | str) -> None:
    print(f"\n{title}")
    if isinstance(us_per_span, str):
        print(f"  unavailable: {us_per_span}")
        return
    total = sum(us_per_span.values())
    for stage, us in us_per_span.items():
        print(f"  {LABELS.get(stage, stage):<64} {us:7.2f} us/span  {us / total:6.1%}")
    print(f"  {'total':<64} {total:7.2f} us/span  = {1e6 / total:,.0f} spans/s done serially")


if __name__ == "__main__":
    print(json.dumps(breakdown(_read_bodies(Path(sys.argv[1])), sys.argv[2])))
