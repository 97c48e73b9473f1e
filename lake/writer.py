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
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ingest.group_commit import GroupCommitQueue, Submission, WriteResult, resolve
from ingest.record import REQUEST_SCHEMA, TOOL_SPAN_SCHEMA
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


class LakeWriter(GroupCommitQueue):
    thread_name = "gatewatch-lake-writer"

    def __init__(
        self,
        store: LakeStore,
        *,
        node: str | None = None,
        max_queued_rows: int = 200_000,
        max_batch_rows: int = 50_000,
    ) -> None:
        super().__init__(max_queued_rows=max_queued_rows, max_batch_rows=max_batch_rows)
        self._store = store
        self.node = node or new_node_id()
        self._commit = 0
        self._manifest = NodeManifest.start(self.node)
        self._manifest_saved = 0.0
        self.warehouse = NodeStorage(store.shown)

    @property
    def store(self) -> LakeStore:
        return self._store

    def start(self) -> None:
        ensure_lake(self._store)
        self._manifest.save(self._store)
        super().start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop accepting work, write what is queued, end the thread, close the manifest."""
        super().stop(timeout)
        if self._thread is not None:
            self._manifest.stopped_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self._save_manifest(force=True)

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
                        resolve(s.future, e)
                    continue
            for s in batch:
                rows = s.requests.num_rows
                resolve(s.future, WriteResult(rows, requests.num_rows, requests.num_rows))

    def _castable(self, item: Submission) -> bool:
        """Bring a submission to the segment schema; one that does not fit fails alone."""
        try:
            item.requests = item.requests.cast(REQUEST_SCHEMA)
            item.tool_spans = item.tool_spans.cast(TOOL_SPAN_SCHEMA)
        except (pa.ArrowInvalid, ValueError, TypeError) as e:
            self.stats.failed_rows += item.requests.num_rows
            resolve(item.future, e)
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
