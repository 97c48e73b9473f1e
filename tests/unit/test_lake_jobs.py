"""The lake's jobs without Ray (weeks run in turn here): incremental by week, compaction and
retention leave the metric tables as they were, and the lake answers SQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from lake.compact import apply_retention, compact
from lake.executors import InlineExecutor
from lake.jobs import run_lake_jobs
from lake.layout import REQUESTS, VIEWS
from lake.query import lake_connection
from lake.store import LakeStore
from lake.writer import LakeWriter
from sample_data.generator import generate
from warehouse.db import Warehouse

END = dt.date(2026, 3, 1)  # a Sunday: three whole ISO weeks
TABLES = ("stats_daily", "stats_weekly", "uptime_buckets", "provider_divergence", "routing_pools")


@pytest.fixture
def lake(tmp_path: Path) -> LakeStore:
    traffic = generate(21, end=END, seed=5, requests_per_day=150).requests
    stamped = traffic.set_column(
        traffic.schema.get_field_index("ingested_at"),
        "ingested_at",
        pa.array(
            [dt.datetime(2026, 3, 2, tzinfo=dt.UTC)] * traffic.num_rows, traffic["ingested_at"].type
        ),
    )
    store = LakeStore(str(tmp_path / "lake"))
    writer = LakeWriter(store)
    writer.start()
    for start in range(0, stamped.num_rows, 500):
        writer.submit(stamped.slice(start, 500)).result(10)
    writer.stop()
    return store


def _tables(stats: Warehouse) -> dict[str, list[tuple]]:
    return {t: stats.cursor().sql(f"FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def test_only_changed_weeks_run_again_and_compaction_changes_no_number(lake: LakeStore) -> None:
    stats = Warehouse.open(":memory:")
    first = run_lake_jobs(lake, stats.connection, InlineExecutor())
    assert len(first.weeks) == 3 and first.unchanged_weeks == 0
    before = _tables(stats)
    assert all(before.values())
    again = run_lake_jobs(lake, stats.connection, InlineExecutor())
    assert (len(again.weeks), again.unchanged_weeks) == (0, 3)
    assert compact(lake).files_out > 0
    after = run_lake_jobs(lake, stats.connection, InlineExecutor())
    assert len(after.weeks) == 3  # new file names: every week is read again
    assert _tables(stats) == before


def test_retention_drops_old_weeks_and_keeps_their_stats(lake: LakeStore) -> None:
    stats = Warehouse.open(":memory:")
    run_lake_jobs(lake, stats.connection, InlineExecutor())
    before = stats.cursor().sql("FROM stats_daily ORDER BY ALL").fetchall()
    kept = apply_retention(lake, keep_days=7, today=END)
    assert kept.keep_from == dt.date(2026, 2, 16)  # the Monday on or before END - 7 days
    assert kept.views_dropped == 1
    assert min(lake.list_dirs(REQUESTS)) == "day=2026-02-16"
    result = run_lake_jobs(lake, stats.connection, InlineExecutor())
    assert [w.week for w in result.weeks] == [dt.date(2026, 2, 16)]  # its margin day went
    assert stats.cursor().sql("FROM stats_daily ORDER BY ALL").fetchall() == before
    assert len(lake.list_dirs(VIEWS)) == 2


def test_sql_over_the_lake_sees_the_deduplicated_rows(lake: LakeStore) -> None:
    stats = Warehouse.open(":memory:")
    run_lake_jobs(lake, stats.connection, InlineExecutor())
    con = lake_connection(lake)
    raw, unique = con.sql(
        "SELECT (SELECT count(*) FROM requests_raw), (SELECT count(*) FROM requests)"
    ).fetchall()[0]
    assert raw == unique > 0
    assert con.sql("SELECT count(DISTINCT day) FROM requests_raw").fetchall() == [(21,)]


def test_the_config_file_can_name_the_lake(lake: LakeStore, tmp_path: Path) -> None:
    """`[lake] path` stands for `--lake` when neither it nor GATEWATCH_LAKE is given."""
    from click.testing import CliRunner

    from gatewatch.cli import cli

    config = tmp_path / "gatewatch.toml"
    config.write_text(f"[lake]\npath = {str(tmp_path / 'lake')!r}\n")
    runner = CliRunner(env={"GATEWATCH_LAKE": None})
    query = ["sql", "SELECT count(*) AS n FROM requests_raw", "--format", "csv"]
    answer = runner.invoke(cli, ["--config", str(config), *query])
    assert answer.exit_code == 0, answer.output
    stored = lake_connection(lake).sql("SELECT count(*) FROM requests_raw").fetchall()[0][0]
    assert answer.output.split() == ["n", str(stored)]
    config.write_text("[lake]\npath = ''\n")
    answer = runner.invoke(cli, ["--config", str(config), *query])
    assert answer.exit_code != 0 and "lake.path must be a folder" in str(answer.exception)
