"""A warehouse written before `m006_request_details` gains its columns, rows intact."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.record import REQUEST_SCHEMA, records_to_table
from warehouse.db import Warehouse
from warehouse.migrations import MIGRATIONS, applied_migrations, migrate
from warehouse.schema import REQUESTS_JOB_COLUMNS
from warehouse.transactions import transaction

NEW = "m006_request_details"
LEGACY_ROW = "INSERT INTO requests (request_id, started_at, provider, status) VALUES (?, ?, ?, ?)"


def legacy_warehouse(path: Path) -> None:
    """The file as the release before `m006` left it (every earlier migration), one row."""
    con = duckdb.connect(str(path))
    applied_migrations(con)  # creates the bookkeeping table
    for migration in MIGRATIONS:
        if migration.__name__ == NEW:
            break
        with transaction(con):
            migration(con)
            con.execute("INSERT INTO _gatewatch_migrations (name) VALUES (?)", [migration.__name__])
    con.execute(LEGACY_ROW, ["old-1", "2025-11-03 09:00:00+00", "openai", "ok"])
    con.close()


def columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute("DESCRIBE requests").fetchall()]


def test_legacy_warehouse_gains_the_request_details_columns(tmp_path: Path) -> None:
    legacy_warehouse(tmp_path / "legacy.duckdb")
    with duckdb.connect(str(tmp_path / "legacy.duckdb")) as con:
        assert "stream" not in dict(columns(con))

    warehouse = Warehouse.open(tmp_path / "legacy.duckdb")
    con = warehouse.connection
    assert NEW in applied_migrations(con)
    added = {"reasoning_level": "VARCHAR", "stream": "BOOLEAN", "server_address": "VARCHAR"}
    assert {name: kind for name, kind in columns(con) if name in added} == added
    # the migrated table has the same columns, in the same order, as a fresh one
    fresh = Warehouse.open(tmp_path / "fresh.duckdb")
    assert columns(con) == columns(fresh.connection)
    job_columns = [c.name for c in REQUESTS_JOB_COLUMNS]  # filled by the jobs, not ingest
    assert [name for name, _ in columns(con)] == [*REQUEST_SCHEMA.names, *job_columns]

    old = con.execute(
        "SELECT request_id, provider, reasoning_level, stream, server_address FROM requests"
    ).fetchall()
    assert old == [("old-1", "openai", None, None, None)]

    new = records_to_table(
        [
            {
                "request_id": "new-1",
                "provider": "portkey",
                "status": "ok",
                "reasoning_level": "high",
                "stream": True,
                "server_address": "api.anthropic.com",
            }
        ]
    )
    con.register("new_rows", new)
    con.execute("INSERT INTO requests BY NAME SELECT * FROM new_rows")
    stored = con.execute(
        "SELECT reasoning_level, stream, server_address FROM requests WHERE request_id = 'new-1'"
    ).fetchall()
    assert stored == [("high", True, "api.anthropic.com")]

    assert migrate(con) == []  # applied once only


def test_rows_stored_before_the_key_table_still_refuse_their_resends(tmp_path: Path) -> None:
    """`m021_request_keys` rebuilds `requests` without its primary key: the stored rows keep
    every value, their ids are claimed, and the writer refuses a resend of them."""
    from ingest.writer import BatchWriter

    path = tmp_path / "legacy.duckdb"
    legacy_warehouse(path)
    warehouse = Warehouse.open(path)
    con = warehouse.connection
    assert con.execute("SELECT count(*) FROM duckdb_indexes()").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM _gatewatch_request_keys").fetchone() == (1,)
    assert columns(con) == columns(Warehouse.open(tmp_path / "fresh.duckdb").connection)
    writer = BatchWriter(warehouse)
    writer.start()
    try:
        resend = {"request_id": "old-1", "provider": "anthropic", "status": "ok"}
        fresh = {"request_id": "new-1", "provider": "anthropic", "status": "ok"}
        result = writer.submit(records_to_table([resend, fresh])).result(10)
    finally:
        writer.stop()
    assert result.batch_inserted == 1
    stored = con.execute("SELECT request_id, provider FROM requests ORDER BY 1").fetchall()
    assert stored == [("new-1", "anthropic"), ("old-1", "openai")]
