"""The warehouse handle: one DuckDB connection per process, cursors per thread.

DuckDB allows one read-write process per file. The process that owns the file (normally
`gatewatch serve`) opens it with `Warehouse.open(path)`; every other reader goes through
that owner or opens the published snapshot read-only (see `warehouse.ownership`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from warehouse.migrations import migrate


class WarehouseError(Exception):
    """A warehouse problem worth one clear line to the user."""


class Warehouse:
    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only
        self._local = threading.local()

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False) -> Warehouse:
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(path, read_only=read_only)
        except duckdb.Error as e:
            raise WarehouseError(f"cannot open {path}: {e}") from e
        con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            migrate(con)
        return cls(con, path, read_only)

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The process's root connection; use `cursor()` from other threads."""
        return self._con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (DuckDB connections are not thread-safe)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
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
