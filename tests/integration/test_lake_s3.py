"""The lake on S3: moto's S3 server, run on a loopback port as a separate process and spoken
to over HTTP by pyarrow's S3 client, stands for the object store. Two ingest nodes write the
same traffic to it and to a local folder (some bodies to both nodes); the jobs must compute
the same metric tables from either, `sql --lake` must see the deduplicated rows, compaction
and retention must work on it, and so must a `gatewatch serve --lake s3://...` node."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.fs as pafs
import pytest
from click.testing import CliRunner

from analytics.jobs import ALL_JOBS
from bench.server import free_port
from gatewatch.cli import cli
from gatewatch.files import discover, payloads
from lake.compact import RETENTION, apply_retention, compact, retention_cutoff
from lake.executors import InlineExecutor
from lake.jobs import run_lake_jobs
from lake.layout import REQUESTS, VIEWS
from lake.manifest import read_manifests
from lake.query import lake_connection
from lake.store import LakeStore
from lake.writer import LakeWriter
from sample_data.generator import generate
from sample_data.writers import write_sample
from tests.integration.test_lake_equivalence import _post, _start_node, _stop
from warehouse.db import Warehouse

pytestmark = pytest.mark.integration

END = dt.date(2026, 3, 1)  # a Sunday: three whole ISO weeks
METRIC_TABLES = sorted({job.table for job in ALL_JOBS} - {"requests"})
MUST_HAVE_ROWS = ("stats_daily", "stats_weekly", "uptime_buckets", "routing_pools")
KEY = "testing"  # moto accepts any credentials; pyarrow must still sign with some
MOTO_SERVER = Path(sys.executable).with_name("moto_server")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """`host:port` of a moto S3 server on loopback, with the AWS variables pyarrow reads."""
    port = free_port()
    process = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", KEY)
        env.setenv("AWS_SECRET_ACCESS_KEY", KEY)
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookups
        env.delenv("AWS_PROFILE", raising=False)
        env.delenv("AWS_SESSION_TOKEN", raising=False)
        try:
            _wait_until_up(process, f"http://127.0.0.1:{port}")
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"moto_server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("moto_server did not answer")


def _bucket(endpoint: str, name: str) -> str:
    """A new bucket and the lake URI of a prefix in it."""
    query = f"endpoint_override={endpoint}&scheme=http&region=us-east-1"
    fs, _ = pafs.FileSystem.from_uri(f"s3://{name}?{query}&allow_bucket_creation=true")
    fs.create_dir(name)
    return f"s3://{name}/lake?{query}"


@pytest.fixture(scope="module")
def traffic() -> pa.Table:
    requests = generate(21, end=END, seed=5, requests_per_day=150).requests
    at = pa.array([dt.datetime(2026, 3, 2, tzinfo=dt.UTC)] * requests.num_rows)
    return requests.set_column(
        requests.schema.get_field_index("ingested_at"),
        "ingested_at",
        at.cast(requests["ingested_at"].type),
    )


def _ingest(store: LakeStore, traffic: pa.Table) -> None:
    """Two nodes; every third batch is sent to both, as a retry to another node would be."""
    nodes = [LakeWriter(store, node=name) for name in ("node-a", "node-b")]
    for node in nodes:
        node.start()
    try:
        for number, start in enumerate(range(0, traffic.num_rows, 400)):
            batch = traffic.slice(start, 400)
            nodes[number % 2].submit(batch).result(30)
            if number % 3 == 0:
                nodes[(number + 1) % 2].submit(batch).result(30)
    finally:
        for node in nodes:
            node.stop()


@pytest.fixture(scope="module")
def lakes(
    endpoint: str, traffic: pa.Table, tmp_path_factory: pytest.TempPathFactory
) -> tuple[LakeStore, LakeStore]:
    s3 = LakeStore(_bucket(endpoint, "equal"))
    local = LakeStore(str(tmp_path_factory.mktemp("lake-s3") / "lake"))
    for store in (s3, local):
        _ingest(store, traffic)
    return s3, local


def _jobs(store: LakeStore) -> Warehouse:
    stats = Warehouse.open(":memory:")
    run_lake_jobs(store, stats.connection, InlineExecutor())
    return stats


def _tables(stats: Warehouse, tables: list[str]) -> dict[str, list[tuple]]:
    return {t: stats.cursor().sql(f"FROM {t} ORDER BY ALL").fetchall() for t in tables}


def test_the_s3_lake_holds_what_the_nodes_wrote(lakes: tuple[LakeStore, LakeStore]) -> None:
    s3, local = lakes
    assert not s3.local and s3.root == "equal/lake"
    # one commit per batch (each is awaited), so both lakes have as many segments
    assert len(s3.list_files(REQUESTS)) == len(local.list_files(REQUESTS)) > 21
    assert len(s3.list_dirs(REQUESTS)) == 21
    manifests = {m.node: m for m in read_manifests(s3)}
    assert sorted(manifests) == ["node-a", "node-b"]
    assert all(m.stopped_at for m in manifests.values())


def test_jobs_on_s3_compute_the_local_lakes_tables_cell_by_cell(
    lakes: tuple[LakeStore, LakeStore],
) -> None:
    s3, local = lakes
    found, expected = _tables(_jobs(s3), METRIC_TABLES), _tables(_jobs(local), METRIC_TABLES)
    for table in MUST_HAVE_ROWS:
        assert expected[table], f"the traffic set leaves {table} empty"
    for table in METRIC_TABLES:
        assert found[table] == expected[table], table


def test_sql_over_the_s3_lake_sees_the_deduplicated_rows(
    lakes: tuple[LakeStore, LakeStore], traffic: pa.Table
) -> None:
    s3, local = lakes
    _jobs(s3)
    _jobs(local)
    query = (
        "SELECT (SELECT count(*) FROM requests_raw), (SELECT count(DISTINCT day) FROM "
        "requests_raw), (SELECT count(*) FROM requests), "
        "(SELECT count(DISTINCT request_id) FROM requests), (SELECT count(*) FROM lake_nodes)"
    )
    found = lake_connection(s3).sql(query).fetchall()[0]
    assert found == lake_connection(local).sql(query).fetchall()[0]
    raw, days, rows, unique, nodes = found
    assert raw > rows == unique == traffic.num_rows and (days, nodes) == (21, 2)
    day_type = "SELECT typeof(day) FROM requests_raw LIMIT 1"
    assert lake_connection(s3).sql(day_type).fetchall() == [("DATE",)]
    answer = CliRunner().invoke(
        cli, ["sql", "--lake", s3.uri, "--format", "csv", "SELECT count(*) AS n FROM requests"]
    )
    assert answer.exit_code == 0, answer.output
    assert answer.output.split() == ["n", str(traffic.num_rows)]


def test_compaction_and_retention_on_s3(endpoint: str, traffic: pa.Table) -> None:
    store = LakeStore(_bucket(endpoint, "compact"))
    _ingest(store, traffic)
    stats = Warehouse.open(":memory:")
    run_lake_jobs(store, stats.connection, InlineExecutor())
    before = _tables(stats, METRIC_TABLES)
    files = len(store.list_files(REQUESTS))
    result = compact(store)
    assert result.files_in > result.files_out > 0
    assert len(store.list_files(REQUESTS)) == files - result.files_in + result.files_out
    assert len(run_lake_jobs(store, stats.connection, InlineExecutor()).weeks) == 3
    assert _tables(stats, METRIC_TABLES) == before

    kept = apply_retention(store, keep_days=7, today=END)
    assert (kept.keep_from, kept.days_dropped, kept.views_dropped) == (dt.date(2026, 2, 16), 7, 1)
    assert store.exists(RETENTION) and retention_cutoff(store) == kept.keep_from
    assert min(store.list_dirs(REQUESTS)) == "day=2026-02-16"
    assert not [f for f in store.list_files(REQUESTS) if "day=2026-02-15" in f.path]
    assert len(store.list_dirs(VIEWS)) == 2
    again = run_lake_jobs(store, stats.connection, InlineExecutor())
    assert [w.week for w in again.weeks] == [dt.date(2026, 2, 16)]  # its margin day went
    assert _tables(stats, ["stats_daily"]) == {"stats_daily": before["stats_daily"]}


def test_a_file_of_several_upload_parts_reads_back_whole(endpoint: str) -> None:
    """pyarrow uploads a large file in parts (a multipart upload); the parts must join."""
    store = LakeStore(_bucket(endpoint, "parts"))
    table = pa.table({"blob": pa.array([os.urandom(1 << 20) for _ in range(24)], pa.binary())})
    size = store.write_parquet("big.parquet", table)
    assert size > 20 << 20
    head = httpx.head(f"http://{endpoint}/parts/lake/big.parquet", timeout=10)
    assert head.status_code == 200 and int(head.headers["content-length"]) == size
    assert head.headers["etag"].strip('"').rpartition("-")[2].isdigit()  # a multipart ETag
    (stored,) = store.list_files("")
    assert store.read_table([stored]).equals(table)


def test_serve_writes_its_segments_to_s3(endpoint: str, tmp_path: Path) -> None:
    """A real node: credentials given in the URI, kept out of `/healthz`."""
    uri = _bucket(endpoint, "serve").replace("s3://", f"s3://{KEY}:{KEY}@")
    sample = generate(2, end=END, seed=3, requests_per_day=40)
    files = write_sample(sample, tmp_path / "traffic", ("jsonl",))  # a request log line a row
    sent = sum(len(path.read_text().splitlines()) for path in files)
    process, url = _start_node(uri, tmp_path / "node.log")
    try:
        assert httpx.get(f"{url}/healthz", timeout=5).json()["lake"].startswith("s3://serve/")
        with httpx.Client(timeout=30) as client:
            for path in sorted(discover(files)):
                for payload in payloads(path):
                    _post(client, url, payload)
    finally:
        _stop(process)
    store = LakeStore(uri)
    (manifest,) = read_manifests(store)
    assert manifest.request_rows == sent > 0 and manifest.stopped_at
    con = lake_connection(store)
    stored = con.sql("SELECT count(DISTINCT request_id) FROM requests_raw").fetchall()
    assert stored == [(sent,)]
