"""Checkpoints beside the writer (`ingest.checkpoint_aside`), on real DuckDB files: rows
acknowledged while a checkpoint runs wait in the side table, then reach `requests` exactly
once, also after a `kill -9` at any point between."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ingest.checkpoint_aside import CATALOG, COLUMNS, TABLE, CheckpointAside, aside_path
from ingest.metrics import IngestMetrics
from ingest.record import REQUEST_SCHEMA
from ingest.writer import BatchWriter
from tests.unit.test_writer import req, table
from warehouse.db import Warehouse

TIMEOUT = 20.0
# DuckDB sleeps this long inside a checkpoint after writing each table (a debug setting):
# with the warehouse's tables, a checkpoint then runs for seconds.
SLOW_CHECKPOINT_MS = 150


def stored(warehouse: Warehouse) -> list[tuple[str, int]]:
    return (
        warehouse.cursor()
        .execute("SELECT request_id, count(*) FROM requests GROUP BY 1 ORDER BY 1")
        .fetchall()
    )


def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@contextlib.contextmanager
def restarted(db: Path) -> Iterator[tuple[Warehouse, BatchWriter]]:
    """The warehouse opened anew with an owner's writer, once its start has moved what
    waited aside."""
    warehouse = Warehouse.open(db)
    writer = BatchWriter(warehouse, checkpoint_aside_at=64 << 20)
    writer.start()
    try:
        writer.flush(TIMEOUT)
        yield warehouse, writer
    finally:
        writer.stop()
        warehouse.close()


@pytest.fixture
def slow_warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    warehouse = Warehouse.open(tmp_path / "gatewatch.duckdb")
    warehouse.connection.execute(f"SET debug_checkpoint_scan_sleep_ms = {SLOW_CHECKPOINT_MS}")
    yield warehouse
    warehouse.close()


def test_rows_acknowledged_during_a_checkpoint_reach_requests_once(
    slow_warehouse: Warehouse,
) -> None:
    writer = BatchWriter(slow_warehouse, checkpoint_aside_at=1)  # every commit passes it
    metrics = IngestMetrics(writer)
    writer.start()
    try:
        writer.submit(table(req("a1"), req("a2"))).result(TIMEOUT)
        aside = writer.aside
        assert aside is not None
        wait_for(lambda: aside.running, "the checkpoint to start")

        writer.submit(table(req("b1"), req("a1"), req("b2"))).result(TIMEOUT)
        assert aside.running, "the checkpoint ended before the rows were acknowledged"
        assert aside.pending_rows == 3
        assert stored(slow_warehouse) == [("a1", 1), ("a2", 1)]  # not moved yet
        assert "gatewatch_ingest_aside_rows 3.0" in metrics.exposition().decode()

        writer.flush(TIMEOUT)  # a flush promises rows readable in `requests`
        assert stored(slow_warehouse) == [("a1", 1), ("a2", 1), ("b1", 1), ("b2", 1)]
        assert aside.pending_rows == 0
        assert aside.checkpoints >= 1
        count = slow_warehouse.cursor().execute(f"SELECT count(*) FROM {TABLE}").fetchall()
        assert count == [(0,)]
        assert writer.stats.stored_rows == 4
        assert writer.stats.duplicate_rows == 1
        text = metrics.exposition().decode()
        assert "gatewatch_ingest_aside_rows 0.0" in text
        assert f"gatewatch_ingest_checkpoints_total {float(aside.checkpoints)}" in text
    finally:
        writer.stop()


def test_rows_put_aside_move_by_themselves_on_an_idle_writer(slow_warehouse: Warehouse) -> None:
    writer = BatchWriter(slow_warehouse, checkpoint_aside_at=1)
    writer.start()
    try:
        writer.submit(table(req("a1"))).result(TIMEOUT)
        aside = writer.aside
        assert aside is not None
        wait_for(lambda: aside.running, "the checkpoint to start")
        writer.submit(table(req("b1"))).result(TIMEOUT)
        assert aside.running and aside.pending_rows == 1
        # no further batch, no flush: the checkpoint's end alone moves it
        wait_for(lambda: stored(slow_warehouse) == [("a1", 1), ("b1", 1)], "the move")
        wait_for(lambda: aside.pending_rows == 0, "the side table's delete after the move")
    finally:
        writer.stop()


def test_rows_put_aside_survive_kill_9_and_move_at_the_next_start(tmp_path: Path) -> None:
    db = tmp_path / "gatewatch.duckdb"
    child = textwrap.dedent(
        f"""
        import sys, time
        from ingest.writer import BatchWriter
        from tests.unit.test_writer import req, table
        from warehouse.db import Warehouse

        warehouse = Warehouse.open({str(db)!r})
        warehouse.connection.execute("SET debug_checkpoint_scan_sleep_ms = 60000")
        writer = BatchWriter(warehouse, checkpoint_aside_at=1)
        writer.start()
        writer.submit(table(req("a1"))).result(20)
        while not writer.aside.running:
            time.sleep(0.01)
        writer.submit(table(req("b1"), req("b2"))).result(20)
        print("acknowledged", writer.aside.pending_rows, flush=True)
        time.sleep(120)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().split() == ["acknowledged", "2"]
    finally:
        os.kill(process.pid, signal.SIGKILL)  # mid-checkpoint, rows aside
        process.wait(TIMEOUT)

    # What the crash left: b1 and b2 durable in the side database only.
    con = duckdb.connect(str(aside_path(str(db))), read_only=True)
    assert con.execute("SELECT request_id FROM pending_requests ORDER BY 1").fetchall() == [
        ("b1",),
        ("b2",),
    ]
    con.close()

    with restarted(db) as (warehouse, writer):
        assert stored(warehouse) == [("a1", 1), ("b1", 1), ("b2", 1)]
        assert writer.aside is not None and writer.aside.pending_rows == 0


