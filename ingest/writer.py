"""The single writer: a bounded queue of Arrow batches drained by one thread, which commits
everything waiting as one transaction (group commit) and acknowledges after COMMIT.

DuckDB fsyncs its WAL on commit, so a resolved future means the rows survive `kill -9`.
Rows are deduplicated on `request_id` (within the batch and against the table), so a
client that retries after a lost acknowledgement never creates a second row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingest.record import REQUEST_SCHEMA
from warehouse.db import Warehouse

log = logging.getLogger(__name__)

INSERT_REQUESTS_SQL = """
INSERT INTO requests BY NAME
SELECT * FROM staged_requests
ON CONFLICT (request_id) DO NOTHING
"""


class QueueFull(Exception):
    """The writer is saturated; the client should retry later (HTTP 503 + Retry-After)."""


class WriterStopped(Exception):
    """The writer no longer accepts work (shutting down)."""


@dataclass(frozen=True, slots=True)
class WriteResult:
    rows: int  # rows submitted
    batch_rows: int  # rows in the committed transaction that carried them
    batch_inserted: int  # new rows that transaction stored (the rest were duplicates)


@dataclass(slots=True)
class WriterStats:
    submitted_rows: int = 0
    stored_rows: int = 0
    duplicate_rows: int = 0
    failed_rows: int = 0
    batches: int = 0
    last_commit_seconds: float = 0.0
    commit_seconds_total: float = 0.0


class BatchWriter:
    def __init__(
        self,
        warehouse: Warehouse,
        *,
        max_queued_rows: int = 200_000,
        max_batch_rows: int = 50_000,
    ) -> None:
        self._warehouse = warehouse
        self._max_queued_rows = max_queued_rows
        self._max_batch_rows = max_batch_rows
        self._queue: deque[tuple[pa.Table, Future[WriteResult]]] = deque()
        self._queued_rows = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.stats = WriterStats()
        self._listeners: list = []

    # --- producer side ------------------------------------------------------------------

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    def submit(self, table: pa.Table) -> Future[WriteResult]:
        """Queue rows for the next commit; raises QueueFull when saturated."""
        future: Future[WriteResult] = Future()
        if table.num_rows == 0:
            future.set_result(WriteResult(0, 0, 0))
            return future
        with self._cond:
            if self._stopping:
                raise WriterStopped("the writer is shutting down")
            if self._queued_rows and self._queued_rows + table.num_rows > self._max_queued_rows:
                raise QueueFull(f"{self._queued_rows} rows are waiting to be written")
            self._queue.append((table, future))
            self._queued_rows += table.num_rows
            self.stats.submitted_rows += table.num_rows
            self._cond.notify()
        return future

    def add_commit_listener(self, listener) -> None:
        """`listener(inserted_rows)` runs on the writer thread after each commit."""
        self._listeners.append(listener)

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gatewatch-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop accepting work, commit what is queued, end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def flush(self, timeout: float = 60.0) -> None:
        """Wait until everything submitted so far is committed."""
        marker: Future[WriteResult] = Future()
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                return
            self._queue.append((pa.table({}), marker))
            self._cond.notify()
        marker.result(timeout)

    # --- writer thread ------------------------------------------------------------------

    def _take_batch(self) -> list[tuple[pa.Table, Future[WriteResult]]] | None:
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if not self._queue:
                return None
            batch = [self._queue.popleft()]
            rows = batch[0][0].num_rows
            while self._queue and rows + self._queue[0][0].num_rows <= self._max_batch_rows:
                item = self._queue.popleft()
                rows += item[0].num_rows
                batch.append(item)
            self._queued_rows -= rows
            return batch

    def _run(self) -> None:
        cursor = self._warehouse.connection.cursor()
        while (batch := self._take_batch()) is not None:
            tables = [table for table, _ in batch if table.num_rows]
            futures = [future for _, future in batch]
            if not tables:
                for future in futures:
                    future.set_result(WriteResult(0, 0, 0))
                continue
            try:
                inserted = self._commit(cursor, pa.concat_tables(tables))
            except Exception as e:  # noqa: BLE001 - isolate the bad submission below
                log.warning("batch commit failed (%s); retrying submissions one by one", e)
                self._commit_one_by_one(cursor, batch)
                continue
            rows = sum(t.num_rows for t in tables)
            result_rows = {id(f): t.num_rows for t, f in batch}
            for future in futures:
                future.set_result(WriteResult(result_rows[id(future)], rows, inserted))

    def _commit_one_by_one(
        self,
        cursor: duckdb.DuckDBPyConnection,
        batch: list[tuple[pa.Table, Future[WriteResult]]],
    ) -> None:
        for table, future in batch:
            try:
                inserted = self._commit(cursor, table) if table.num_rows else 0
            except Exception as e:  # noqa: BLE001 - reported to the submitter
                self.stats.failed_rows += table.num_rows
                future.set_exception(e)
            else:
                future.set_result(WriteResult(table.num_rows, table.num_rows, inserted))

    def _commit(self, cursor: duckdb.DuckDBPyConnection, table: pa.Table) -> int:
        started = time.perf_counter()
        staged = _dedupe_request_ids(table.cast(REQUEST_SCHEMA))
        cursor.register("staged_requests", staged)
        try:
            cursor.execute("BEGIN TRANSACTION")
            try:
                row = cursor.execute(INSERT_REQUESTS_SQL).fetchone()
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
        finally:
            cursor.unregister("staged_requests")
        inserted = int(row[0]) if row else 0
        elapsed = time.perf_counter() - started
        stats = self.stats
        stats.batches += 1
        stats.stored_rows += inserted
        stats.duplicate_rows += table.num_rows - inserted
        stats.last_commit_seconds = elapsed
        stats.commit_seconds_total += elapsed
        for listener in self._listeners:
            listener(inserted)
        return inserted


def _dedupe_request_ids(table: pa.Table) -> pa.Table:
    """Keep the first row of each request_id (ON CONFLICT cannot see in-batch twins)."""
    ids = table.column("request_id")
    if pc.count_distinct(ids).as_py() == table.num_rows:
        return table
    first = (
        pa.table({"request_id": ids, "row": pa.array(range(table.num_rows))})
        .group_by("request_id", use_threads=False)
        .aggregate([("row", "min")])
        .column("row_min")
    )
    return table.take(pc.sort_indices(first))
