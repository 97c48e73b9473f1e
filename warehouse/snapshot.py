"""A read-only snapshot of the warehouse for other processes (analysts, BI tools, reports).

DuckDB forbids a read-only open while another process writes the file, so the owner copies
the database into a temporary file and atomically renames it over `<db>.snapshot`. Readers
open the snapshot with `read_only=True`, as many as they like.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import duckdb

SNAPSHOT_ALIAS = "gatewatch_snapshot"


def snapshot_path(db_path: str | Path) -> Path:
    return Path(f"{Path(db_path).resolve()}.snapshot")


def publish_snapshot(cursor: duckdb.DuckDBPyConnection, db_path: str | Path) -> Path:
    target = snapshot_path(db_path)
    tmp = target.with_name(target.name + ".tmp")
    for leftover in (tmp, Path(f"{tmp}.wal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    source = cursor.execute("SELECT current_database()").fetchone()[0].replace('"', '""')
    quoted = str(tmp).replace("'", "''")
    cursor.execute(f"ATTACH '{quoted}' AS {SNAPSHOT_ALIAS}")
    try:
        cursor.execute(f'COPY FROM DATABASE "{source}" TO {SNAPSHOT_ALIAS}')
    finally:
        cursor.execute(f"DETACH {SNAPSHOT_ALIAS}")
    os.replace(tmp, target)
    return target
