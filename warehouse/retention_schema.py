"""The retention watermark table (migration `m010_retention`).

One row per table that retention deletes from: every row older than `retained_before` is
gone. The batch jobs read the `requests` row to leave the periods before it alone (their
source rows no longer exist, so recomputing them would empty them).
"""

from __future__ import annotations

import duckdb

RETENTION_TABLE = "_gatewatch_retention"

RETENTION_TABLE_SQL = f"""
CREATE TABLE {RETENTION_TABLE} (
    table_name VARCHAR PRIMARY KEY,
    retained_before TIMESTAMPTZ NOT NULL,
    rows_deleted BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)
"""


def m010_retention(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RETENTION_TABLE_SQL)
