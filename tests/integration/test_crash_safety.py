"""A 2xx answer means durable: `kill -9` of serve right after acknowledgements loses none
of the acknowledged rows."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import httpx
import pytest

from bench.genai_batches import genai_batch
from tests.integration.server import start_serve

pytestmark = pytest.mark.integration

BATCHES = 60
SPANS_PER_BATCH = 200
KILL_AFTER_ACKS = 25


def test_kill_9_loses_no_acknowledged_row(tmp_path: Path) -> None:
    bodies = [genai_batch(SPANS_PER_BATCH, batch_number=n) for n in range(BATCHES)]
    served = start_serve(tmp_path / "gatewatch.duckdb")
    acknowledged: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def send(batch_numbers: range) -> None:
        with httpx.Client(base_url=served.ingest_url, timeout=30) as client:
            for n in batch_numbers:
                body, ids = bodies[n]
                try:
                    response = client.post(
                        "/v1/traces",
                        content=body,
                        headers={"Content-Type": "application/x-protobuf"},
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 200:
                    with lock:
                        acknowledged.extend(ids)
                        if len(acknowledged) >= KILL_AFTER_ACKS * SPANS_PER_BATCH:
                            enough.set()

    senders = [threading.Thread(target=send, args=(range(k, BATCHES, 3),)) for k in range(3)]
    for sender in senders:
        sender.start()
    assert enough.wait(120), "the server acknowledged too few batches"
    served.kill_hard()  # while the senders still have requests in flight
    for sender in senders:
        sender.join(60)
    with lock:
        acked = set(acknowledged)
    assert len(acked) >= KILL_AFTER_ACKS * SPANS_PER_BATCH

    con = duckdb.connect(str(served.db))  # replays the WAL, as the next serve would
    try:
        stored = {row[0] for row in con.execute("SELECT request_id FROM requests").fetchall()}
    finally:
        con.close()
    assert acked <= stored, f"{len(acked - stored)} acknowledged rows were lost"
