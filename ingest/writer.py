"""The single writer: a bounded queue of Arrow batches drained by one thread, which commits
everything waiting as one transaction (group commit) and acknowledges after COMMIT.

DuckDB fsyncs its WAL on commit, so a resolved future means the rows survive `kill -9`.
Rows are deduplicated on `request_id` (within the batch and against the table), so a
client that retries after a lost acknowledgement never creates a second row.

GenAI event records (`ingest.logs`) describe the same request as their span: they are merged
into one row per (trace_id, span_id), in whichever order and batch they arrive (see
`ingest.writer_sql`, which holds every statement the writer runs).
"""

from __future__ import annotations

import datetime
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

from ingest.logs import SOURCE as EVENT_SOURCE
from ingest.record import REQUEST_SCHEMA, TOOL_SPAN_SCHEMA
from ingest.writer_sql import (
    DELETE_SUPERSEDED_SQL,
    EVENT_ROWS_EXIST_SQL,
    INSERT_TOOL_SPANS_SQL,
    LAST_CLAIM_SQL,
    MERGE_EVENTS_SQL,
    MERGE_KEYS_SQL,
    MERGED,
    RECOUNT_TOOL_CALLS_SQL,
    STAGED_REQUESTS,
    UNMERGED_REQUESTS,
    UPDATE_MERGED_SQL,
    insert_new_requests,
)
from warehouse.db import Warehouse
from warehouse.transactions import transaction

