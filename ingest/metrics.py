"""`GET /metrics`: the ingest API's counters in Prometheus text format.

Each app has its own registry (never the process-global one), so several apps can live in
one process. Row counts and queue depth are read from the writer at scrape time; request
outcomes are counted by the routes.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ingest.payloads import Prepared
from ingest.writer import BatchWriter

PREFIX = "gatewatch_ingest_"
# The classic text format, which every Prometheus version scrapes; our names need no escaping.
MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Why a whole request was refused (label `reason` of rejected_requests).
DECODE_ERROR = "decode_error"
TOO_LARGE = "too_large"
UNSUPPORTED_MEDIA = "unsupported_media"
UNAUTHORIZED = "unauthorized"
OVERLOADED = "overloaded"
WRITE_FAILED = "write_failed"

# Commits take milliseconds; a slow disk or a large recount takes seconds.
COMMIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _WriterCollector(Collector):
    def __init__(self, writer: BatchWriter) -> None:
        self._writer = writer

    def collect(self) -> Iterator[Metric]:
        stats = self._writer.stats
        yield CounterMetricFamily(
            PREFIX + "stored_rows", "Request rows committed to the warehouse.", stats.stored_rows
        )
        yield CounterMetricFamily(
            PREFIX + "duplicate_rows",
            "Request rows not stored because their request_id was already stored.",
            stats.duplicate_rows,
        )
        yield CounterMetricFamily(
            PREFIX + "failed_rows",
            "Request rows whose commit failed (their submitter got a 503).",
            stats.failed_rows,
        )
        yield GaugeMetricFamily(
            PREFIX + "queue_depth_rows",
            "Rows accepted and waiting in the writer queue for their commit.",
            self._writer.queued_rows,
        )
        yield CounterMetricFamily(
            PREFIX + "database_reopens",
            "Times the writer opened the database anew after DuckDB invalidated it (a fatal "
            "error such as a checkpoint on a full disk).",
            stats.reopens,
        )
        yield CounterMetricFamily(
            PREFIX + "wal_quarantined",
            "Write-ahead logs that could not be replayed and were moved aside "
            "(<db>.wal.corrupt-<time>) when the database was opened.",
            len(self._writer.warehouse.quarantined_wals),
        )
        aside = self._writer.aside
        if aside is None:
            return
        yield CounterMetricFamily(
            PREFIX + "checkpoints",
            "Checkpoints the writer ran on a thread beside its commits.",
            aside.checkpoints,
        )
        yield CounterMetricFamily(
            PREFIX + "checkpoint_seconds",
            "Seconds those checkpoints took.",
            aside.checkpoint_seconds,
        )
        yield GaugeMetricFamily(
            PREFIX + "aside_rows",
            "Rows acknowledged during a checkpoint, waiting in <db>.aside to move into requests.",
            aside.pending_rows,
        )


class IngestMetrics:
    def __init__(self, writer: BatchWriter) -> None:
        self.registry = CollectorRegistry()
        self.received = Counter(
            PREFIX + "received",
            "Spans, log records or request records in bodies that could be read, by endpoint.",
            ["endpoint"],
            registry=self.registry,
        )
        self.rejected_records = Counter(
            PREFIX + "rejected_records",
            "Records refused inside a readable body (reported in the answer; the rest of the "
            "body is stored), by endpoint.",
            ["endpoint"],
            registry=self.registry,
        )
        self.rejected_requests = Counter(
            PREFIX + "rejected_requests",
            "Requests refused whole, by endpoint and reason (decode_error, too_large, "
            "unsupported_media, unauthorized, overloaded, write_failed).",
            ["endpoint", "reason"],
            registry=self.registry,
        )
        self.warnings = Counter(
            PREFIX + "warnings",
            "Fields stored as NULL or cut by a limit while mapping accepted records, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.stage_seconds = Counter(
            PREFIX + "stage_cpu_seconds",
            "CPU seconds spent preparing accepted bodies, by stage (decode, map, arrow); "
            "commit time is gatewatch_ingest_batch_commit_seconds.",
            ["stage"],
            registry=self.registry,
        )
        self.commit_seconds = Histogram(
            PREFIX + "batch_commit_seconds",
            "Duration of each writer transaction (one group commit of queued batches).",
            buckets=COMMIT_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_WriterCollector(writer))
        writer.on_commit = self.commit_seconds.observe

    def accepted(self, endpoint: str, prepared: Prepared) -> None:
        self.received.labels(endpoint).inc(prepared.received)
        if prepared.rejected:
            self.rejected_records.labels(endpoint).inc(prepared.rejected)
        for kind, n in prepared.warnings.items():
            self.warnings.labels(kind).inc(n)
        for stage, seconds in prepared.stage_seconds.items():
            self.stage_seconds.labels(stage).inc(seconds)

    def refused(self, endpoint: str, reason: str) -> None:
        self.rejected_requests.labels(endpoint, reason).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
