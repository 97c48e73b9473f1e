"""Tenant scopes: every derived table computed from one tenant set's rows equals what the
jobs compute on a warehouse holding only those rows; scopes follow new rows; a scope
cursor cannot reach the warehouse's unscoped tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from analytics.jobs import run_jobs
from analytics.tenant_scopes import SCOPES_DB, TenantScopes, scope_jobs, scope_name
from ingest.record import records_to_table
from tests.planted_tenants import build, tenant_records
from warehouse.db import Warehouse

# Tables the planted rows fill (the others may rightly be empty on them).
NONEMPTY = ("stats_daily_app", "stats_weekly", "uptime_buckets", "latency_daily", "traffic_hourly")


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    warehouse = build(tmp_path / "all.duckdb", tenant_records())
    yield warehouse
    warehouse.close()


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(f"SELECT * FROM {table}").to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    # Columns stamped with the time of the run differ between any two runs.
    stamped = [c for c in frame.columns if c in ("updated_at", "computed_at")]
    frame = frame.drop(stamped)
    return frame.sort(frame.columns, nulls_last=True)


@pytest.mark.parametrize("tenants", [("acme",), ("acme", "globex")])
def test_a_scope_holds_exactly_what_the_jobs_compute_on_its_rows(
    warehouse: Warehouse, tmp_path: Path, tenants: tuple[str, ...]
) -> None:
    scopes = TenantScopes(warehouse, [tenants])
    scopes.refresh()
    only = build(tmp_path / "only.duckdb", tenant_records(lambda row: row["tenant"] in tenants))
    scoped = scopes.cursor(tenants)
    try:
        assert scoped.execute("SELECT count(*) FROM requests").fetchall() == [(30 * len(tenants),)]
        compared = [job.table for job in scope_jobs()] + ["stats_weekly_overall"]
        for table in compared:
            expected = _rows(only.connection, table)
            assert table not in NONEMPTY or expected.height > 0, table
            assert _rows(scoped, table).equals(expected), table
    finally:
        scoped.close()
        only.close()
    total = warehouse.query_df("SELECT sum(requests) AS n FROM stats_daily_app")["n"][0]
    assert total == 120  # the warehouse's own tables keep every tenant


def test_a_scope_follows_rows_that_arrive_later(warehouse: Warehouse) -> None:
    scopes = TenantScopes(warehouse, [("acme",)])
    scopes.refresh()
    late = [
        {
            **record,
            "request_id": f"late-{n}",
            "tenant": tenant,
            "ingested_at": 2_000_000_000_000_000,
        }
        for n, (record, tenant) in enumerate(
            zip(tenant_records()[:3], ("acme", "acme", "globex"), strict=True)
        )
    ]
    con = warehouse.connection
    con.register("late", records_to_table(late))
    con.execute("INSERT INTO requests BY NAME SELECT * FROM late")
    run_jobs(con)
    scopes.refresh()
    scoped = scopes.cursor(("acme",))
    try:
        assert scoped.execute("SELECT sum(requests) FROM stats_daily_app").fetchall() == [(32,)]
    finally:
        scoped.close()
    assert warehouse.query_df("SELECT sum(requests) AS n FROM stats_daily_app")["n"][0] == 123


def test_a_scope_cursor_cannot_reach_unscoped_tables(warehouse: Warehouse) -> None:
    scopes = TenantScopes(warehouse, [("acme",)])
    scopes.refresh()
    scoped = scopes.cursor(("acme",))
    try:
        assert scoped.execute("SELECT DISTINCT tenant FROM requests").fetchall() == [("acme",)]
        for sql in ("SELECT * FROM tool_spans", "SELECT * FROM main.requests"):
            with pytest.raises(duckdb.CatalogException):
                scoped.execute(sql)
    finally:
        scoped.close()


def test_scopes_no_user_needs_are_dropped(warehouse: Warehouse) -> None:
    TenantScopes(warehouse, [("acme",), ("globex",)]).refresh()
    TenantScopes(warehouse, [("globex",)]).prepare()
    schemas = warehouse.query_df(
        f"SELECT schema_name FROM duckdb_schemas() WHERE database_name = '{SCOPES_DB}'"
    )["schema_name"].to_list()
    assert scope_name(("globex",)) in schemas
    assert scope_name(("acme",)) not in schemas


def test_scopes_survive_a_restart_without_a_full_rebuild(tmp_path: Path) -> None:
    warehouse = build(tmp_path / "w.duckdb", tenant_records())
    TenantScopes(warehouse, [("acme",)]).refresh()
    warehouse.close()
    warehouse = Warehouse.open(tmp_path / "w.duckdb")
    try:
        scopes = TenantScopes(warehouse, [("acme",)])
        (result,) = scopes.refresh()
        assert not result.full
        scoped = scopes.cursor(("acme",))
        assert scoped.execute("SELECT sum(requests) FROM stats_daily_app").fetchall() == [(30,)]
        scoped.close()
    finally:
        warehouse.close()
