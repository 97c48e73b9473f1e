"""One transaction as a `with` block: committed when the block ends, rolled back (and the
error re-raised) when anything in it fails, interrupts and the COMMIT itself included. And a
CHECKPOINT that waits its turn."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

import duckdb

log = logging.getLogger(__name__)

CHECKPOINT_ATTEMPTS = 40
CHECKPOINT_PAUSE_SECONDS = 0.25


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


def checkpoint_when_free(con: duckdb.DuckDBPyConnection, *, why: str) -> None:
    """CHECKPOINT, retried for a while: it fails while another write transaction is open or
    another checkpoint runs (an ingest commit, `serve`'s own checkpoint, DuckDB's cleanup of
    a large delete); past that it is left to the next checkpoint."""
    for attempt in range(1, CHECKPOINT_ATTEMPTS + 1):
        try:
            con.execute("CHECKPOINT")
            log.info("%s: checkpoint after %d attempt(s)", why, attempt)
            return
        except duckdb.TransactionException as e:
            error = e
            time.sleep(CHECKPOINT_PAUSE_SECONDS)
    log.warning("%s: checkpoint deferred to the next one (%s)", why, error)
