"""Deleting old rows: what would go (a plan) and deleting it in bounded batches.

Request rows go in whole ISO weeks (UTC): the cutoff is the Monday 00:00 that starts the
week holding "now minus `requests_days`". Every metric period (a day, an ISO week, an hour)
is then either entirely before the cutoff or entirely after it, and the batch jobs can leave
the periods before it exactly as they were computed (`analytics.jobs.runner`).

The cutoff of a table is recorded in `_gatewatch_retention` *before* its first row is
deleted, and only ever moves forward: the jobs freeze the periods before it even if a delete
stops halfway, and raising `requests_days` later cannot unfreeze periods whose rows are gone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb

from warehouse.retention_schema import RETENTION_TABLE
from warehouse.retention_settings import RetentionSettings
from warehouse.schema import REQUEST_KEY_SQL, REQUEST_KEYS_TABLE
from warehouse.transactions import transaction

Progress = Callable[[str], None]

_KEY_OF_REQUEST = f", {REQUEST_KEY_SQL.format(column='request_id')} AS key"
_DELETE_KEYS_SQL = f"""
DELETE FROM {REQUEST_KEYS_TABLE} USING _retention_batch b WHERE {REQUEST_KEYS_TABLE}.key = b.key
"""


@dataclass(frozen=True, slots=True)
class RetainedTable:
    table: str
    setting: str  # the `RetentionSettings` field giving its days
    time_column: str | None  # None: the table's first timestamp column


# Rows without a start time keep their `ingested_at` as age; `tool_spans` rows without one
# are kept (they are small and nothing else dates them).
RETAINED_TABLES: tuple[RetainedTable, ...] = (
    RetainedTable("requests", "requests_days", "coalesce(started_at, ingested_at)"),
    RetainedTable("tool_spans", "tool_spans_days", "started_at"),
    RetainedTable("alert_events", "alert_events_days", None),
)


@dataclass(frozen=True, slots=True)
class TablePlan:
    table: str
    keep_days: int  # 0 = forever
    cutoff: datetime | None  # rows before it go; None: nothing is deleted
    time_column: str | None
    rows: int  # rows before the cutoff
    oldest: datetime | None
    newest: datetime | None
    note: str = ""  # why nothing is deleted, when so


@dataclass(frozen=True, slots=True)
class TableResult:
    table: str
    rows: int
    batches: int
    seconds: float


def cutoff(now: datetime, days: int) -> datetime:
    """Monday 00:00 UTC of the ISO week holding `now - days`."""
    day: date = (now.astimezone(UTC) - timedelta(days=days)).date()
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = $t AND schema_name = 'main'",
        {"t": table},
    ).fetchone()
    return bool(found and found[0])


def _first_timestamp_column(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    row = con.execute(
        """
        SELECT column_name FROM duckdb_columns()
        WHERE table_name = $t AND schema_name = 'main' AND data_type LIKE 'TIMESTAMP%'
        ORDER BY column_index LIMIT 1
        """,
        {"t": table},
    ).fetchone()
    return row[0] if row else None


def retained_before(con: duckdb.DuckDBPyConnection, table: str = "requests") -> datetime | None:
    """The recorded cutoff of `table`: every row older than it has been deleted.

    Read by name, so a tenant scope's view of the warehouse's table answers too; a database
    without one (never migrated, a bare test connection) has no cutoff."""
    found = con.execute(
        """
        SELECT count(*) FROM information_schema.tables
        WHERE table_name = $name AND table_catalog = current_database()
          AND table_schema = current_schema()
        """,
        {"name": RETENTION_TABLE},
    ).fetchone()
    if not (found and found[0]):
        return None
    row = con.execute(
        f"SELECT retained_before FROM {RETENTION_TABLE} WHERE table_name = $t", {"t": table}
    ).fetchone()
    return row[0] if row else None


def plan_retention(
    con: duckdb.DuckDBPyConnection, settings: RetentionSettings, now: datetime
) -> list[TablePlan]:
    """Per retained table: its cutoff and the rows before it (count, oldest, newest)."""
    return [
        _plan_table(con, spec, getattr(settings, spec.setting), now) for spec in RETAINED_TABLES
    ]


def _plan_table(
    con: duckdb.DuckDBPyConnection, spec: RetainedTable, days: int, now: datetime
) -> TablePlan:
    def nothing(note: str, column: str | None = None) -> TablePlan:
        return TablePlan(spec.table, days, None, column, 0, None, None, note)

    if not _table_exists(con, spec.table):
        return nothing("no such table")
    column = spec.time_column or _first_timestamp_column(con, spec.table)
    if column is None:
        return nothing("no timestamp column")
    if days == 0:
        return nothing("kept forever", column)
    cut = cutoff(now, days)
    rows, oldest, newest = con.execute(
        f"SELECT count(*), min({column}), max({column}) FROM {spec.table} WHERE {column} < $cutoff",
        {"cutoff": cut},
    ).fetchone()
    return TablePlan(spec.table, days, cut, column, int(rows), oldest, newest)


_RECORD_CUTOFF_SQL = f"""
INSERT INTO {RETENTION_TABLE} (table_name, retained_before, rows_deleted, updated_at)
VALUES ($table, $cutoff, 0, now())
ON CONFLICT (table_name) DO UPDATE
SET retained_before = greatest({RETENTION_TABLE}.retained_before, excluded.retained_before),
    updated_at = excluded.updated_at
"""

_COUNT_DELETED_SQL = f"""
UPDATE {RETENTION_TABLE}
SET rows_deleted = rows_deleted + $rows, updated_at = now()
WHERE table_name = $table
"""


def delete_old_rows(
    con: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    *,
    batch_rows: int,
    progress: Progress | None = None,
) -> TableResult:
    """Delete the planned table's rows before its cutoff, `batch_rows` per transaction.

    Rows that became old since the plan was made go too (the cutoff is fixed, not the
    count). Each batch is its own short transaction: ingest's writer (another cursor of the
    same database) commits between them.
    """
    started = time.perf_counter()
    if plan.cutoff is None or plan.time_column is None:
        return TableResult(plan.table, 0, 0, 0.0)
    params = {"table": plan.table, "cutoff": plan.cutoff}
    with transaction(con):
        con.execute(_RECORD_CUTOFF_SQL, params)
    # The batch's rows are picked once (a LIMIT without ORDER BY may pick other rows on a
    # second look); a request row's key goes with it, so the key table stays as large as
    # the table it keeps unique.
    pick_sql = f"""
        CREATE OR REPLACE TEMP TABLE _retention_batch AS
        SELECT rowid AS row{_KEY_OF_REQUEST if plan.table == "requests" else ""}
        FROM {plan.table} WHERE {plan.time_column} < $cutoff LIMIT $n
    """
    delete_sql = f"DELETE FROM {plan.table} WHERE rowid IN (SELECT row FROM _retention_batch)"
    deleted = batches = 0
    while True:
        with transaction(con):
            con.execute(pick_sql, {"cutoff": plan.cutoff, "n": batch_rows})
            if plan.table == "requests":
                con.execute(_DELETE_KEYS_SQL)
            n = int(con.execute(delete_sql).fetchall()[0][0])
            con.execute(_COUNT_DELETED_SQL, {"table": plan.table, "rows": n})
        deleted += n
        batches += 1
        if progress and n:
            progress(f"{plan.table}: deleted {deleted:,} row(s)")
        if n < batch_rows:
            break
    con.execute("DROP TABLE IF EXISTS _retention_batch")
    return TableResult(plan.table, deleted, batches, time.perf_counter() - started)
