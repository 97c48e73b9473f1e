"""The single writer: a group-commit queue (`ingest.group_commit`) whose thread commits
everything waiting as one DuckDB transaction and acknowledges after COMMIT.

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
import time

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingest.checkpoint_aside import CheckpointAside
from ingest.group_commit import (
    NO_TOOL_SPANS,
    GroupCommitQueue,
    QueueFull,
    Submission,
    WriteResult,
    WriterStats,
    WriterStopped,
    resolve,
)
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
    insert_all_new_requests,
    insert_new_requests,
)
from warehouse.db import Warehouse
from warehouse.transactions import transaction

log = logging.getLogger(__name__)

# The queue's types are part of this module's interface (the API and tests import them here).
__all__ = ["BatchWriter", "QueueFull", "WriteResult", "WriterStats", "WriterStopped"]


class BatchWriter(GroupCommitQueue):
    def __init__(
        self,
        warehouse: Warehouse,
        *,
        max_queued_rows: int = 200_000,
        max_batch_rows: int = 50_000,
        checkpoint_aside_at: int | None = None,
    ) -> None:
        """`checkpoint_aside_at` (WAL bytes, for the owner of a database file): checkpoint on
        a thread of its own once the WAL is this large, committing request rows into a side
        table meanwhile (`ingest.checkpoint_aside`); None: DuckDB checkpoints inside the
        commit that fills its WAL."""
        super().__init__(max_queued_rows=max_queued_rows, max_batch_rows=max_batch_rows)
        self._warehouse = warehouse
        self._aside = (
            None
            if checkpoint_aside_at is None
            else CheckpointAside(warehouse, wal_threshold=checkpoint_aside_at)
        )
        # None until first needed; then kept current (this writer is the only one)
        self._tool_spans_seen: bool | None = None
        self._event_rows_seen: bool | None = None
        self._last_claim: int | None = None

    @property
    def warehouse(self) -> Warehouse:
        return self._warehouse

    @property
    def aside(self) -> CheckpointAside | None:
        return self._aside

    def _run(self) -> None:
        cursor: duckdb.DuckDBPyConnection | None = self._warehouse.connection.cursor()
        if self._aside is not None:
            try:
                self._aside.attach(cursor)
            except duckdb.Error as e:  # no room, say: the first batch reopens and tries again
                log.warning("cannot attach the side table for checkpoints (%s)", e)
                cursor = None
            else:
                self._move_aside(cursor, all_rows=True)
        while (batch := self._take_batch(self._idle_seconds())) is not None:
            if not batch:  # idle: rows put aside move once the checkpoint has ended
                if cursor is not None and self._aside is not None and not self._aside.running:
                    self._move_aside(cursor, all_rows=False)
                continue
            if self._aside is not None and cursor is not None:
                if self._put_aside(cursor, batch):
                    continue
                needs_all = _needs_requests(batch)
                if needs_all:
                    self._aside.wait()
                self._move_aside(cursor, all_rows=needs_all)
            if not any(item.size for item in batch):
                for item in batch:
                    resolve(item.future, WriteResult(0, 0, 0))
                continue
            if cursor is None:
                try:
                    cursor = self._reopen()
                except Exception as e:  # no room yet, say: this batch fails, the next retries
                    self._fail(batch, e)
                    continue
            try:
                requests = pa.concat_tables([item.requests for item in batch])
                tool_spans = pa.concat_tables([item.tool_spans for item in batch])
                inserted = self._commit(cursor, requests, tool_spans)
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
            for item in batch:
                result = WriteResult(item.requests.num_rows, requests.num_rows, inserted)
                resolve(item.future, result)
            if self._aside is not None and self._aside.due():
                self._aside.start()
        if self._aside is not None and cursor is not None:
            self._aside.wait()
            self._move_aside(cursor, all_rows=True)

    def _idle_seconds(self) -> float | None:
        """How long the writer waits for work before it moves rows put aside (None: no rows
        wait aside)."""
        return _IDLE_MOVE_SECONDS if self._aside is not None and self._aside.pending_rows else None

    def _put_aside(self, cursor: duckdb.DuckDBPyConnection, batch: list[Submission]) -> bool:
        """While a checkpoint runs, commit a batch of request rows into the side table;
        False when the batch must wait for the checkpoint instead (it carries tool spans,
        whose recount needs `requests`, or a flush, which promises rows readable there)."""
        assert self._aside is not None
        if not self._aside.running or _needs_requests(batch):
            return False
        started = time.perf_counter()
        requests = pa.concat_tables([item.requests for item in batch]).cast(REQUEST_SCHEMA)
        try:
            self._aside.put(cursor, requests)
        except duckdb.Error as e:  # the usual path, after the checkpoint, says what is wrong
            log.warning("could not put rows aside during a checkpoint (%s)", e)
            return False
        if self.on_commit is not None:
            self.on_commit(time.perf_counter() - started)
        for item in batch:
            n = item.requests.num_rows
            # which rows are new is known when they move: all count as inserted here
            resolve(item.future, WriteResult(n, requests.num_rows, requests.num_rows))
        return True

    def _move_aside(self, cursor: duckdb.DuckDBPyConnection, *, all_rows: bool) -> None:
        """Move rows committed aside during a checkpoint into `requests` (`all_rows`: every
        one, else one chunk, so that moving delays each commit behind it by tens of
        milliseconds rather than all at once). A failure leaves them aside (durable) for the
        next try."""
        aside = self._aside
        assert aside is not None
        try:
            while aside.pending_rows:
                rows, last = aside.take(cursor, _MOVE_CHUNK_ROWS)
                if rows.num_rows:
                    self._commit(cursor, rows, NO_TOOL_SPANS)
                aside.forget(cursor, last)
                if not all_rows:
                    break
        except duckdb.Error as e:
            log.warning("rows committed aside stay there until the next try (%s)", e)

    def _commit_one_by_one(
        self, cursor: duckdb.DuckDBPyConnection, batch: list[Submission]
    ) -> None:
        for i, item in enumerate(batch):
            try:
                inserted = self._commit(cursor, item.requests, item.tool_spans) if item.size else 0
            except duckdb.FatalException as e:  # the database is gone, for the rest too
                self._fail(batch[i:], e)
                raise
            except Exception as e:  # reported to the submitter
                self.stats.failed_rows += item.requests.num_rows
                resolve(item.future, e)
            else:
                n = item.requests.num_rows
                resolve(item.future, WriteResult(n, n, inserted))

    def _fail(self, batch: list[Submission], error: Exception) -> None:
        for item in batch:
            self.stats.failed_rows += item.requests.num_rows
            resolve(item.future, error)

    def _reopen(self) -> duckdb.DuckDBPyConnection:
        """Open the invalidated database anew; while that fails, batches fail (503) and the
        next one tries again, so ingest resumes by itself once the disk has room."""
        if self._aside is not None:
            self._aside.wait()  # its checkpoint runs on a cursor of the connection closed here
        self._warehouse.reopen()
        self._last_claim = None  # claims of the lost transaction may not have been kept
        self._tool_spans_seen = self._event_rows_seen = None
        self.stats.reopens += 1
        log.warning("the database was reopened after a fatal error; ingest resumes")
        cursor = self._warehouse.connection.cursor()
        if self._aside is not None:
            self._aside.attach(cursor)
        return cursor

    def _commit(
        self, cursor: duckdb.DuckDBPyConnection, submitted: pa.Table, tool_spans: pa.Table
    ) -> int:
        started = time.perf_counter()
        requests, events = _stage_requests(submitted.cast(REQUEST_SCHEMA))
        tool_spans = _dedupe(tool_spans.cast(TOOL_SPAN_SCHEMA), ["trace_id", "span_id"])
        since = _earliest_start(requests, tool_spans)
        # Rows may merge when events are staged, or when spans are staged after events
        # were stored; else the fast path has no merge cost at all.
        may_merge = events > 0 or (requests.num_rows > 0 and self._has_event_rows(cursor))
        # Spans recount their tool executions once any were stored (else nothing to count).
        recount = since is not None and (tool_spans.num_rows > 0 or self._has_tool_spans(cursor))
        cursor.register("staged_requests", requests)
        if recount:
            cursor.register("staged_tool_spans", tool_spans)

        def write(expect_new: bool) -> tuple[int, int]:
            """One transaction; returns the rows added and the staged rows merged."""
            merged = 0
            with transaction(cursor):
                if may_merge:
                    inserted, merged = self._merge_and_insert(cursor, requests, since)
                elif expect_new:
                    inserted = insert_all_new_requests(cursor, STAGED_REQUESTS, self._claim(cursor))
                else:
                    inserted = insert_new_requests(
                        cursor, STAGED_REQUESTS, self._claim(cursor), row_count=requests.num_rows
                    )
                if recount:
                    if tool_spans.num_rows:
                        cursor.execute(INSERT_TOOL_SPANS_SQL)
                    cursor.execute(RECOUNT_TOOL_CALLS_SQL, {"since": since})
            return inserted, merged

        try:
            try:
                inserted, merged = write(expect_new=not may_merge)
            except duckdb.ConstraintException:
                # A request stored before (a resent body, say): that transaction rolled back,
                # and this one claims the keys that are new, skipping the others.
                inserted, merged = write(expect_new=False)
        finally:
            cursor.unregister("staged_requests")
            if recount:
                cursor.unregister("staged_tool_spans")
        if tool_spans.num_rows:
            self._tool_spans_seen = True
        if events:
            self._event_rows_seen = True
        stats = self.stats
        stats.batches += 1
        stats.stored_rows += inserted
        stats.merged_rows += merged
        stats.duplicate_rows += submitted.num_rows - inserted - merged
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
        if self._tool_spans_seen is None:
            found = cursor.execute("SELECT EXISTS (FROM tool_spans)").fetchall()
            self._tool_spans_seen = bool(found[0][0])
        return self._tool_spans_seen


# Rows moved from the side table per commit (~30 ms), see `_move_aside`; a writer with no
# work looks for rows to move this often.
_MOVE_CHUNK_ROWS = 2_048
_IDLE_MOVE_SECONDS = 0.05


def _needs_requests(batch: list[Submission]) -> bool:
    """Whether a batch needs every row in `requests` before it commits: a flush promises
    rows readable there, and a tool span's recount reads them there."""
    return not all(item.requests.num_rows and not item.tool_spans.num_rows for item in batch)


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


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
