"""Running the batch jobs inside the owner process: on demand and on a schedule.

Runs are serialized by one lock, so a `gatewatch jobs run` during a scheduled run waits
instead of racing it. After each run the read-only snapshot is republished.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import duckdb

from analytics.jobs import JobsResult, run_jobs
from analytics.settings import AnalyticsSettings
from warehouse.db import Warehouse
from warehouse.snapshot import publish_snapshot

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
    ) -> None:
        self._warehouse = warehouse
        self._settings = settings or AnalyticsSettings()
        self._publish = publish
        self._after_run = tuple(after_run)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(
        self, *, full: bool = False, progress: Callable[[str], None] | None = None
    ) -> JobsResult:
        with self._lock:
            cursor = self._warehouse.connection.cursor()
            try:
                result = run_jobs(cursor, full=full, progress=progress, settings=self._settings)
                if self._publish and self._warehouse.path != ":memory:":
                    cursor.execute("CHECKPOINT")
                    publish_snapshot(cursor, self._warehouse.path)
                for hook in self._after_run:
                    try:
                        hook(cursor)
                    except Exception:  # the tables are rebuilt either way
                        log.exception("after a jobs run: %s failed", hook)
            finally:
                cursor.close()
            return result

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
