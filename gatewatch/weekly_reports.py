"""`serve` writes the weekly report by itself: after a jobs run, once the last ISO week has
ended, if its report is not in the reports folder yet (so every Monday, and once after a
restart that missed one)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from analytics.report.export import write_weekly_report
from analytics.report.render import chromium_path
from analytics.report.weekly import last_complete_week, week_label

log = logging.getLogger(__name__)


class WeeklyReportSchedule:
    def __init__(
        self, out_dir: Path, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.out_dir = out_dir
        self._clock = clock

    def __call__(self, con: duckdb.DuckDBPyConnection) -> list[Path]:
        """Write last week's report unless it exists; the files written (none if it did)."""
        now = self._clock()
        week = last_complete_week(now.date())
        if (self.out_dir / f"{week_label(week)}.html").exists():
            return []
        formats = ["html", "md", "csv"]
        if Path(chromium_path()).exists():
            formats.append("pdf")
        paths = write_weekly_report(con, week, self.out_dir, formats, generated_at=now)
        log.info("wrote the weekly report for %s into %s", week_label(week), self.out_dir)
        return paths
