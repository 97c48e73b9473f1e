"""DuckDB over a lake's Parquet, for `gatewatch sql --lake` and for analysts' own sessions.

Views: `requests` — the deduplicated rows as of the last jobs run (what the metrics were
computed from); `requests_raw` — every stored row with its arrival columns (`_node`,
`_commit`, `_row`) and `day` partition, duplicates included; `tool_spans` — the stored tool
execution spans, likewise raw; `lake_nodes` — every ingest node's manifest.
"""

from __future__ import annotations

from dataclasses import asdict, fields

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from ingest.record import REQUEST_SCHEMA
from lake.fold import sql_list
from lake.jobs import view_sql
from lake.layout import (
    REQUEST_SEGMENT_SCHEMA,
    REQUESTS,
    TOOL_SPAN_SEGMENT_SCHEMA,
    TOOL_SPANS,
    UNKNOWN_DAY,
    parse_day,
)
from lake.manifest import NodeManifest, read_manifests
from lake.store import LakeStore, StoredFile


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
            con.register(f"{name}_arrow", _partitioned(store, table, files, schema))
            con.execute(f"CREATE VIEW {name} AS FROM {name}_arrow")
    nodes = [asdict(m) for m in read_manifests(store)]
    con.register("lake_nodes_rows", pa.Table.from_pylist(nodes, schema=_NODES_SCHEMA))
    con.execute("CREATE VIEW lake_nodes AS FROM lake_nodes_rows")
    return con


def _partitioned(
    store: LakeStore, table: str, files: list[StoredFile], schema: pa.Schema
) -> ds.Dataset:
    """The files of an object store as DuckDB's hive reader shows a local lake's: with a
    `day` column, a DATE, or VARCHAR when the `unknown` partition is among them."""
    days = {parse_day(f.path.rsplit("/", 2)[-2]) for f in files}
    day = pa.field("day", pa.string() if UNKNOWN_DAY in days else pa.date32())
    return store.dataset(
        files,
        schema.append(day),
        partitioning=ds.partitioning(pa.schema([day]), flavor="hive"),
        partitions_under=table,
    )


_NODES_SCHEMA = pa.schema(
    [pa.field(f.name, pa.int64() if f.type == "int" else pa.string()) for f in fields(NodeManifest)]
)


def _view_of_views(con: duckdb.DuckDBPyConnection, store: LakeStore) -> None:
    source = view_sql(store, con, lazy=True)
    if source is None:  # no jobs run yet: an empty table of the right shape
        con.register("requests_empty", REQUEST_SCHEMA.empty_table())
        con.execute("CREATE VIEW requests AS FROM requests_empty")
    else:
        con.execute(f"CREATE VIEW requests AS {source}")
