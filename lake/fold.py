"""Read-time resolution of a lake window: the rows the single writer would have stored.

Segments hold every row as it arrived, on any node, retries and all. Ordered by arrival
(`layout.ARRIVAL_ORDER_SQL`), they are staged as the single writer stages one batch — the
first row of each `request_id` kept, GenAI event records with span ids set apart to merge —
and then run through the writer's own statements (`ingest.writer_sql`) against an empty,
migrated `requests` table: event records fold into their span's row, the rest is inserted
once per `request_id`, and tool-execution spans recount their parents. The same
statements mean the same answers; arrival order makes the winner of every duplicate
deterministic, whatever node or compaction holds the rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb
import pyarrow as pa

from ingest.logs import SOURCE as EVENT_SOURCE
from ingest.record import REQUEST_SCHEMA, TOOL_SPAN_SCHEMA
from ingest.writer_sql import (
    INSERT_TOOL_SPANS_SQL,
    MERGE_EVENTS_SQL,
    MERGE_KEYS_SQL,
    MERGED,
    RECOUNT_TOOL_CALLS_SQL,
    STAGED_REQUESTS,
    UNMERGED_REQUESTS,
    insert_new_requests,
)
from lake.layout import ARRIVAL_ORDER_SQL
from lake.store import LakeStore, StoredFile

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SPAN_ARRIVAL_ORDER_SQL = "_node, _commit, _row"

# Event records with span ids merge by (trace_id, span_id), not by request_id (an event and
# its span may share one), exactly as `ingest.writer` stages them.
_STAGE_SQL = f"""
CREATE OR REPLACE TEMP TABLE staged_merge AS
WITH arrived AS (
    SELECT *,
        coalesce(source = $event AND trace_id IS NOT NULL AND span_id IS NOT NULL, false)
            AS _mergeable,
        row_number() OVER (ORDER BY {ARRIVAL_ORDER_SQL}) AS _seq
    FROM lake_requests
)
SELECT {{columns}}, _seq FROM arrived WHERE NOT _mergeable
QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY _seq) = 1
UNION ALL
SELECT {{columns}}, _seq FROM arrived WHERE _mergeable
"""

_STAGED_REQUESTS_SQL = (
    "CREATE OR REPLACE TEMP VIEW staged_requests AS SELECT * EXCLUDE (_seq) FROM staged_merge"
)

_STAGE_TOOL_SPANS_SQL = f"""
CREATE OR REPLACE TEMP TABLE staged_tool_spans AS
SELECT {{columns}} FROM lake_tool_spans
QUALIFY row_number() OVER (PARTITION BY trace_id, span_id ORDER BY {_SPAN_ARRIVAL_ORDER_SQL}) = 1
"""


def scan(
    con: duckdb.DuckDBPyConnection,
    store: LakeStore,
    name: str,
    files: list[StoredFile],
    schema: pa.Schema,
) -> None:
    """Make `name` a view of the rows of `files`: DuckDB's own reader on a local lake, the
    store's filesystem (S3 through pyarrow) otherwise."""
    if not files:
        con.register(f"{name}_empty", schema.empty_table())
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_empty")
    elif store.local:
        paths = sql_list(f.path for f in files)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS "
            f"SELECT * FROM read_parquet({paths}, union_by_name = true)"
        )
    else:
        con.register(f"{name}_arrow", store.read_table(files, schema))
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_arrow")


def sql_list(values: Iterable[str]) -> str:
    """A SQL list literal of strings (a view cannot take prepared parameters)."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _select_list(con: duckdb.DuckDBPyConnection, view: str, schema: pa.Schema) -> str:
    """The schema's columns from `view`, NULL for a column no file of the window has yet
    (segments written before a migration added it)."""
    present = {row[0] for row in con.execute(f"DESCRIBE {view}").fetchall()}
    sql_types = {f.name: _duck_type(con, f) for f in schema if f.name not in present}
    return ", ".join(
        f.name if f.name in present else f"CAST(NULL AS {sql_types[f.name]}) AS {f.name}"
        for f in schema
    )


def _duck_type(con: duckdb.DuckDBPyConnection, field: pa.Field) -> str:
    probe = pa.table({field.name: pa.array([], field.type)})
    return str(con.from_arrow(probe).types[0])


def fold(con: duckdb.DuckDBPyConnection) -> None:
    """Fill the empty `requests` and `tool_spans` tables of `con` (migrated) from the views
    `lake_requests` and `lake_tool_spans` (see `scan`)."""
    params = {"event": EVENT_SOURCE, "since": _EPOCH}
    columns = _select_list(con, "lake_requests", REQUEST_SCHEMA)
    con.execute(_STAGE_SQL.format(columns=columns), {"event": EVENT_SOURCE})
    con.execute(_STAGED_REQUESTS_SQL)
    con.execute(f"CREATE OR REPLACE TEMP TABLE merge_keys AS {MERGE_KEYS_SQL}", params)
    if con.execute("SELECT count(*) FROM merge_keys").fetchone()[0]:  # type: ignore[index]
        con.execute(f"CREATE OR REPLACE TEMP TABLE merged AS {MERGE_EVENTS_SQL}", params)
        insert_new_requests(con, MERGED, claim=1)
        insert_new_requests(con, UNMERGED_REQUESTS, claim=2)
    else:
        insert_new_requests(con, STAGED_REQUESTS, claim=1)
    span_columns = _select_list(con, "lake_tool_spans", TOOL_SPAN_SCHEMA)
    con.execute(_STAGE_TOOL_SPANS_SQL.format(columns=span_columns))
    if con.execute("SELECT count(*) FROM staged_tool_spans").fetchone()[0]:  # type: ignore[index]
        con.execute(INSERT_TOOL_SPANS_SQL)
        con.execute(RECOUNT_TOOL_CALLS_SQL, {"since": _EPOCH})
    for name in ("staged_requests", "staged_tool_spans", "staged_merge", "merge_keys", "merged"):
        con.execute(
            f"DROP VIEW IF EXISTS {name}"
            if name == "staged_requests"
            else f"DROP TABLE IF EXISTS {name}"
        )
