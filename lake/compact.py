"""Compaction (many small segments of a day → few large ones) and retention (drop old days).

Both run beside live ingest nodes and jobs without a lock. Compaction writes its output
first, complete, then deletes its inputs: in between, readers see the rows twice, with the
same arrival columns, and the read-time resolution keeps one (`lake.fold`); two compactions of
the same files at once end the same way. Its output is sorted by arrival, so it resolves
exactly as its inputs did.

Retention records its cutoff (a Monday, so no week is cut in two) before deleting anything:
the jobs never plan a week before it, so the stats of dropped weeks stay as they were
computed, in the stats database.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass

import orjson
import pyarrow as pa

from lake.layout import (
    ARRIVAL_COLUMNS,
    REQUEST_SEGMENT_SCHEMA,
    REQUESTS,
    TOOL_SPAN_SEGMENT_SCHEMA,
    TOOL_SPANS,
    UNKNOWN_DAY,
    VIEWS,
    compacted_name,
    day_dir,
    parse_day,
    week_start,
)
from lake.store import LakeStore, StoredFile

RETENTION = "_retention.json"
TARGET_FILE_BYTES = 128 * 1024 * 1024
_SCHEMAS = {REQUESTS: REQUEST_SEGMENT_SCHEMA, TOOL_SPANS: TOOL_SPAN_SEGMENT_SCHEMA}


@dataclass(frozen=True, slots=True)
class CompactionResult:
    partitions: int  # day partitions rewritten
    files_in: int
    files_out: int
    rows: int
    seconds: float


def compact(
    store: LakeStore, *, target_bytes: int = TARGET_FILE_BYTES, min_files: int = 2
) -> CompactionResult:
    """Merge the small files of every day partition into files of about `target_bytes`."""
    started = time.perf_counter()
    partitions = files_in = files_out = rows = 0
    for table, schema in _SCHEMAS.items():
        for day in store.list_dirs(table):
            if parse_day(day) is None:
                continue
            small = [f for f in store.list_files(f"{table}/{day}") if f.size < target_bytes]
            groups = [g for g in _bins(small, target_bytes) if len(g) >= min_files]
            for group in groups:
                rows += _merge(store, f"{table}/{day}", group, schema)
                files_in += len(group)
                files_out += 1
            partitions += bool(groups)
    return CompactionResult(partitions, files_in, files_out, rows, time.perf_counter() - started)


def _bins(files: list[StoredFile], target_bytes: int) -> list[list[StoredFile]]:
    """Consecutive files (in name order, which is commit-time order) up to `target_bytes`."""
    bins: list[list[StoredFile]] = [[]]
    size = 0
    for f in files:
        if bins[-1] and size + f.size > target_bytes:
            bins.append([])
            size = 0
        bins[-1].append(f)
        size += f.size
    return [b for b in bins if b]


def _merge(store: LakeStore, folder: str, files: list[StoredFile], schema: pa.Schema) -> int:
    rows = store.read_table(files, schema)
    order = [(c, "ascending") for c in ("ingested_at", *ARRIVAL_COLUMNS) if c in rows.schema.names]
    rows = rows.sort_by(order)
    name = compacted_name(int(time.time() * 1000), uuid.uuid4().hex[:12])
    store.write_parquet(f"{folder}/{name}", rows)
    store.delete_files(files)
    return rows.num_rows


def retention_cutoff(store: LakeStore) -> dt.date | None:
    """The first day the lake keeps (a Monday); None when nothing was ever dropped."""
    found = store.read_bytes(RETENTION)
    return dt.date.fromisoformat(orjson.loads(found)["keep_from"]) if found else None


@dataclass(frozen=True, slots=True)
class RetentionResult:
    keep_from: dt.date
    days_dropped: int
    views_dropped: int


def apply_retention(
    store: LakeStore, keep_days: int, *, today: dt.date | None = None
) -> RetentionResult:
    """Drop the day partitions and week views before the Monday on or before
    `today - keep_days` (so at least `keep_days` whole days are kept)."""
    today = today or dt.datetime.now(dt.UTC).date()
    keep_from = week_start(today - dt.timedelta(days=keep_days))
    previous = retention_cutoff(store)
    if previous is not None and previous > keep_from:
        keep_from = previous  # a cutoff never moves back: those days are gone
    store.write_bytes(RETENTION, orjson.dumps({"keep_from": keep_from.isoformat()}))
    days = 0
    for table in (REQUESTS, TOOL_SPANS):
        for folder in store.list_dirs(table):
            day = parse_day(folder)
            if day is not None and day != UNKNOWN_DAY and dt.date.fromisoformat(day) < keep_from:
                store.delete_dir(day_dir(table, day))
                days += table == REQUESTS
    views = 0
    for folder in store.list_dirs(VIEWS):
        week = folder.removeprefix("week=")
        if folder.startswith("week=") and dt.date.fromisoformat(week) < keep_from:
            store.delete_dir(f"{VIEWS}/{folder}")
            views += 1
    return RetentionResult(keep_from, days, views)
