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
    target = _move_to_corrupt(Path(f"{db}.wal"))
    log.warning(
        "gatewatch: the write-ahead log %s could not be replayed (%s); moved to %s; "
        "starting from the last checkpoint",
        f"{db}.wal",
        _one_line(error),
        target,
    )
    return target


def quarantine_database(db: str, error: duckdb.Error) -> list[Path]:
    """Move a database file that cannot be opened at all, and its WAL, to
    `<name>.corrupt-<UTC time>`, say so in one line, and return the new paths."""
    moved = [_move_to_corrupt(p) for p in (Path(db), Path(f"{db}.wal")) if p.exists()]
    log.warning(
        "gatewatch: %s could not be opened (%s); moved to %s; starting it anew",
        db,
        _one_line(error),
        ", ".join(map(str, moved)),
    )
    return moved


def _move_to_corrupt(path: Path) -> Path:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():  # rename would replace an earlier quarantined file
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    path.rename(target)
    return target


def _one_line(error: duckdb.Error) -> str:
    return " ".join(str(error).split())