def test_rows_left_aside_after_their_move_are_not_stored_twice(tmp_path: Path) -> None:
    """A crash after a move's commit and before the side table was emptied."""
    db = tmp_path / "gatewatch.duckdb"
    warehouse = Warehouse.open(db)
    writer = BatchWriter(warehouse, checkpoint_aside_at=64 << 20)
    writer.start()
    writer.submit(table(req("a1"), req("a2"))).result(TIMEOUT)
    writer.stop()
    assert writer.aside is not None
    writer.aside.put(warehouse.cursor(), table(req("a1"), req("a3")).cast(REQUEST_SCHEMA))
    warehouse.close()

    with restarted(db) as (warehouse, writer):
        assert stored(warehouse) == [("a1", 1), ("a2", 1), ("a3", 1)]
        assert writer.stats.stored_rows == 1
        assert writer.stats.duplicate_rows == 1


def test_rows_aside_from_an_older_version_move_with_null_for_new_columns(
    tmp_path: Path,
) -> None:
    db = tmp_path / "gatewatch.duckdb"
    Warehouse.open(db).close()
    older = [f for f in REQUEST_SCHEMA if f.name != "model"]
    con = duckdb.connect(str(aside_path(str(db))))
    rows = table(req("old-1", model="gpt-5")).select([f.name for f in older])
    con.register("rows", rows)
    con.execute("CREATE TABLE pending_requests AS SELECT *, 0::BIGINT AS _aside_seq FROM rows")
    con.close()

    with restarted(db) as (warehouse, _):
        assert stored(warehouse) == [("old-1", 1)]
        model = warehouse.cursor().execute("SELECT model FROM requests").fetchall()
        assert model == [(None,)]
        columns = (
            warehouse.cursor()
            .execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = $db "
                "ORDER BY column_index",
                {"db": CATALOG},
            )
            .fetchall()
        )
        assert [c for (c,) in columns] == COLUMNS  # renewed once emptied


def test_moves_follow_the_order_rows_came_in_across_a_checkpoint_of_the_side_table(
    tmp_path: Path,
) -> None:
    """Each move takes the oldest rows and deletes exactly those, by the numbers rows get as
    they are put aside (not DuckDB's row ids, which a vacuum at a checkpoint of the side
    database, DuckDB's backstop, is free to change)."""
    warehouse = Warehouse.open(tmp_path / "gatewatch.duckdb")
    aside = CheckpointAside(warehouse, wal_threshold=64 << 20)
    cursor = warehouse.cursor()
    aside.attach(cursor)
    ids = [f"r{i:04d}" for i in range(3_000)]
    for start in range(0, len(ids), 1_000):
        aside.put(cursor, table(*(req(i) for i in ids[start : start + 1_000])).cast(REQUEST_SCHEMA))
    moved: list[str] = []
    while aside.pending_rows:
        rows, through = aside.take(cursor, 700)
        moved += rows.column("request_id").to_pylist()
        aside.forget(cursor, through)
        cursor.execute(f"CHECKPOINT {CATALOG}")  # vacuums the rows deleted so far
    assert moved == ids
    warehouse.close()


def test_a_side_database_that_cannot_be_opened_is_moved_aside_and_ingest_goes_on(
    tmp_path: Path,
) -> None:
    db = tmp_path / "gatewatch.duckdb"
    Warehouse.open(db).close()
    aside_path(str(db)).write_bytes(b"cut off while it was created")
    with restarted(db) as (warehouse, writer):
        writer.submit(table(req("a1"))).result(TIMEOUT)
        assert stored(warehouse) == [("a1", 1)]
        moved = [p.name for p in warehouse.quarantined_wals]
        assert len(moved) == 1 and moved[0].startswith("gatewatch.duckdb.aside.corrupt-")
    assert (tmp_path / moved[0]).read_bytes() == b"cut off while it was created"
