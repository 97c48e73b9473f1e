"""Startup recovery from a write-ahead log DuckDB cannot replay.

After a crash DuckDB replays `<db>.wal` on open; when that fails (a known upstream failure
mode, or a corrupted file) the database cannot be opened at all. The owner then moves the WAL
aside — kept for inspection, never deleted — and opens what the last checkpoint made durable.
"""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)


def is_replay_failure(error: duckdb.Error) -> bool:
    """Whether opening failed because the WAL could not be replayed (and nothing else: a lock
    held by another process must never cost the WAL)."""
    return "replaying wal" in str(error).lower()


def quarantine_wal(db: str, error: duckdb.Error) -> Path:
    """Move `<db>.wal` to `<db>.wal.corrupt-<UTC time>`, say so in one line, and return the
    new path."""
    wal = Path(f"{db}.wal")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = wal.with_name(f"{wal.name}.corrupt-{stamp}")
    n = 1
    while target.exists():  # rename would replace an earlier quarantined WAL
        target = wal.with_name(f"{wal.name}.corrupt-{stamp}-{n}")
        n += 1
    wal.rename(target)
    reason = " ".join(str(error).split())
    log.warning(
        "gatewatch: the write-ahead log %s could not be replayed (%s); moved to %s; "
        "starting from the last checkpoint",
        wal,
        reason,
        target,
    )
    return target
