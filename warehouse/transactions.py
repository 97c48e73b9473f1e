"""One transaction as a `with` block: committed when the block ends, rolled back (and the
error re-raised) when anything in it fails, interrupts and the COMMIT itself included."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    try:
        con.execute("COMMIT")
    except BaseException:
        # DuckDB has rolled back a failed COMMIT itself (a full disk, say); a ROLLBACK now
        # would fail with "no transaction is active" and hide the commit's own error.
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
