"""Checkpoints beside the writer instead of in its way.

DuckDB checkpoints (writes its WAL into the database file) inside the commit that takes the WAL
past `checkpoint_threshold`, and every commit queued behind waits: 0.5-1.4 s at 64 MB of WAL on
a 1 M-row warehouse, the whole of ingest's tail latency. DuckDB 2.0 lets no other commit into a
database while that database checkpoints, but an attached database commits on its own. So the
owner's writer starts each checkpoint itself, on a thread, once the WAL passes the threshold;
while it runs, batches of request rows commit into a side database beside the warehouse
(`<db>.aside`, table `pending_requests`, no index) and are acknowledged: durable there (its
own WAL, synced at commit). When the checkpoint ends the writer moves them into `requests`
through its usual path (deduplicated, merged, recounted) and empties the side table.

A crash between that move and the emptying leaves rows in both; the next move finds their
`request_id` stored and skips them, so nothing is counted twice. Rows acknowledged while a
checkpoint runs show in `requests` when it ends (about a second later).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.record import REQUEST_SCHEMA
from warehouse.db import Warehouse
from warehouse.transactions import transaction
from warehouse.wal import is_replay_failure, quarantine_database, quarantine_wal

log = logging.getLogger(__name__)

CATALOG = "gatewatch_aside"
TABLE = f"{CATALOG}.main.pending_requests"
# Rows are numbered as they are put aside, and moved and deleted by those numbers: DuckDB's
# row ids are its own to change (a vacuum at a checkpoint of the side database).
SEQ = "_aside_seq"
COLUMNS = [*REQUEST_SCHEMA.names, SEQ]
# DuckDB's own checkpoint (in the commit of whichever connection crosses its threshold) stays
# as a backstop at this multiple of the writer's, for a writer left idle while jobs write.
BACKSTOP_FACTOR = 4
# After a checkpoint that could not start (another connection's write transaction was open),
# the writer tries again this much later.
RETRY_SECONDS = 1.0


def aside_path(db_path: str) -> Path:
    return Path(f"{db_path}.aside")


class CheckpointAside:
    """The owner writer's checkpoints and the side table that takes rows meanwhile. Every
    method but the checkpoint itself runs on the writer thread."""

    def __init__(self, warehouse: Warehouse, *, wal_threshold: int) -> None:
        """`wal_threshold`: the WAL size in bytes at which the writer checkpoints."""
        self._warehouse = warehouse
        self._wal = Path(f"{warehouse.path}.wal")
        self._threshold = wal_threshold
        self._thread: threading.Thread | None = None
        self._not_before = 0.0
        self._catalog = ""
        self._next_seq = 0  # the sequence number of the next row put aside
        self._moved_through = -1  # the last sequence number moved (rows up to it are deleted)
        self.pending_rows = 0  # rows in the side table, waiting to move into `requests`
        self.checkpoints = 0
        self.checkpoint_seconds = 0.0

    def attach(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Attach the side database (created on first use; a WAL it cannot replay is moved
        aside as the warehouse's own would be), and leave checkpoints to this writer."""
        path = aside_path(self._warehouse.path)
        attach = f"ATTACH IF NOT EXISTS '{_quote(str(path))}' AS {CATALOG}"
        try:
            cursor.execute(attach)
        except duckdb.Error as e:
            if is_replay_failure(e):
                self._warehouse.quarantined_wals.append(quarantine_wal(str(path), e))
            elif path.exists():  # cut off while it was created, say: it must not stop ingest
                self._warehouse.quarantined_wals.extend(quarantine_database(str(path), e))
            else:
                raise
            cursor.execute(attach)
        self._ensure_table(cursor)
        self.pending_rows = _count(cursor)
        last = cursor.execute(f"SELECT max({SEQ}) FROM {TABLE}").fetchall()[0][0]
        self._next_seq = 0 if last is None else int(last) + 1
        self._moved_through = -1
        self._catalog = str(cursor.execute("SELECT current_database()").fetchall()[0][0])
        backstop_mib = max(1, self._threshold * BACKSTOP_FACTOR >> 20)
        cursor.execute(f"SET checkpoint_threshold = '{backstop_mib}MiB'")

    # --- the checkpoint --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def due(self) -> bool:
        """Whether to start a checkpoint now: the WAL passed the threshold and none runs."""
        if self.running or time.monotonic() < self._not_before:
            return False
        try:
            return self._wal.stat().st_size >= self._threshold
        except FileNotFoundError:
            return False

    def start(self) -> None:
        cursor = self._warehouse.connection.cursor()
        self._thread = threading.Thread(
            target=self._checkpoint, args=(cursor,), name="gatewatch-checkpoint", daemon=True
        )
        self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _checkpoint(self, cursor: duckdb.DuckDBPyConnection) -> None:
        started = time.perf_counter()
        try:
            cursor.execute(f'CHECKPOINT "{self._catalog.replace(chr(34), chr(34) * 2)}"')
        except duckdb.TransactionException as e:
            # Another connection's write transaction (a job, say) holds the database.
            self._not_before = time.monotonic() + RETRY_SECONDS
            log.info("checkpoint deferred (%s)", e)
        except duckdb.Error as e:
            # A fatal error (a full disk) reaches the writer at its next commit, which
            # reopens the database.
            self._not_before = time.monotonic() + RETRY_SECONDS
            log.warning("checkpoint failed (%s)", e)
        else:
            self.checkpoints += 1
            self.checkpoint_seconds += time.perf_counter() - started
        finally:
            cursor.close()

    # --- the side table --------------------------------------------------------------------

    def put(self, cursor: duckdb.DuckDBPyConnection, requests: pa.Table) -> None:
        """Commit request rows (of `REQUEST_SCHEMA`) into the side table."""
        numbered = requests.append_column(
            SEQ, pa.array(range(self._next_seq, self._next_seq + requests.num_rows), pa.int64())
        )
        cursor.register("aside_rows", numbered)
        try:
            with transaction(cursor):
                cursor.execute(f"INSERT INTO {TABLE} BY NAME SELECT * FROM aside_rows")
        finally:
            cursor.unregister("aside_rows")
        self._next_seq += requests.num_rows
        self.pending_rows += requests.num_rows

    def take(self, cursor: duckdb.DuckDBPyConnection, limit: int) -> tuple[pa.Table, int]:
        """The oldest `limit` rows waiting, in the order they came, as `REQUEST_SCHEMA` (a
        column the side table lacks, from an older version, reads as NULL), and the number
        to `forget` them through."""
        rows = cursor.sql(
            f"SELECT * FROM {TABLE} WHERE {SEQ} > $after ORDER BY {SEQ} LIMIT {int(limit)}",
            params={"after": self._moved_through},
        ).to_arrow_table()
        columns = [
            rows.column(f.name).cast(f.type)
            if f.name in rows.column_names
            else pa.nulls(rows.num_rows, f.type)
            for f in REQUEST_SCHEMA
        ]
        last = rows.column(SEQ)[-1].as_py() if rows.num_rows else self._moved_through
        return pa.Table.from_arrays(columns, schema=REQUEST_SCHEMA), last

    def forget(self, cursor: duckdb.DuckDBPyConnection, through: int) -> None:
        """Delete the rows `take` gave, numbered up to `through` (they are in `requests`
        now); once none is left, empty the side database's WAL too."""
        with transaction(cursor):
            cursor.execute(f"DELETE FROM {TABLE} WHERE {SEQ} <= $through", {"through": through})
        self._moved_through = through
        self.pending_rows = _count(cursor)
        if not self.pending_rows:
            cursor.execute(f"CHECKPOINT {CATALOG}")
            self._ensure_table(cursor)

    def _ensure_table(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """Create the side table, or create it anew when it is empty and its columns are not
        this version's."""
        found = cursor.execute(
            "SELECT column_name FROM duckdb_columns() "
            "WHERE database_name = $db AND table_name = 'pending_requests' ORDER BY column_index",
            {"db": CATALOG},
        ).fetchall()
        if [name for (name,) in found] == COLUMNS:
            return
        if found and _count(cursor):
            return  # rows of an older version: `take` reads them, `forget` renews the table
        cursor.register("aside_schema", REQUEST_SCHEMA.empty_table())
        try:
            with transaction(cursor):
                cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
                cursor.execute(
                    f"CREATE TABLE {TABLE} AS SELECT *, 0::BIGINT AS {SEQ} FROM aside_schema"
                )
        finally:
            cursor.unregister("aside_schema")


def _count(cursor: duckdb.DuckDBPyConnection) -> int:
    return int(cursor.execute(f"SELECT count(*) FROM {TABLE}").fetchall()[0][0])


def _quote(value: str) -> str:
    return value.replace("'", "''")
