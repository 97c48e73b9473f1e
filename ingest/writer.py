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
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingest.record import REQUEST_SCHEMA, TOOL_SPAN_SCHEMA
from warehouse.db import Warehouse

log = logging.getLogger(__name__)

INSERT_REQUESTS_SQL = """
INSERT INTO requests BY NAME
SELECT * FROM staged_requests
ON CONFLICT (request_id) DO NOTHING
"""

INSERT_TOOL_SPANS_SQL = """
INSERT INTO tool_spans BY NAME
SELECT * FROM staged_tool_spans
ON CONFLICT (trace_id, span_id) DO NOTHING
"""

# Tool executions may reach us in another export batch than their parent request span, in
# either order. Recount the children of every parent this batch touched, from the
# deduplicated tool_spans table, and fix the parents whose count changed. A parent is looked
# for at most a day before the batch's earliest span, and its children (all of them, also
# siblings from earlier batches) start after it; both bounds let DuckDB skip old row groups.
RECOUNT_TOOL_CALLS_SQL = """
WITH touched AS (
    SELECT trace_id, parent_span_id FROM staged_tool_spans
    UNION
    SELECT trace_id, span_id FROM staged_requests WHERE span_id IS NOT NULL
),
counts AS (
    SELECT t.trace_id, t.parent_span_id, count(*)::INTEGER AS n
    FROM tool_spans t
    SEMI JOIN touched USING (trace_id, parent_span_id)
    WHERE t.started_at >= $since - INTERVAL 1 DAY
    GROUP BY ALL
)
UPDATE requests SET
    -- the calls a response reports and its execute_tool children are two views of the
    -- same calls: keep the larger
    tool_calls = counts.n,
    -- the mapper's precedence: only a cancellation outranks tool calls being present
    finish_reason = CASE
        WHEN requests.finish_reason IS DISTINCT FROM 'cancelled'
        THEN 'tool_calls' ELSE requests.finish_reason END
FROM counts
WHERE requests.started_at >= $since - INTERVAL 1 DAY
  AND requests.trace_id = counts.trace_id
  AND requests.span_id = counts.parent_span_id
  AND (requests.tool_calls IS NULL OR requests.tool_calls < counts.n)
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
        self._queue: deque[tuple[Rows, Future[WriteResult]]] = deque()
        self._queued_rows = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.stats = WriterStats()
        # Called on the writer thread with each committed transaction's duration in seconds
        # (/metrics observes it); it must not raise.
        self.on_commit: Callable[[float], None] | None = None
        self._tool_spans_seen = False

    # --- producer side ------------------------------------------------------------------

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    def submit(self, requests: pa.Table, tool_spans: pa.Table | None = None) -> Future[WriteResult]:
        """Queue rows for the next commit; raises QueueFull when saturated."""
        future: Future[WriteResult] = Future()
        rows = Rows(requests, tool_spans if tool_spans is not None else _EMPTY_TOOL_SPANS)
        if rows.size == 0:
            future.set_result(WriteResult(0, 0, 0))
            return future
        with self._cond:
            if self._stopping:
                raise WriterStopped("the writer is shutting down")
            if self._queued_rows and self._queued_rows + rows.size > self._max_queued_rows:
                raise QueueFull(f"{self._queued_rows} rows are waiting to be written")
            self._queue.append((rows, future))
            self._queued_rows += rows.size
            self.stats.submitted_rows += requests.num_rows
            self._cond.notify()
        return future

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
            self._queue.append((Rows(_EMPTY_REQUESTS, _EMPTY_TOOL_SPANS), marker))
            self._cond.notify()
        marker.result(timeout)

    # --- writer thread ------------------------------------------------------------------

    def _take_batch(self) -> list[tuple[Rows, Future[WriteResult]]] | None:
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if not self._queue:
                return None
            batch = [self._queue.popleft()]
            rows = batch[0][0].size
            while self._queue and rows + self._queue[0][0].size <= self._max_batch_rows:
                item = self._queue.popleft()
                rows += item[0].size
                batch.append(item)
            self._queued_rows -= rows
            return batch

    def _run(self) -> None:
        cursor = self._warehouse.connection.cursor()
        while (batch := self._take_batch()) is not None:
            if not any(rows.size for rows, _ in batch):
                for _, future in batch:
                    _resolve(future, WriteResult(0, 0, 0))
                continue
            try:
                merged = Rows(
                    pa.concat_tables([rows.requests for rows, _ in batch]),
                    pa.concat_tables([rows.tool_spans for rows, _ in batch]),
                )
                inserted = self._commit(cursor, merged)
            except Exception as e:  # isolate the bad submission below
                log.warning("batch commit failed (%s); retrying submissions one by one", e)
                self._commit_one_by_one(cursor, batch)
                continue
            for rows, future in batch:
                _resolve(
                    future,
                    WriteResult(rows.requests.num_rows, merged.requests.num_rows, inserted),
                )

    def _commit_one_by_one(
        self,
        cursor: duckdb.DuckDBPyConnection,
        batch: list[tuple[Rows, Future[WriteResult]]],
    ) -> None:
        for rows, future in batch:
            try:
                inserted = self._commit(cursor, rows) if rows.size else 0
            except Exception as e:  # reported to the submitter
                self.stats.failed_rows += rows.requests.num_rows
                _resolve(future, e)
            else:
                n = rows.requests.num_rows
                _resolve(future, WriteResult(n, n, inserted))

    def _commit(self, cursor: duckdb.DuckDBPyConnection, rows: Rows) -> int:
        started = time.perf_counter()
        submitted = rows.requests.num_rows
        requests = _dedupe(rows.requests.cast(REQUEST_SCHEMA), ["request_id"])
        tool_spans = _dedupe(rows.tool_spans.cast(TOOL_SPAN_SCHEMA), ["trace_id", "span_id"])
        since = _earliest_start(requests, tool_spans)
        cursor.register("staged_requests", requests)
        cursor.register("staged_tool_spans", tool_spans)
        try:
            cursor.execute("BEGIN TRANSACTION")
            try:
                row = cursor.execute(INSERT_REQUESTS_SQL).fetchone()
                if since is not None and (tool_spans.num_rows or self._has_tool_spans(cursor)):
                    if tool_spans.num_rows:
                        cursor.execute(INSERT_TOOL_SPANS_SQL)
                    cursor.execute(RECOUNT_TOOL_CALLS_SQL, {"since": since})
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
        finally:
            cursor.unregister("staged_requests")
            cursor.unregister("staged_tool_spans")
        inserted = int(row[0]) if row else 0
        stats = self.stats
        stats.batches += 1
        stats.stored_rows += inserted
        stats.duplicate_rows += submitted - inserted
        if self.on_commit is not None:
            self.on_commit(time.perf_counter() - started)
        return inserted

    def _has_tool_spans(self, cursor: duckdb.DuckDBPyConnection) -> bool:
        """Whether any tool span was ever stored (else a request batch needs no recount)."""
        if not self._tool_spans_seen:
            self._tool_spans_seen = bool(
                cursor.execute("SELECT EXISTS (FROM tool_spans)").fetchone()[0]
            )
        return self._tool_spans_seen


def _resolve(future: Future[WriteResult], outcome: WriteResult | BaseException) -> None:
    """Answer a submitter; one that gave up (cancelled its future) must not stop the writer."""
    try:
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
    except InvalidStateError:
        pass


@dataclass(frozen=True, slots=True)
class Rows:
    """One submission: request rows plus the tool-execution spans that came with them."""

    requests: pa.Table
    tool_spans: pa.Table

    @property
    def size(self) -> int:
        return self.requests.num_rows + self.tool_spans.num_rows


_EMPTY_REQUESTS = REQUEST_SCHEMA.empty_table()
_EMPTY_TOOL_SPANS = TOOL_SPAN_SCHEMA.empty_table()


def _dedupe(table: pa.Table, key: list[str]) -> pa.Table:
    """Keep the first row of each key (ON CONFLICT cannot see twins within one batch)."""
    if table.num_rows < 2:
        return table
    numbered = table.select(key).append_column("row", pa.array(range(table.num_rows)))
    first = numbered.group_by(key, use_threads=False).aggregate([("row", "min")])
    if first.num_rows == table.num_rows:
        return table
    return table.take(first.column("row_min").sort())


def _earliest_start(*tables: pa.Table) -> object | None:
    starts = [pc.min(t.column("started_at")).as_py() for t in tables if t.num_rows]
    starts = [s for s in starts if s is not None]
    return min(starts) if starts else None