log = logging.getLogger(__name__)


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
    merged_rows: int = 0  # event records that completed another row instead of adding one
    failed_rows: int = 0
    batches: int = 0
    reopens: int = 0  # times the database was opened anew after DuckDB invalidated it


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
        # Whether more rows are on their way (bodies being decoded): a commit then waits up
        # to `gather_seconds` for them, until `gather_rows` are queued. A commit has a fixed
        # cost of ~5 ms of CPU whatever its size, so under load fewer, larger commits leave
        # the cores to decoding (512 rows: 24 us/row; 2,048: 14). None: commit at once.
        self.more_coming: Callable[[], bool] | None = None
        self.gather_rows = 8_192
        self.gather_seconds = 0.010
        # Called on the writer thread with each committed transaction's duration in seconds
        # (/metrics observes it); it must not raise.
        self.on_commit: Callable[[float], None] | None = None
        self._tool_spans_seen = False
        # None until first needed; then kept current (this writer is the only one)
        self._event_rows_seen: bool | None = None
        self._last_claim: int | None = None

    # --- producer side ------------------------------------------------------------------

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    @property
    def warehouse(self) -> Warehouse:
        return self._warehouse

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
            self._gather()
            batch = [self._queue.popleft()]
            rows = batch[0][0].size
            while self._queue and rows + self._queue[0][0].size <= self._max_batch_rows:
                item = self._queue.popleft()
                rows += item[0].size
                batch.append(item)
            self._queued_rows -= rows
            return batch

    def _gather(self) -> None:
        """Wait (holding the condition) while more rows are coming, up to the gather limits."""
        more_coming = self.more_coming
        if more_coming is None:
            return
        deadline = time.monotonic() + self.gather_seconds
        while (
            not self._stopping
            and self._queued_rows < self.gather_rows
            and more_coming()
            and (left := deadline - time.monotonic()) > 0
        ):
            self._cond.wait(left)

    def _run(self) -> None:
        cursor: duckdb.DuckDBPyConnection | None = self._warehouse.connection.cursor()
        while (batch := self._take_batch()) is not None:
            if not any(rows.size for rows, _ in batch):
                for _, future in batch:
                    _resolve(future, WriteResult(0, 0, 0))
                continue
            if cursor is None:
                try:
                    cursor = self._reopen()
                except Exception as e:  # no room yet, say: this batch fails, the next retries
                    self._fail(batch, e)
                    continue
            try:
                merged = Rows(
                    pa.concat_tables([rows.requests for rows, _ in batch]),
                    pa.concat_tables([rows.tool_spans for rows, _ in batch]),
                )
                inserted = self._commit(cursor, merged)
            except duckdb.FatalException as e:
                # DuckDB invalidates the whole database after a fatal error (a checkpoint that
                # hit a full disk, say): every statement fails until it is opened anew.
                self._fail(batch, e)
                cursor = None
                continue
            except Exception as e:  # isolate the bad submission below
                log.warning("batch commit failed (%s); retrying submissions one by one", e)
                try:
                    self._commit_one_by_one(cursor, batch)
                except duckdb.FatalException:
                    cursor = None
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
        for i, (rows, future) in enumerate(batch):
            try:
                inserted = self._commit(cursor, rows) if rows.size else 0
            except duckdb.FatalException as e:  # the database is gone, for the rest too
                self._fail(batch[i:], e)
                raise
            except Exception as e:  # reported to the submitter
                self.stats.failed_rows += rows.requests.num_rows
                _resolve(future, e)
            else:
                n = rows.requests.num_rows
                _resolve(future, WriteResult(n, n, inserted))

    def _fail(self, batch: list[tuple[Rows, Future[WriteResult]]], error: Exception) -> None:
        for rows, future in batch:
            self.stats.failed_rows += rows.requests.num_rows
            _resolve(future, error)

    def _reopen(self) -> duckdb.DuckDBPyConnection:
        """Open the invalidated database anew; while that fails, batches fail (503) and the
        next one tries again, so ingest resumes by itself once the disk has room."""
        self._warehouse.reopen()
        self._last_claim = None  # claims of the lost transaction may not have been kept
        self.stats.reopens += 1
        log.warning("the database was reopened after a fatal error; ingest resumes")
        return self._warehouse.connection.cursor()

    def _commit(self, cursor: duckdb.DuckDBPyConnection, rows: Rows) -> int:
        started = time.perf_counter()
        submitted = rows.requests.num_rows
        requests, events = _stage_requests(rows.requests.cast(REQUEST_SCHEMA))
        tool_spans = _dedupe(rows.tool_spans.cast(TOOL_SPAN_SCHEMA), ["trace_id", "span_id"])
        since = _earliest_start(requests, tool_spans)
        # Rows may merge when events are staged, or when spans are staged after events
        # were stored; else the fast path has no merge cost at all.
        may_merge = events > 0 or (requests.num_rows > 0 and self._has_event_rows(cursor))
        cursor.register("staged_requests", requests)
        cursor.register("staged_tool_spans", tool_spans)
        merged = 0
        try:
            with transaction(cursor):
                if may_merge:
                    inserted, merged = self._merge_and_insert(cursor, requests, since)
                else:
                    inserted = insert_new_requests(
                        cursor, STAGED_REQUESTS, self._claim(cursor), row_count=requests.num_rows
                    )
                if since is not None and (tool_spans.num_rows or self._has_tool_spans(cursor)):
                    if tool_spans.num_rows:
                        cursor.execute(INSERT_TOOL_SPANS_SQL)
                    cursor.execute(RECOUNT_TOOL_CALLS_SQL, {"since": since})
        finally:
            cursor.unregister("staged_requests")
            cursor.unregister("staged_tool_spans")
        if events:
            self._event_rows_seen = True
        stats = self.stats
        stats.batches += 1
        stats.stored_rows += inserted
        stats.merged_rows += merged
        stats.duplicate_rows += submitted - inserted - merged
        if self.on_commit is not None:
            self.on_commit(time.perf_counter() - started)
        return inserted

    def _merge_and_insert(
        self, cursor: duckdb.DuckDBPyConnection, requests: pa.Table, since: object | None
    ) -> tuple[int, int]:
        """Fold event records into their span's row, insert the rest; returns the rows
        added to the table and the staged rows that completed a row instead."""
        params = {"event": EVENT_SOURCE, "since": since if since is not None else _EPOCH}
        merged = _fold_events(cursor, requests, params)
        if merged is None:
            return insert_new_requests(cursor, STAGED_REQUESTS, self._claim(cursor)), 0
        cursor.register("merged", merged)
        try:
            deleted = _row_count(cursor, DELETE_SUPERSEDED_SQL, params)
            _row_count(cursor, UPDATE_MERGED_SQL, {"since": params["since"]})
            added = insert_new_requests(cursor, MERGED, self._claim(cursor)) - deleted
            inserted = insert_new_requests(cursor, UNMERGED_REQUESTS, self._claim(cursor))
        finally:
            cursor.unregister("merged")
        staged_in_groups = pc.sum(merged.column("_staged")).as_py() or 0
        return inserted + added, staged_in_groups - added

    def _claim(self, cursor: duckdb.DuckDBPyConnection) -> int:
        """The next claim number of the key table (see `ingest.writer_sql`)."""
        if self._last_claim is None:
            self._last_claim = int(cursor.execute(LAST_CLAIM_SQL).fetchall()[0][0])
        self._last_claim += 1
        return self._last_claim

    def _has_event_rows(self, cursor: duckdb.DuckDBPyConnection) -> bool:
        """Whether any event-made row was ever stored (else spans have nothing to merge)."""
        if self._event_rows_seen is None:
            found = cursor.execute(EVENT_ROWS_EXIST_SQL, {"event": EVENT_SOURCE}).fetchall()
            self._event_rows_seen = bool(found[0][0])
        return self._event_rows_seen

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
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
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


