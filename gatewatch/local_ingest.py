"""Bulk ingest straight into the database file when no `serve` owns it."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future

from gatewatch.files import IngestOutcome, Payload
from ingest.payloads import JSON, PROTOBUF, prepare_logs, prepare_request_logs, prepare_traces
from ingest.writer import BatchWriter, QueueFull, WriteResult
from warehouse.db import Warehouse


class LocalIngest:
    def __init__(self, warehouse: Warehouse) -> None:
        self._writer = BatchWriter(warehouse)
        self._writer.start()
        self._pending: deque[Future[WriteResult]] = deque()

    def ingest(self, payload: Payload) -> IngestOutcome:
        if payload.kind == "request-logs":
            prepared = prepare_request_logs(payload.body)
        else:
            encoding = PROTOBUF if payload.kind.endswith("-protobuf") else JSON
            prepare = prepare_logs if payload.kind.startswith("logs-") else prepare_traces
            prepared = prepare(payload.body, encoding)
        while True:
            try:
                self._pending.append(self._writer.submit(prepared.table, prepared.tool_spans))
                break
            except QueueFull:
                self._pending.popleft().result()  # backpressure: wait for the oldest commit
        return IngestOutcome(prepared.received, prepared.rejected, prepared.errors)

    def close(self) -> None:
        """Wait for every commit, then stop the writer (errors surface here)."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._writer.stop()

    @property
    def stored_rows(self) -> int:
        return self._writer.stats.stored_rows
