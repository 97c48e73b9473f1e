"""Names and shapes of the files in a lake (see `lake/__init__.py` for the tree)."""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa

from ingest.record import REQUEST_SCHEMA, TOOL_SPAN_SCHEMA

REQUESTS = "requests"
TOOL_SPANS = "tool_spans"
NODES = "_nodes"
VIEWS = "_views/requests"
MARKER = "_lake.json"
FORMAT_VERSION = 1

# Rows without a start time belong to no period; they get a partition of their own.
UNKNOWN_DAY = "unknown"

# Where each row came from, stored with it: the order in which duplicates are resolved
# (the earliest arrival wins, like ON CONFLICT DO NOTHING in the single-file path) and in
# which event records fold into their span's row. Compaction keeps them, so its output
# resolves exactly as its inputs did.
ARRIVAL_FIELDS = (
    pa.field("_node", pa.string()),
    pa.field("_commit", pa.int64()),
    pa.field("_row", pa.int64()),
)
ARRIVAL_COLUMNS = tuple(f.name for f in ARRIVAL_FIELDS)
ARRIVAL_ORDER_SQL = "ingested_at, _node, _commit, _row"

REQUEST_SEGMENT_SCHEMA = pa.schema([*REQUEST_SCHEMA, *ARRIVAL_FIELDS])
TOOL_SPAN_SEGMENT_SCHEMA = pa.schema([*TOOL_SPAN_SCHEMA, *ARRIVAL_FIELDS])

_DAY_DIR = re.compile(r"day=(\d{4}-\d{2}-\d{2}|" + UNKNOWN_DAY + ")$")


def day_dir(table: str, day: str) -> str:
    return f"{table}/day={day}"


def segment_name(committed_ms: int, node: str, commit: int) -> str:
    """Sorts by commit time; unique because each node's id is new at every start."""
    return f"{committed_ms:013d}-{node}-{commit:08d}.parquet"


def compacted_name(committed_ms: int, token: str) -> str:
    return f"{committed_ms:013d}-compacted-{token}.parquet"


def view_path(week: dt.date) -> str:
    return f"{VIEWS}/week={week.isoformat()}/part.parquet"


def parse_day(folder_name: str) -> str | None:
    """`day=2026-03-01` → `2026-03-01` (`unknown` for rows without a start), else None."""
    match = _DAY_DIR.match(folder_name)
    return match.group(1) if match else None


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s ISO week (the jobs' weekly periods start on Mondays, UTC)."""
    return day - dt.timedelta(days=day.weekday())