def _fold_events(
    cursor: duckdb.DuckDBPyConnection, requests: pa.Table, params: dict[str, object]
) -> pa.Table | None:
    """One folded row per (trace_id, span_id) to merge; None when nothing merges."""
    staged = requests.append_column("_seq", pa.array(range(requests.num_rows), pa.int64()))
    cursor.register("staged_merge", staged)
    try:
        keys = cursor.sql(MERGE_KEYS_SQL, params=params).to_arrow_table()
        if not keys.num_rows:
            return None
        cursor.register("merge_keys", keys)
        try:
            return cursor.sql(MERGE_EVENTS_SQL, params=params).to_arrow_table()
        finally:
            cursor.unregister("merge_keys")
    finally:
        cursor.unregister("staged_merge")


def _row_count(
    cursor: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None
) -> int:
    """Rows a DML statement changed (read to the end: the cursor is reused right after)."""
    return int(cursor.execute(sql, params).fetchall()[0][0])


def _stage_requests(requests: pa.Table) -> tuple[pa.Table, int]:
    """Dedupe the batch on request_id, except event records that carry a span's ids: those
    merge by (trace_id, span_id) instead, also with a span row of the same request_id.
    Returns the staged table and how many such event records it holds."""
    source = requests.column("source")
    if not requests.num_rows or pc.index(source, EVENT_SOURCE).as_py() < 0:  # the fast path
        return _dedupe(requests, ["request_id"]), 0
    mergeable = pc.fill_null(
        pc.and_(
            pc.equal(source, EVENT_SOURCE),
            pc.and_(
                pc.is_valid(requests.column("trace_id")), pc.is_valid(requests.column("span_id"))
            ),
        ),
        False,
    )
    events = pc.sum(mergeable).as_py() or 0
    if not events:
        return _dedupe(requests, ["request_id"]), 0
    rest = _dedupe(requests.filter(pc.invert(mergeable)), ["request_id"])
    return pa.concat_tables([rest, requests.filter(mergeable)]), events


def _earliest_start(*tables: pa.Table) -> object | None:
    starts = [pc.min(t.column("started_at")).as_py() for t in tables if t.num_rows]
    starts = [s for s in starts if s is not None]
    return min(starts) if starts else None
