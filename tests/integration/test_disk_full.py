"""A real full disk: the database lives on a small tmpfs, and a file fills it.

While full, ingest answers 503 with Retry-After (never a 500, never a 2xx for rows not
stored), also after a checkpoint on the full disk made DuckDB invalidate the database; when
the space returns, the same process stores new data again, and nothing acknowledged is lost.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest
from fastapi.testclient import TestClient

from bench.genai_batches import genai_batch
from ingest.app import create_app
from ingest.writer import BatchWriter
from tests.integration.server import start_serve
from warehouse.db import Warehouse

pytestmark = pytest.mark.integration

PB = {"Content-Type": "application/x-protobuf"}
DISK = "64m"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError:
            pass
    return filler


def test_full_disk_is_503_and_ingest_resumes_when_space_returns(small_disk: Path) -> None:
    db = small_disk / "gatewatch.duckdb"
    batches = [genai_batch(200, batch_number=n) for n in range(10)]
    acknowledged: set[str] = set()
    answers: list[int] = []
    served = start_serve(db)
    try:
        client = httpx.Client(base_url=served.ingest_url, timeout=60)

        def send(n: int) -> int:
            body, ids = batches[n]
            response = client.post("/v1/traces", content=body, headers=PB)
            answers.append(response.status_code)
            if response.status_code == 200:
                acknowledged.update(ids)
            else:
                assert response.status_code == 503, response.text
                assert int(response.headers["Retry-After"]) > 0
            return response.status_code

        assert [send(n) for n in (0, 1)] == [200, 200]
        filler = fill(small_disk)
        assert send(2) == 503
        assert [send(n) for n in (3, 4, 5)] == [503, 503, 503]
        assert client.get("/healthz").status_code == 200
        assert served.process.poll() is None

        filler.unlink()  # space is back: the same process resumes by itself
        for n in range(2, 10):
            for _ in range(20):
                if send(n) == 200:
                    break
                time.sleep(0.5)
        metrics = client.get("/metrics").text
        client.close()
        assert served.process.poll() is None
    finally:
        served.stop()
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = {r[0] for r in con.execute("SELECT request_id FROM requests").fetchall()}
        rows, distinct = con.execute(
            "SELECT count(*), count(DISTINCT request_id) FROM requests"
        ).fetchone()
    finally:
        con.close()
    every_id = {i for _, ids in batches for i in ids}
    assert acknowledged == every_id, f"{answers}"
    assert stored == every_id, f"{len(every_id - stored)} rows missing"
    assert rows == distinct == len(every_id)
    assert 'reason="write_failed"' in metrics


@pytest.mark.parametrize(
    "checkpoint_aside_at", [None, 64 << 20], ids=["checkpoint-in-commit", "checkpoint-aside"]
)
def test_database_invalidated_by_a_full_disk_is_reopened_when_space_returns(
    small_disk: Path, checkpoint_aside_at: int | None
) -> None:
    warehouse = Warehouse.open(small_disk / "gatewatch.duckdb")
    writer = BatchWriter(warehouse, checkpoint_aside_at=checkpoint_aside_at)
    writer.start()
    client = TestClient(create_app(writer))
    batches = [genai_batch(200, batch_number=n) for n in range(4)]
    try:
        assert client.post("/v1/traces", content=batches[0][0], headers=PB).status_code == 200
        filler = fill(small_disk)
        with pytest.raises(duckdb.FatalException):  # DuckDB's own reaction to the full disk
            warehouse.connection.execute("CHECKPOINT")
        answer = client.post("/v1/traces", content=batches[1][0], headers=PB)
        assert answer.status_code == 503 and answer.headers["Retry-After"]
        filler.unlink()
        answers = [
            client.post("/v1/traces", content=body, headers=PB).status_code
            for body, _ in batches[1:]
        ]
        assert answers == [200, 200, 200]
        assert writer.stats.reopens == 1
        stored = warehouse.cursor().execute("SELECT request_id FROM requests").fetchall()
        assert {r[0] for r in stored} == {i for _, ids in batches for i in ids}
    finally:
        writer.stop()
        warehouse.close()
