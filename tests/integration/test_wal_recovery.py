"""Startup recovery: when DuckDB cannot replay the write-ahead log after a crash, serve says
so in one line, moves the log aside (kept), starts from the last checkpoint and counts it in
/metrics and /healthz."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import httpx
import pytest

from bench.genai_batches import genai_batch
from tests.integration.server import start_serve
from warehouse.db import Warehouse, WarehouseError

pytestmark = pytest.mark.integration

PB = {"Content-Type": "application/x-protobuf"}


def post(url: str, body: bytes) -> None:
    assert httpx.post(f"{url}/v1/traces", content=body, headers=PB, timeout=60).status_code == 200


def corrupt(wal: Path) -> bytes:
    """Flip 16 bytes of the log where the installed DuckDB then refuses to replay it (a failed
    entry checksum; some other spots it skips silently), tried on a copy first."""
    db = wal.with_suffix("")
    data = wal.read_bytes()
    trial = wal.parent / "trial"
    trial.mkdir()
    for offset in range(len(data) - 16, 0, -max(1, len(data) // 64)):
        broken = bytearray(data)
        for i in range(offset, offset + 16):
            broken[i] ^= 0xFF
        shutil.copy(db, trial / db.name)
        (trial / wal.name).write_bytes(broken)
        try:
            duckdb.connect(str(trial / db.name)).close()
        except duckdb.Error as e:
            if "replaying WAL" in str(e):
                shutil.rmtree(trial)
                wal.write_bytes(broken)
                return bytes(broken)
    raise AssertionError("no corruption of the WAL made DuckDB fail to replay it")


def stored_ids(db: Path) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT request_id FROM requests").fetchall()}
    finally:
        con.close()


def test_unreplayable_wal_is_moved_aside_and_serve_starts_on_what_is_durable(
    tmp_path: Path,
) -> None:
    db = tmp_path / "gatewatch.duckdb"
    wal = Path(f"{db}.wal")
    durable, durable_ids = genai_batch(100, batch_number=1)
    in_wal, _ = genai_batch(100, batch_number=2)
    later, later_ids = genai_batch(100, batch_number=3)

    served = start_serve(db)
    post(served.ingest_url, durable)
    served.stop()  # a clean stop checkpoints
    served = start_serve(db)
    post(served.ingest_url, in_wal)
    served.kill_hard()  # the acknowledged batch is only in the WAL
    corrupted = corrupt(wal)
    with pytest.raises(duckdb.Error, match="replaying WAL"):  # DuckDB alone cannot open it
        duckdb.connect(str(db)).close()
    with pytest.raises(WarehouseError, match="write-ahead log cannot be replayed"):
        Warehouse.open(db, read_only=True)  # a reader reports it and changes nothing
    assert wal.read_bytes() == corrupted

    served = start_serve(db)
    try:
        health = httpx.get(f"{served.ingest_url}/healthz").json()
        metrics = httpx.get(f"{served.ingest_url}/metrics").text
        post(served.ingest_url, later)
    finally:
        served.stop()

    moved = list(tmp_path.glob("gatewatch.duckdb.wal.corrupt-*"))
    assert len(moved) == 1
    assert moved[0].read_bytes() == corrupted  # kept, byte for byte
    assert health["quarantined_wals"] == [str(moved[0])]
    assert "gatewatch_ingest_wal_quarantined_total 1.0" in metrics
    log = served.log_text()
    said = [line for line in log.splitlines() if "could not be replayed" in line]
    assert len(said) == 1, log
    assert str(wal) in said[0] and str(moved[0]) in said[0] and "last checkpoint" in said[0]
    assert stored_ids(db) == set(durable_ids) | set(later_ids)


def test_warehouse_open_moves_an_unreplayable_wal_aside(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    served = start_serve(db)
    post(served.ingest_url, genai_batch(50, batch_number=1)[0])
    served.kill_hard()
    corrupt(Path(f"{db}.wal"))
    warehouse = Warehouse.open(db)  # what CLI commands do when no serve runs
    try:
        assert [p.name.split(".corrupt-")[0] for p in warehouse.quarantined_wals] == [
            "cli.duckdb.wal"
        ]
        assert warehouse.connection.execute("SELECT count(*) FROM requests").fetchone()
    finally:
        warehouse.close()
