"""Running the batch jobs inside the owner process: on demand and on a schedule.

Runs are serialized by one lock, so a `gatewatch jobs run` during a scheduled run waits
instead of racing it. After each run the read-only snapshot is republished.

Retention runs after the jobs of a run (so every row it deletes has been counted) when its
schedule says so (at the first run, then every `every_hours`) or when asked (`retain`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import duckdb

from analytics.jobs import JobsResult, run_jobs
from analytics.settings import AnalyticsSettings
from gatewatch.retention import Report, run_retention
from warehouse.db import Warehouse
from warehouse.retention_settings import RetentionSettings
from warehouse.snapshot import publish_snapshot
from warehouse.transactions import checkpoint_when_free

log = logging.getLogger(__name__)


# Work that reads the freshly rebuilt tables after a run (e.g. the weekly report).
AfterRun = Callable[[duckdb.DuckDBPyConnection], object]


class JobRunner:
    def __init__(
        self,
        warehouse: Warehouse,
        *,
        publish: bool = True,
        settings: AnalyticsSettings | None = None,
        after_run: Sequence[AfterRun] = (),
        retention: RetentionSettings | None = None,
        threads_between_runs: int | None = None,
    ) -> None:
        self._warehouse = warehouse
        # DuckDB's threads outside job runs (None: DuckDB's default throughout). The writer's
        # small group commits cost ~60% more CPU spread over two threads than on one, so
        # `serve` keeps one between runs and lets the jobs' large scans have every core.
        self._threads_between_runs = threads_between_runs
        if threads_between_runs is not None:
            warehouse.connection.execute(f"SET threads = {int(threads_between_runs)}")
        self._retention = retention  # None: no scheduled retention
        self._retention_due = 0.0  # monotonic time of the next scheduled retention
        self.last_retention: Report | None = None
        self._settings = settings or AnalyticsSettings()
        self._publish = publish
        self._after_run = tuple(after_run)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(
        self,
        *,
        full: bool = False,
        progress: Callable[[str], None] | None = None,
        retain: bool | None = None,
        now: datetime | None = None,
    ) -> JobsResult:
        """Run the jobs; then retention if `retain` (None: when its schedule is due), with
        `now` as the time its cutoffs count back from."""
        with self._lock:
            cursor = self._warehouse.connection.cursor()
            if self._threads_between_runs is not None:
                cursor.execute(f"SET threads = {os.cpu_count() or 1}")
            try:
                result = run_jobs(cursor, full=full, progress=progress, settings=self._settings)
                self._retain(cursor, retain, now, progress)
                if self._publish and self._warehouse.path != ":memory:":
                    checkpoint_when_free(cursor, why="jobs")
                    publish_snapshot(cursor, self._warehouse.path)
                for hook in self._after_run:
                    try:
                        hook(cursor)
                    except Exception:  # the tables are rebuilt either way
                        log.exception("after a jobs run: %s failed", hook)
            finally:
                if self._threads_between_runs is not None:
                    cursor.execute(f"SET threads = {int(self._threads_between_runs)}")
                cursor.close()
            return result

    def retain(
        self, *, now: datetime | None = None, progress: Callable[[str], None] | None = None
    ) -> Report:
        """Run the jobs, then delete what retention says goes; the report of what went."""
        self.run(retain=True, now=now, progress=progress)
        assert self.last_retention is not None
        return self.last_retention

    def retention_plan(self, *, now: datetime | None = None) -> Report:
        """What `retain` would delete now (nothing is changed)."""
        with self._lock:
            cursor = self._warehouse.connection.cursor()
            try:
                return run_retention(
                    cursor, self._warehouse.path, self._retention_settings, now=now, dry_run=True
                )
            finally:
                cursor.close()

    @property
    def _retention_settings(self) -> RetentionSettings:
        return self._retention or RetentionSettings()

    def _retain(
        self,
        cursor: duckdb.DuckDBPyConnection,
        retain: bool | None,
        now: datetime | None,
        progress: Callable[[str], None] | None,
    ) -> None:
        if retain is None:  # the schedule's turn: a failure is logged, the run goes on
            if self._retention is None or time.monotonic() < self._retention_due:
                return
            self._retention_due = time.monotonic() + self._retention.every_hours * 3600
            try:
                self.last_retention = run_retention(cursor, self._warehouse.path, self._retention)
            except Exception:
                log.exception("scheduled retention failed")
        elif retain:
            self.last_retention = run_retention(
                cursor, self._warehouse.path, self._retention_settings, now=now, progress=progress
            )

    def start_schedule(self, every_seconds: float) -> None:
        """Run now (catch up on what arrived while no owner ran, write a due weekly report),
        then every `every_seconds`."""

        def loop() -> None:
            while True:
                try:
                    self.run()
                except Exception:  # a failed run must not end the schedule
                    log.exception("scheduled batch jobs failed")
                if self._stop.wait(every_seconds):
                    return

        self._thread = threading.Thread(target=loop, name="gatewatch-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
