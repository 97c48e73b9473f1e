"""The lake's writer: the same interface as `ingest.writer.BatchWriter` (`submit` → a future
resolved after the rows are durable), so the ingest API and the gRPC receiver run unchanged
on a stateless node.

One thread takes everything queued (group commit) and writes it as one Parquet file per day
partition and table, each complete and fsynced before the submitters are answered. Nothing
is read back: duplicates (retries, the same data sent to two nodes) and GenAI event records
are resolved when the jobs read the lake (`lake.fold`), so nodes share no state and no lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ingest.record import REQUEST_SCHEMA, TOOL_SPAN_SCHEMA
from ingest.writer import QueueFull, WriteResult, WriterStats, WriterStopped
from lake.layout import (
    REQUEST_SEGMENT_SCHEMA,
    REQUESTS,
    TOOL_SPAN_SEGMENT_SCHEMA,
    TOOL_SPANS,
    UNKNOWN_DAY,
    day_dir,
    segment_name,
)
from lake.manifest import NodeManifest, ensure_lake, new_node_id
from lake.store import LakeStore

log = logging.getLogger(__name__)

MANIFEST_EVERY_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class NodeStorage:
    """What `/metrics` and `/healthz` ask of the writer's storage (a lake node has no
    database file, so no write-ahead log is ever set aside)."""

    path: str
    quarantined_wals: list[Path] = field(default_factory=list)


@dataclass(slots=True)
class _Submission:
    requests: pa.Table
    tool_spans: pa.Table
    future: Future[WriteResult]

    @property
    def size(self) -> int:
        return self.requests.num_rows + self.tool_spans.num_rows


class LakeWriter:
    def __init__(
        self,
        store: LakeStore,
        *,
        node: str | None = None,
        max_queued_rows: int = 200_000,
        max_batch_rows: int = 50_000,
    ) -> None:
        self._store = store
        self.node = node or new_node_id()
        self._max_queued_rows = max_queued_rows
        self._max_batch_rows = max_batch_rows
        self._queue: deque[_Submission] = deque()
        self._queued_rows = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._commit = 0
        self._manifest = NodeManifest.start(self.node)
        self._manifest_saved = 0.0
        self.stats = WriterStats()
        self.on_commit: Callable[[float], None] | None = None  # as BatchWriter.on_commit
        self.warehouse = NodeStorage(store.shown)

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    @property
    def store(self) -> LakeStore:
        return self._store

    def submit(self, requests: pa.Table, tool_spans: pa.Table | None = None) -> Future[WriteResult]:
        """Queue rows for the next commit; raises QueueFull when saturated."""
        future: Future[WriteResult] = Future()
        item = _Submission(requests, tool_spans if tool_spans is not None else _NO_SPANS, future)
        if item.size == 0:
            future.set_result(WriteResult(0, 0, 0))
            return future
        with self._cond:
            if self._stopping:
                raise WriterStopped("the writer is shutting down")
            if self._queued_rows and self._queued_rows + item.size > self._max_queued_rows:
                raise QueueFull(f"{self._queued_rows} rows are waiting to be written")
            self._queue.append(item)
            self._queued_rows += item.size
            self.stats.submitted_rows += requests.num_rows
            self._cond.notify()
        return future

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        ensure_lake(self._store)
        self._manifest.save(self._store)
        self._thread = threading.Thread(target=self._run, name="gatewatch-lake-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop accepting work, write what is queued, end the thread, close the manifest."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._manifest.stopped_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self._save_manifest(force=True)

    def flush(self, timeout: float = 60.0) -> None:
        """Wait until everything submitted so far is written."""
        marker: Future[WriteResult] = Future()
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                return
            self._queue.append(_Submission(_NO_REQUESTS, _NO_SPANS, marker))
            self._cond.notify()
        marker.result(timeout)

    # --- writer thread ------------------------------------------------------------------

    def _take_batch(self) -> list[_Submission] | None:
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            if not self._queue:
                return None
            batch = [self._queue.popleft()]
            rows = batch[0].size
            while self._queue and rows + self._queue[0].size <= self._max_batch_rows:
                item = self._queue.popleft()
                rows += item.size
                batch.append(item)
            self._queued_rows -= rows
            return batch

    def _run(self) -> None:
        while (batch := self._take_batch()) is not None:
            batch = [s for s in batch if self._castable(s)]
            if not batch:
                continue
            requests = pa.concat_tables([s.requests for s in batch])
            tool_spans = pa.concat_tables([s.tool_spans for s in batch])
            if requests.num_rows or tool_spans.num_rows:
                try:
                    self._write(requests, tool_spans)
                except Exception as e:  # e.g. no space, storage unreachable: 503, retried
                    log.warning("lake commit failed: %s", e)
                    for s in batch:
                        self.stats.failed_rows += s.requests.num_rows
                        _resolve(s.future, e)
                    continue
            for s in batch:
                rows = s.requests.num_rows
                _resolve(s.future, WriteResult(rows, requests.num_rows, requests.num_rows))

    def _castable(self, item: _Submission) -> bool:
        """Bring a submission to the segment schema; one that does not fit fails alone."""
        try:
            item.requests = item.requests.cast(REQUEST_SCHEMA)
            item.tool_spans = item.tool_spans.cast(TOOL_SPAN_SCHEMA)
        except (pa.ArrowInvalid, ValueError, TypeError) as e:
            self.stats.failed_rows += item.requests.num_rows
            _resolve(item.future, e)
            return False
        return True

    def _write(self, requests: pa.Table, tool_spans: pa.Table) -> None:
        started = time.perf_counter()
        self._commit += 1
        committed_ms = int(time.time() * 1000)
        name = segment_name(committed_ms, self.node, self._commit)
        files = size = 0
        # A crash part way leaves some files of the commit: unacknowledged, so resent, and the
        # rows written twice resolve as duplicates when read.
        for table, target, schema in (
            (tool_spans, TOOL_SPANS, TOOL_SPAN_SEGMENT_SCHEMA),
            (requests, REQUESTS, REQUEST_SEGMENT_SCHEMA),
        ):
            for day, rows in _by_day(self._with_arrival(table).cast(schema)):
                size += self._store.write_parquet(f"{day_dir(target, day)}/{name}", rows)
                files += 1
        self.stats.batches += 1
        self.stats.stored_rows += requests.num_rows
        self._manifest.committed(requests.num_rows, tool_spans.num_rows, files, size)
        self._save_manifest()
        if self.on_commit is not None:
            self.on_commit(time.perf_counter() - started)

    def _with_arrival(self, table: pa.Table) -> pa.Table:
        n = table.num_rows
        return (
            table.append_column("_node", pa.array([self.node] * n, pa.string()))
            .append_column("_commit", pa.array([self._commit] * n, pa.int64()))
            .append_column("_row", pa.array(range(n), pa.int64()))
        )

    def _save_manifest(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._manifest_saved < MANIFEST_EVERY_SECONDS:
            return
        try:
            self._manifest.save(self._store)
            self._manifest_saved = now
        except Exception as e:  # the segments are written; the manifest catches up later
            log.warning("lake manifest not saved: %s", e)


def _by_day(table: pa.Table) -> list[tuple[str, pa.Table]]:
    """The rows of each UTC day of `started_at` (rows without one: `unknown`)."""
    if not table.num_rows:
        return []
    days = pc.fill_null(pc.strftime(table.column("started_at"), format="%Y-%m-%d"), UNKNOWN_DAY)
    return [(day, table.filter(pc.equal(days, day))) for day in pc.unique(days).to_pylist()]


def _resolve(future: Future[WriteResult], outcome: WriteResult | BaseException) -> None:
    """Answer a submitter; one that gave up (cancelled its future) must not stop the writer."""
    try:
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
    except InvalidStateError:
        pass


_NO_REQUESTS = REQUEST_SCHEMA.empty_table()
_NO_SPANS = TOOL_SPAN_SCHEMA.empty_table()
