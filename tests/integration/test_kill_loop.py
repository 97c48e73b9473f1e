"""Durability across repeated crashes: `kill -9` of serve at a random moment under load from
concurrent senders, restart, again; then every body is sent once more, as exporters retry.

Every acknowledged row must have survived every crash before the resend, and afterwards
every row is stored exactly once.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import duckdb
import httpx
import orjson
import pytest

from bench.genai_batches import genai_batch
from tests.integration.server import Served, start_serve

pytestmark = pytest.mark.integration

ROUNDS = 4
TRACE_BATCHES = 40
SPANS_PER_BATCH = 200
LOG_BATCHES = 20
RECORDS_PER_LOG_BATCH = 50
TRACE_SENDERS = 3
ROUND_SHARE = 0.5  # each round sends a random half of all bodies, some sent before
ROUND_SECONDS = 20.0  # a round's senders give up after this, whether killed or not
PROTOBUF = {"Content-Type": "application/x-protobuf"}

Body = tuple[str, bytes, list[str]]  # route, body, the request ids it carries


def request_log_batch(batch_number: int) -> tuple[bytes, list[str]]:
    ids = [f"log-b{batch_number}-{i}" for i in range(RECORDS_PER_LOG_BATCH)]
    records = [
        {
            "request_id": request_id,
            "started_at": f"2026-09-01T10:{batch_number % 60:02d}:{i % 60:02d}Z",
            "provider": "openai",
            "model": "gpt-5-2025-08-07",
            "input_tokens": 100 + i,
            "output_tokens": 10 + i,
        }
        for i, request_id in enumerate(ids)
    ]
    return b"\n".join(orjson.dumps(r) for r in records), ids


def all_bodies() -> tuple[list[Body], list[Body]]:
    traces = [
        ("/v1/traces", *genai_batch(SPANS_PER_BATCH, batch_number=n)) for n in range(TRACE_BATCHES)
    ]
    logs = [("/v1/requests", *request_log_batch(n)) for n in range(LOG_BATCHES)]
    return traces, logs


def post(client: httpx.Client, route: str, body: bytes) -> bool:
    """Whether the server acknowledged the body (2xx and every record stored)."""
    headers = PROTOBUF if route == "/v1/traces" else {}
    response = client.post(route, content=body, headers=headers)
    if response.status_code != 200:
        assert response.status_code == 503, response.text  # never a 500, never a 4xx
        return False
    if route == "/v1/requests":
        assert response.json()["rejected"] == []
    else:
        assert "partialSuccess" not in response.content.decode(errors="replace")
    return True


class Round:
    """Concurrent senders against one serve; records what was acknowledged."""

    def __init__(self, served: Served, acknowledged: set[str]) -> None:
        self.served = served
        self.acknowledged = acknowledged
        self.lock = threading.Lock()
        self.progress = threading.Condition(self.lock)
        self.acknowledged_bodies = 0
        self.cut_off = 0  # senders whose request was in flight when the server died
        self.errors: list[BaseException] = []

    def send(self, bodies: list[Body]) -> None:
        deadline = time.monotonic() + ROUND_SECONDS
        try:
            with httpx.Client(base_url=self.served.ingest_url, timeout=30) as client:
                for route, body, ids in bodies:
                    if time.monotonic() > deadline:
                        return
                    if post(client, route, body):
                        with self.progress:
                            self.acknowledged.update(ids)
                            self.acknowledged_bodies += 1
                            self.progress.notify_all()
        except httpx.TransportError:  # the server was killed
            with self.lock:
                self.cut_off += 1
        except BaseException as e:  # an assertion in a sender thread fails the test
            self.errors.append(e)

    def run(self, senders: list[list[Body]], kill_at: int) -> int:
        """Send, kill the server once `kill_at` bodies are acknowledged: the senders still
        have bodies to send then, so the kill lands mid-load however fast the server is.
        Returns how many senders it cut off."""
        threads = [threading.Thread(target=self.send, args=(bodies,)) for bodies in senders]
        for thread in threads:
            thread.start()
        with self.progress:
            reached = self.progress.wait_for(lambda: self.acknowledged_bodies >= kill_at, 60)
        assert reached, f"the server acknowledged fewer than {kill_at} bodies"
        self.served.kill_hard()  # mid-load: requests are in flight
        for thread in threads:
            thread.join(60)
        assert not self.errors, self.errors
        return self.cut_off


def stored_counts(db: Path) -> tuple[set[str], int, int]:
    """The stored request ids, the row count and the distinct request_id count."""
    con = duckdb.connect(str(db), read_only=True)  # replays the WAL in memory
    try:
        ids = {row[0] for row in con.execute("SELECT request_id FROM requests").fetchall()}
        rows, distinct = con.execute(
            "SELECT count(*), count(DISTINCT request_id) FROM requests"
        ).fetchone()
    finally:
        con.close()
    return ids, rows, distinct


def test_repeated_kill_9_under_load_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    rng = random.Random(20260901)
    db = tmp_path / "gatewatch.duckdb"
    traces, logs = all_bodies()
    every_id = {i for _, _, ids in traces + logs for i in ids}
    acknowledged: set[str] = set()
    cut_off = 0
    for _ in range(ROUNDS):
        # a new random share each round, so some bodies are re-sent (as after a lost ack)
        # and some are first sent by the final resend
        order = rng.sample(traces, int(len(traces) * ROUND_SHARE))
        senders = [order[k::TRACE_SENDERS] for k in range(TRACE_SENDERS)]
        senders.append(rng.sample(logs, int(len(logs) * ROUND_SHARE)))
        served = start_serve(db)
        bodies = sum(len(s) for s in senders)
        cut_off += Round(served, acknowledged).run(senders, kill_at=rng.randint(1, bodies // 2))
    assert cut_off, "no kill landed while requests were in flight"

    stored, rows, distinct = stored_counts(db)
    lost = acknowledged - stored
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged rows were lost"
    assert rows == distinct, f"{rows - distinct} duplicate rows"
    assert stored <= every_id

    served = start_serve(db)
    try:
        with httpx.Client(base_url=served.ingest_url, timeout=60) as client:
            for route, body, _ in traces + logs:
                for _ in range(20):
                    if post(client, route, body):
                        break
                    time.sleep(0.5)
                else:
                    raise AssertionError(f"{route} was never acknowledged")
    finally:
        served.stop()
    stored, rows, distinct = stored_counts(db)
    assert stored == every_id, f"{len(every_id - stored)} rows missing after the resend"
    assert rows == distinct == len(every_id), f"{rows - distinct} duplicate rows"
    print(
        f"{ROUNDS} kill -9 rounds ({cut_off} senders cut off mid-request): "
        f"{len(acknowledged)} of {len(every_id)} rows acknowledged before the resend, "
        f"lost 0, duplicates 0; {rows} rows stored after it"
    )
