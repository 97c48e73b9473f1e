"""A bounded queue of submissions drained by one thread, which handles everything waiting as
one batch (group commit) and answers each submitter after its batch is durable.

The single writer (`ingest.writer`, DuckDB) and a lake node's writer (`lake.writer`, Parquet)
share it: the API and the gRPC receiver submit to either the same way, and the two differ
only in `_run`, the thread that takes batches (`_take_batch`) and makes them durable.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass

import pyarrow as pa

from ingest.record import REQUEST_SCHEMA, TOOL_SPAN_SCHEMA


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


@dataclass(slots=True)
class Submission:
    """One submitter's request rows, the tool-execution spans that came with them, and the
    future that answers it."""

    requests: pa.Table
    tool_spans: pa.Table
    future: Future[WriteResult]

    @property
    def size(self) -> int:
        return self.requests.num_rows + self.tool_spans.num_rows


NO_REQUESTS = REQUEST_SCHEMA.empty_table()
NO_TOOL_SPANS = TOOL_SPAN_SCHEMA.empty_table()


class GroupCommitQueue(ABC):
    thread_name = "gatewatch-writer"

    def __init__(self, *, max_queued_rows: int = 200_000, max_batch_rows: int = 50_000) -> None:
        self._max_queued_rows = max_queued_rows
        self._max_batch_rows = max_batch_rows
        self._queue: deque[Submission] = deque()
        self._queued_rows = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.stats = WriterStats()
        # Called on the writer thread with each commit's duration in seconds (/metrics
        # observes it); it must not raise.
        self.on_commit: Callable[[float], None] | None = None
        # Whether more rows are on their way (bodies being decoded): a batch then waits up
        # to `gather_seconds` for them, until `gather_rows` are queued. A DuckDB commit has a
        # fixed cost of ~8 ms whatever its size, so under load fewer, larger commits leave
        # the cores to decoding (512 rows: 21.6 us/row; 8,192: 5.8). None: at once.
        self.more_coming: Callable[[], bool] | None = None
        self.gather_rows = 8_192
        self.gather_seconds = 0.010

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    def submit(self, requests: pa.Table, tool_spans: pa.Table | None = None) -> Future[WriteResult]:
        """Queue rows for the next commit; raises QueueFull when saturated."""
        future: Future[WriteResult] = Future()
        item = Submission(requests, NO_TOOL_SPANS if tool_spans is None else tool_spans, future)
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
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
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
            self._queue.append(Submission(NO_REQUESTS, NO_TOOL_SPANS, marker))
            self._cond.notify()
        marker.result(timeout)

    # --- writer thread ------------------------------------------------------------------

    @abstractmethod
    def _run(self) -> None:
        """Take batches until `_take_batch` returns None; answer every submission."""

    def _take_batch(self, idle_seconds: float | None = None) -> list[Submission] | None:
        """Everything waiting (up to `max_batch_rows`), after gathering; None once stopped;
        an empty batch when nothing came within `idle_seconds` (None: wait for work)."""
        with self._cond:
            self._cond.wait_for(lambda: self._queue or self._stopping, idle_seconds)
            if not self._queue:
                return None if self._stopping else []
            self._gather()
            batch = [self._queue.popleft()]
            rows = batch[0].size
            while self._queue and rows + self._queue[0].size <= self._max_batch_rows:
                item = self._queue.popleft()
                rows += item.size
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


def resolve(future: Future[WriteResult], outcome: WriteResult | BaseException) -> None:
    """Answer a submitter; one that gave up (cancelled its future) must not stop the writer."""
    try:
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
    except InvalidStateError:
        pass
