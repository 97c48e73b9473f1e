"""One retention run in the process that owns the database: plan, delete in batches,
checkpoint, and a report (JSON-ready, so the admin API and the CLI print the same thing).

The caller runs the batch jobs first (`JobRunner.retain`), so every row about to go has been
counted in the metric tables, which retention never touches.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import duckdb

from warehouse.compaction import storage_size
from warehouse.retention import TablePlan, TableResult, delete_old_rows, plan_retention
from warehouse.retention_settings import RetentionSettings
from warehouse.transactions import checkpoint_when_free

log = logging.getLogger(__name__)

Report = dict[str, object]


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _table_entry(plan: TablePlan, result: TableResult | None) -> dict[str, object]:
    entry: dict[str, object] = {
        "table": plan.table,
        "keep_days": plan.keep_days,
        "cutoff": _iso(plan.cutoff),
        "rows": plan.rows if result is None else result.rows,
        "oldest": _iso(plan.oldest),
        "newest": _iso(plan.newest),
        "note": plan.note,
    }
    if result is not None:
        entry |= {"batches": result.batches, "seconds": round(result.seconds, 3)}
    return entry


def run_retention(
    con: duckdb.DuckDBPyConnection,
    db_path: str,
    settings: RetentionSettings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """What goes (dry run) or went, per table; after a real run, the file's size before and
    after the checkpoint that frees the deleted rows' blocks."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    plans = plan_retention(con, settings, now)
    report: Report = {"dry_run": dry_run, "now": _iso(now)}
    if dry_run:
        report["tables"] = [_table_entry(plan, None) for plan in plans]
        return report
    on_disk = db_path != ":memory:"
    before = storage_size(con, db_path) if on_disk else None
    results = [
        delete_old_rows(con, plan, batch_rows=settings.delete_batch_rows, progress=progress)
        for plan in plans
    ]
    deleted = sum(r.rows for r in results)
    if deleted and on_disk:
        checkpoint_when_free(con, why="retention")
    report["tables"] = [_table_entry(p, r) for p, r in zip(plans, results, strict=True)]
    if before is not None:
        after = storage_size(con, db_path)
        report |= {
            "file_bytes_before": before.file_bytes,
            "file_bytes_after": after.file_bytes,
            "free_bytes_after": after.free_bytes,
        }
    report["seconds"] = round(time.perf_counter() - started, 3)
    if deleted:
        log.info("retention: deleted %d row(s) in %.1fs", deleted, report["seconds"])
    return report


def _mib(n: object) -> str:
    return f"{int(n) / 2**20:,.1f} MiB"  # type: ignore[call-overload]


def format_report(report: Report) -> list[str]:
    """The report as lines for people."""
    verb = "would delete" if report["dry_run"] else "deleted"
    lines: list[str] = []
    for entry in report["tables"]:  # type: ignore[attr-defined]
        table = entry["table"]
        if entry["cutoff"] is None:
            lines.append(f"{table}: nothing deleted ({entry['note']})")
            continue
        line = f"{table}: {verb} {entry['rows']:,} row(s) before {entry['cutoff'][:10]}"
        line += f" (keeping {entry['keep_days']} days, in whole ISO weeks)"
        if entry["oldest"] is not None:
            line += f"; started {entry['oldest'][:10]} … {entry['newest'][:10]}"
        if "seconds" in entry:
            line += f"; {entry['batches']} batch(es) in {entry['seconds']:.2f}s"
        lines.append(line)
    if "file_bytes_before" in report:
        lines.append(
            f"file: {_mib(report['file_bytes_before'])} → {_mib(report['file_bytes_after'])}"
            f", {_mib(report['free_bytes_after'])} free inside it for new rows"
        )
    if "compacted_bytes" in report:
        lines.append(f"compacted: {_mib(report['compacted_bytes'])} on disk")
    return lines
