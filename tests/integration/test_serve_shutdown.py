"""A service manager's SIGTERM stops `serve` through its shutdown code, as Ctrl-C does: the
owner file is withdrawn and the database closed with its WAL written into the file."""

from __future__ import annotations

import signal
from pathlib import Path

import duckdb
import httpx
import pytest

from bench.genai_batches import genai_batch
from tests.integration.server import start_serve

pytestmark = pytest.mark.integration


def test_sigterm_shuts_serve_down_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "gatewatch.duckdb"
    served = start_serve(db)
    body, ids = genai_batch(100, batch_number=1)
    try:
        answer = httpx.post(
            f"{served.ingest_url}/v1/traces",
            content=body,
            headers={"Content-Type": "application/x-protobuf"},
            timeout=30,
        )
        assert answer.status_code == 200
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(60) == 0
    finally:
        served.stop()
    assert not Path(f"{db}.owner.json").exists()
    assert not Path(f"{db}.wal").exists()  # checkpointed at close
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM requests").fetchall() == [(len(ids),)]
    finally:
        con.close()
