"""The warehouse handle: one DuckDB connection per process, cursors per thread.

DuckDB allows one read-write process per file. The process that owns the file (normally
`gatewatch serve`) opens it with `Warehouse.open(path)`; every other reader goes through
that owner or opens the published snapshot read-only (see `warehouse.ownership`).

A read-write open whose write-ahead log cannot be replayed moves the log aside and starts
from the last checkpoint (`warehouse.wal`); `quarantined_wals` lists what was moved.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from warehouse.migrations import migrate
from warehouse.wal import is_replay_failure, quarantine_wal


class WarehouseError(Exception):
    """A warehouse problem worth one clear line to the user."""


class Warehouse:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: str,
        read_only: bool,
        quarantined_wals: list[Path] | None = None,
    ) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only
        self.quarantined_wals = quarantined_wals or []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._generation = 0  # bumped by reopen(): thread-local cursors of older ones are closed

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False) -> Warehouse:
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        quarantined: list[Path] = []
        con = _connect(path, read_only, quarantined)
        if not read_only:
            migrate(con)
        return cls(con, path, read_only, quarantined)

    def reopen(self) -> None:
        """Close the database and open it again, as a fresh process would.

        DuckDB invalidates a database after a fatal error (a checkpoint that hit a full disk,
        say) until it is opened anew; closing the root connection closes every cursor made
        from it, which lets the next connect create a new instance and replay the WAL.
        """
        with self._lock:
            self._con.close()
            self._con = _connect(self.path, self.read_only, self.quarantined_wals)
            if not self.read_only:
                migrate(self._con)  # a quarantined WAL may have held the latest migrations
            self._generation += 1

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The process's root connection; use `cursor()` from other threads."""
        return self._con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not thread-safe)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None or self._local.generation != self._generation:
            with self._lock:
                cur = self._con.cursor()
                self._local.generation = self._generation
            cur.execute("SET TimeZone = 'UTC'")
            self._local.cursor = cur
        return cur

    def query_arrow(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> pa.Table:
        rel = self.cursor().sql(sql, params=params or None)
        if rel is None:
            raise WarehouseError("query returned no result set")
        return rel.to_arrow_table()

    def query_df(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> pl.DataFrame:
        return pl.from_arrow(self.query_arrow(sql, params))  # type: ignore[return-value]

    def close(self) -> None:
        self._con.close()


CHECKPOINT_THRESHOLD = "64MB"


def _connect(path: str, read_only: bool, quarantined: list[Path]) -> duckdb.DuckDBPyConnection:
    """Connect; a read-write open moves an unreplayable WAL aside (appended to `quarantined`)."""
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.Error as e:
        if not is_replay_failure(e):
            raise WarehouseError(f"cannot open {path}: {e}") from e
        if read_only:  # a reader never changes the files; the next read-write open recovers
            raise WarehouseError(
                f"cannot open {path}: its write-ahead log cannot be replayed ({e}); "
                "a read-write open (gatewatch serve or ingest) will move it aside"
            ) from e
        quarantined.append(quarantine_wal(path, e))
        try:
            con = duckdb.connect(path)
        except duckdb.Error as e2:
            raise WarehouseError(f"cannot open {path}: {e2}") from e2
    con.execute("SET TimeZone = 'UTC'")
    if not read_only:
        # DuckDB checkpoints when the WAL reaches 16 MB by default: under steady ingest that
        # rewrites the newest, partly filled row group every ~30k rows. 64 MB writes it a
        # quarter as often (the writer's CPU per row: 7.1 -> 4.6 us on commit + checkpoint),
        # for a WAL that replays in about a second after a crash.
        con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    return con
