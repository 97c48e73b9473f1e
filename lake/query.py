"""DuckDB over a lake's Parquet, for `gatewatch sql --lake` and for analysts' own sessions.

Views: `requests` — the deduplicated rows as of the last jobs run (what the metrics were
computed from); `requests_raw` — every stored row with its arrival columns (`_node`,
`_commit`, `_row`) and `day` partition, duplicates included; `tool_spans` — the stored tool
execution spans, likewise raw.
"""

from __future__ import annotations

import duckdb

from ingest.record import REQUEST_SCHEMA
from lake.fold import sql_list
from lake.jobs import view_sql
from lake.layout import REQUEST_SEGMENT_SCHEMA, REQUESTS, TOOL_SPAN_SEGMENT_SCHEMA, TOOL_SPANS
from lake.store import LakeStore


def lake_connection(store: LakeStore) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    _view_of_views(con, store)
    for name, table, schema in (
        ("requests_raw", REQUESTS, REQUEST_SEGMENT_SCHEMA),
        ("tool_spans", TOOL_SPANS, TOOL_SPAN_SEGMENT_SCHEMA),
    ):
        files = store.list_files(table)
        if not files:
            con.register(f"{name}_empty", schema.empty_table())
            con.execute(f"CREATE VIEW {name} AS FROM {name}_empty")
        elif store.local:
            con.execute(
                f"CREATE VIEW {name} AS FROM read_parquet({sql_list(f.path for f in files)}, "
                "hive_partitioning = true, union_by_name = true)"
            )
        else:
            con.register(f"{name}_arrow", store.read_table(files, schema))
            con.execute(f"CREATE VIEW {name} AS FROM {name}_arrow")
    return con


def _view_of_views(con: duckdb.DuckDBPyConnection, store: LakeStore) -> None:
    source = view_sql(store, con)
    if source is None:  # no jobs run yet: an empty table of the right shape
        con.register("requests_empty", REQUEST_SCHEMA.empty_table())
        con.execute("CREATE VIEW requests AS FROM requests_empty")
    else:
        con.execute(f"CREATE VIEW requests AS {source}")
