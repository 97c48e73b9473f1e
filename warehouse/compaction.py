"""Giving disk space back after a large delete.

DuckDB marks deleted rows and, at a CHECKPOINT, frees the blocks of row groups it no longer
needs; later writes reuse those blocks, so after retention the file stops growing, but it
shrinks only when the free blocks are at its end (`PRAGMA database_size` counts them). The
only way to hand the space to the file system is a rewrite: copy every table, view and index
into a new file (`COPY FROM DATABASE`) and rename it over the old one. That needs the file
to itself, so it runs only while no `serve` owns the database.

Crash safety: the copy is written next to the database as `<db>.compact`, checked table by
table against the original, flushed to disk and renamed over it in one step; until then the
original is untouched, and a left-over `<db>.compact` is removed by the next attempt. Both
files stay attached (so locked against any other DuckDB process) until after the rename.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

_SOURCE, _TARGET = "gatewatch_source", "gatewatch_compact"


class CompactionError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class StorageSize:
    file_bytes: int  # the database file (and its WAL, if any)
    free_bytes: int  # blocks inside the file that hold nothing and will be reused


def file_bytes(path: str | Path) -> int:
    return sum(os.path.getsize(p) for p in (Path(path), Path(f"{path}.wal")) if os.path.exists(p))


def storage_size(con: duckdb.DuckDBPyConnection, path: str | Path) -> StorageSize:
    row = con.execute(
        "SELECT block_size * free_blocks FROM pragma_database_size() "
        "WHERE database_name = current_database()"
    ).fetchone()
    return StorageSize(file_bytes(path), int(row[0]) if row else 0)


def compaction_path(path: str | Path) -> Path:
    return Path(f"{Path(path).resolve()}.compact")


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _table_counts(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, int]:
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $d",
        {"d": database},
    ).fetchall()
    return {
        f"{schema}.{table}": int(
            con.execute(f'SELECT count(*) FROM {database}."{schema}"."{table}"').fetchone()[0]
        )
        for schema, table in tables
    }


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def compact_database(path: str | Path) -> tuple[int, int]:
    """Rewrite the database file without its free space; return its size before and after.
    The caller must not have the file open."""
    source = Path(path).resolve()
    target = compaction_path(source)
    for leftover in (target, Path(f"{target}.wal")):
        leftover.unlink(missing_ok=True)
    before = file_bytes(source)
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH {_quoted(source)} AS {_SOURCE}")
        con.execute(f"CHECKPOINT {_SOURCE}")  # the WAL into the file: the copy reads it all
        con.execute(f"ATTACH {_quoted(target)} AS {_TARGET}")
        con.execute(f"COPY FROM DATABASE {_SOURCE} TO {_TARGET}")
        con.execute(f"CHECKPOINT {_TARGET}")
        if _table_counts(con, _SOURCE) != _table_counts(con, _TARGET):
            raise CompactionError(f"the copy of {source} does not match it; left unchanged")
        if Path(f"{source}.wal").exists() or Path(f"{target}.wal").exists():
            raise CompactionError(f"{source} changed during the copy; left unchanged")
        _fsync(target)
        os.replace(target, source)
        _fsync(source.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            target.unlink()
        raise
    finally:
        con.close()  # both still attached until here: no other process could open either
    return before, file_bytes(source)
