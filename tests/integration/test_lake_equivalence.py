"""Same answers: one traffic set through the single-file path (`gatewatch ingest`, `jobs run
--full`) and through two lake ingest nodes (`gatewatch serve --lake`, some bodies sent to
both, as a retry to another node would) with the jobs on a local Ray cluster of two workers
(`gatewatch lake jobs --workers 2`). Every metric table must be equal cell by cell."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from analytics.jobs import ALL_JOBS
from bench.server import free_port, lake_node_command, wait_healthy
from gatewatch.files import discover, payloads
from gatewatch.owner_client import INGEST_PATHS
from sample_data.generator import generate
from sample_data.writers import write_sample
from tests.integration.server import run_cli

pytestmark = pytest.mark.integration

END = dt.date(2026, 3, 1)
DAYS = 30  # five ISO weeks: several Ray tasks, a 28-day routing window
PER_DAY = 400
METRIC_TABLES = sorted({job.table for job in ALL_JOBS} - {"requests"})
# Tables the sample traffic must fill, so the comparison is not of two empty tables.
MUST_HAVE_ROWS = (
    "stats_daily",
    "stats_weekly",
    "stats_daily_app",
    "uptime_buckets",
    "provider_divergence",
    "routing_pools",
    "latency_daily",
    "traffic_hourly",
    "provider_sla",
)


def _start_node(lake: Path | str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = lake_node_command(lake, port)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GATEWATCH_INGEST_WORKERS": "0"}
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(process, url, log)
    return process, url


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _post(client: httpx.Client, url: str, payload) -> None:  # type: ignore[no-untyped-def]
    path, media = INGEST_PATHS[payload.kind]
    answer = client.post(f"{url}{path}", content=payload.body, headers={"Content-Type": media})
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def both_paths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("lake-equivalence")
    traffic = generate(DAYS, end=END, seed=11, requests_per_day=PER_DAY)
    files = write_sample(traffic, root / "traffic", ("otlp-json", "jsonl"))
    single, stats, lake = root / "single.duckdb", root / "stats.duckdb", root / "lake"

    run_cli("ingest", str(root / "traffic"), db=single)
    run_cli("jobs", "run", "--full", db=single)

    nodes = [_start_node(lake, root / f"node-{i}.log") for i in range(2)]
    try:
        with httpx.Client(timeout=60) as client:
            for number, path in enumerate(sorted(discover(files))):
                for payload in payloads(path):
                    _post(client, nodes[number % 2][1], payload)
                    if number % 3 == 0:  # the same body again, on the other node
                        _post(client, nodes[(number + 1) % 2][1], payload)
    finally:
        for process, _ in nodes:
            _stop(process)
    result = run_cli("lake", "jobs", "--lake", str(lake), "--workers", "2", db=stats)
    assert "week(s) computed" in result.stderr, result.stderr
    yield single, stats


@pytest.mark.parametrize("table", METRIC_TABLES)
def test_every_metric_table_is_equal_cell_by_cell(
    both_paths: tuple[Path, Path], table: str
) -> None:
    single, stats = both_paths
    with (
        duckdb.connect(str(single), read_only=True) as a,
        duckdb.connect(str(stats), read_only=True) as b,
    ):
        expected = a.sql(f"FROM {table} ORDER BY ALL").fetchall()
        found = b.sql(f"FROM {table} ORDER BY ALL").fetchall()
    if table in MUST_HAVE_ROWS:
        assert expected, f"the traffic set leaves {table} empty"
    assert len(found) == len(expected)
    assert found == expected


def test_duplicates_across_nodes_are_removed(both_paths: tuple[Path, Path]) -> None:
    single, stats = both_paths
    lake = single.parent / "lake"
    with duckdb.connect(str(single), read_only=True) as a:
        expected = a.sql("SELECT count(*), count(DISTINCT request_id) FROM requests").fetchall()[0]
    raw = run_cli(
        "sql", "--lake", str(lake), "--format", "csv", "SELECT count(*) FROM requests_raw", db=stats
    ).stdout
    view = run_cli(
        "sql",
        "--lake",
        str(lake),
        "--format",
        "csv",
        "SELECT count(*), count(DISTINCT request_id) FROM requests",
        db=stats,
    ).stdout
    assert int(raw.split()[-1]) > expected[0]  # the resent bodies are stored twice
    assert view.split()[-1] == f"{expected[0]},{expected[1]}"
