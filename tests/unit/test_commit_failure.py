"""A commit DuckDB refuses (a full disk) answers 503 with Retry-After, loses nothing that was
acknowledged, keeps the writer alive, and ingest resumes by itself once commits work again.

The failure is injected where DuckDB reports it: the transaction runs, then its COMMIT fails
with the error DuckDB raises on a full disk — once as a plain commit failure (DuckDB rolls
back and stays usable) and once as a fatal one (DuckDB invalidates the database until it is
opened anew). `tests/integration/test_disk_full.py` does the same with a real full disk.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb
import pytest
from fastapi.testclient import TestClient

import ingest.writer
from bench.genai_batches import genai_batch
from ingest.app import create_app
from ingest.writer import BatchWriter
from tests.unit.test_metrics_endpoint import value
from warehouse.db import Warehouse
from warehouse.transactions import transaction

PB = {"Content-Type": "application/x-protobuf"}
NO_SPACE = 'Could not write file "unit.duckdb.wal": No space left on device'


class Disk:
    """Replaces the writer's `transaction`: while full, the COMMIT fails as DuckDB's does."""

    def __init__(self, error: type[duckdb.Error]) -> None:
        self.full = False
        self.error = error

    @contextlib.contextmanager
    def transaction(self, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
        if not self.full:
            with transaction(con):
                yield
            return
        con.execute("BEGIN TRANSACTION")
        yield
        con.execute("ROLLBACK")  # what DuckDB does itself when the COMMIT cannot be written
        raise self.error(f"TransactionContext Error: Failed to commit: {NO_SPACE}")


def stored_ids(warehouse: Warehouse) -> set[str]:
    return {r[0] for r in warehouse.cursor().execute("SELECT request_id FROM requests").fetchall()}


@pytest.mark.parametrize("error", [duckdb.TransactionException, duckdb.FatalException])
def test_failed_commit_is_503_and_ingest_resumes_by_itself(
    warehouse: Warehouse,
    writer: BatchWriter,
    monkeypatch: pytest.MonkeyPatch,
    error: type[duckdb.Error],
) -> None:
    disk = Disk(error)
    monkeypatch.setattr(ingest.writer, "transaction", disk.transaction)
    client = TestClient(create_app(writer))
    batches = [genai_batch(50, batch_number=n) for n in range(6)]
    acknowledged: set[str] = set()

    def send(n: int) -> int:
        body, ids = batches[n]
        response = client.post("/v1/traces", content=body, headers=PB)
        if response.status_code == 200:
            acknowledged.update(ids)
        else:
            assert response.status_code == 503, response.text
            assert int(response.headers["Retry-After"]) > 0
        return response.status_code

    assert send(0) == 200
    disk.full = True
    assert [send(n) for n in (1, 2, 3)] == [503, 503, 503]
    assert client.get("/healthz").status_code == 200
    assert writer._thread is not None and writer._thread.is_alive()
    assert stored_ids(warehouse) == acknowledged  # nothing refused was stored, nothing lost

    disk.full = False  # space is back: the same server and writer take the data again
    assert [send(n) for n in (1, 2, 3, 4, 5)] == [200] * 5
    assert stored_ids(warehouse) == acknowledged == {i for _, ids in batches for i in ids}
    assert value(client, "gatewatch_ingest_failed_rows_total") == 150
    assert (
        value(
            client,
            "gatewatch_ingest_rejected_requests_total",
            endpoint="traces",
            reason="write_failed",
        )
        == 3
    )
    # a fatal error: the database is opened anew before each later commit, until one works
    reopens = 3 if error is duckdb.FatalException else 0
    assert value(client, "gatewatch_ingest_database_reopens_total") == reopens
