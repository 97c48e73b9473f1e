"""End to end: the real OpenTelemetry SDK exporter and `gatewatch ingest` feed a real
`gatewatch serve`; after the jobs run, the stored rows and `stats_weekly` equal the truth
planted by the sample generator — exactly."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sample_data.generator import generate
from sample_data.writers import write_sample
from tests.integration.expected import expected_stats_weekly
from tests.integration.otel_replay import replay
from tests.integration.server import Served, run_cli, start_serve

pytestmark = pytest.mark.integration

END = dt.date(2026, 11, 22)  # a Sunday: whole ISO weeks
DAYS = 21


def _sql(db: Path, query: str) -> pl.DataFrame:
    out = run_cli("sql", query, "--format", "json", db=db).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return pl.DataFrame(rows, infer_schema_length=None)


@pytest.fixture(scope="module")
def traffic():
    return generate(DAYS, end=END, seed=11, requests_per_day=300)


@pytest.fixture(scope="module")
def loaded(traffic, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("pipeline")
    files = write_sample(traffic, root / "sample", ["otlp-json", "jsonl"])
    served = start_serve(root / "gatewatch.duckdb")
    try:
        trace_files = sorted(p for p in files if p.suffix == ".json")
        log_files = sorted(p for p in files if p.suffix == ".jsonl")
        spans = replay(trace_files, served.ingest_url)
        run_cli("ingest", *map(str, log_files), db=served.db)
        run_cli("jobs", "run", db=served.db)
        yield served, spans, trace_files, log_files
    finally:
        served.stop()


def test_every_request_row_is_stored_exactly(traffic, loaded) -> None:
    served: Served = loaded[0]
    expected = pl.from_arrow(traffic.requests).drop("ingested_at")
    stored = _sql(served.db, "SELECT * EXCLUDE (ingested_at) FROM requests")
    assert stored.height == expected.height
    stored = stored.with_columns(
        pl.col("started_at").str.to_datetime(time_zone="UTC").dt.cast_time_unit("us")
    ).select(expected.columns)
    assert_frame_equal(
        stored.sort("request_id"),
        expected.sort("request_id"),
        check_dtypes=False,
        check_exact=False,
        rel_tol=1e-12,
    )


def test_stats_weekly_equals_planted_truth(traffic, loaded) -> None:
    served: Served = loaded[0]
    keys = ["period_start", "provider", "model"]
    expected = expected_stats_weekly(pl.from_arrow(traffic.requests)).sort(keys)
    stored = _sql(served.db, f"SELECT {', '.join(expected.columns)} FROM stats_weekly")
    stored = stored.with_columns(pl.col("period_start").str.to_date()).sort(keys)
    assert stored.height == expected.height
    assert_frame_equal(stored, expected, check_dtypes=False, check_exact=False, rel_tol=1e-9)


def test_planted_trends_show_in_the_weekly_overall_view(loaded) -> None:
    served: Served = loaded[0]
    weekly = _sql(served.db, "SELECT * FROM stats_weekly_overall ORDER BY period_start")
    assert weekly.height == 3
    rates = weekly["tool_call_rate"].to_list()
    assert rates == sorted(rates), "the planted tool-call rate rises week over week"


def test_resending_the_same_data_adds_no_rows(traffic, loaded) -> None:
    served, _, trace_files, log_files = loaded
    before = _sql(served.db, "SELECT count(*) AS n, sum(tool_calls) AS t FROM requests")
    replay(trace_files[:3], served.ingest_url)
    run_cli("ingest", *map(str, log_files[:3]), db=served.db)
    after = _sql(served.db, "SELECT count(*) AS n, sum(tool_calls) AS t FROM requests")
    assert after.to_dicts() == before.to_dicts()
    assert after["n"][0] == traffic.requests.num_rows
