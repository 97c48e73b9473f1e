"""Where ingest time goes, in process and without HTTP: decode, mapping, Arrow, commit.

Used by `bench/ingest.py` after its runs (or alone with `--breakdown`).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def breakdown(bodies: list[bytes], batches: int) -> dict[str, float]:
    """In process, no HTTP: seconds per stage over `batches` bodies, one commit per body."""
    from ingest.otlp import decode_traces_protobuf
    from ingest.payloads import now_us
    from ingest.record import records_to_table, tool_spans_to_table
    from ingest.spans import map_spans
    from ingest.writer import BatchWriter
    from warehouse.db import Warehouse

    totals = {"decode": 0.0, "mapping": 0.0, "arrow": 0.0, "commit": 0.0}
    spans = 0
    with tempfile.TemporaryDirectory(prefix="gatewatch-bench-") as tmp:
        warehouse = Warehouse.open(Path(tmp) / "breakdown.duckdb")
        writer = BatchWriter(warehouse)
        writer.start()
        try:
            # The last body warms up imports and caches; it is not among the timed ones.
            for i, body in enumerate([bodies[-1], *bodies[:batches]]):
                t0 = time.perf_counter()
                decoded = decode_traces_protobuf(body)
                t1 = time.perf_counter()
                mapped = map_spans(decoded, ingested_at_us=now_us())
                t2 = time.perf_counter()
                table = records_to_table(mapped.records)
                tools = tool_spans_to_table(mapped.tool_spans) if mapped.tool_spans else None
                t3 = time.perf_counter()
                writer.submit(table, tools).result(120)
                t4 = time.perf_counter()
                if i == 0:
                    continue
                spans += len(decoded.spans) + decoded.rejected
                totals["decode"] += t1 - t0
                totals["mapping"] += t2 - t1
                totals["arrow"] += t3 - t2
                totals["commit"] += t4 - t3
            stored = writer.stats.stored_rows
        finally:
            writer.stop()
            warehouse.close()
    expected = (batches + 1) * len(decoded.spans)
    if stored != expected:
        print(f"breakdown: WARNING stored {stored:,} rows, expected {expected:,}")
    return {stage: seconds / spans * 1e6 for stage, seconds in totals.items()}


def print_breakdown(us_per_span: dict[str, float], batches: int, batch_size: int) -> None:
    total = sum(us_per_span.values())
    labels = {
        "decode": "decode   ingest.otlp.decode_traces_protobuf",
        "mapping": "mapping  ingest.spans.map_spans",
        "arrow": "arrow    ingest.record.records_to_table",
        "commit": "commit   BatchWriter.submit + wait (one txn per batch)",
    }
    print(f"\nwhere the time goes (in process, no HTTP, {batches} batches x {batch_size} spans):")
    for stage, us in us_per_span.items():
        print(f"  {labels[stage]:<56} {us:7.2f} us/span  {us / total:6.1%}")
    print(f"  {'total':<56} {total:7.2f} us/span  = {1e6 / total:,.0f} spans/s done serially")
