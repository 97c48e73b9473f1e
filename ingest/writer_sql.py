"""The statements the single writer runs inside its transaction: insert the staged rows,
recount tool executions, fold GenAI event records into their span's row (`ingest.writer`
drives them; `staged_*`, `merge_keys` and `merged` are the tables it registers)."""

from __future__ import annotations

import duckdb

from ingest.tool_quality import QUALITY_COLUMNS
from warehouse.schema import REQUEST_KEY_SQL, REQUEST_KEYS_TABLE, REQUESTS_COLUMN_NAMES

# --- inserting new rows: `request_id` is unique through the key table ----------------------
# A statement first claims the keys of its rows that were never stored (the key table's
# primary key refuses the rest), numbered `$claim`; then it inserts the rows whose keys it
# claimed. Claims grow with each statement, so that lookup reads only the newest row group.
_KEY = REQUEST_KEY_SQL.format(column="request_id")

_CLAIM_KEYS_SQL = f"""
INSERT INTO {REQUEST_KEYS_TABLE}
SELECT {_KEY}, $claim FROM ({{rows}})
ON CONFLICT DO NOTHING
"""

_INSERT_CLAIMED_SQL = f"""
INSERT INTO requests BY NAME
SELECT r.* FROM ({{rows}}) r
SEMI JOIN (SELECT key FROM {REQUEST_KEYS_TABLE} WHERE claim = $claim) claimed
    ON {REQUEST_KEY_SQL.format(column="r.request_id")} = claimed.key
"""

_INSERT_KEYS_SQL = f"INSERT INTO {REQUEST_KEYS_TABLE} SELECT {_KEY}, $claim FROM ({{rows}})"

LAST_CLAIM_SQL = f"SELECT coalesce(max(claim), 0) FROM {REQUEST_KEYS_TABLE}"

STAGED_REQUESTS = "SELECT * FROM staged_requests"


def insert_new_requests(
    cursor: duckdb.DuckDBPyConnection, rows: str, claim: int, *, row_count: int | None = None
) -> int:
    """Insert the rows of the query `rows` whose `request_id` was never stored, as claim
    number `claim` (larger than any before); returns how many. `rows` must hold each
    `request_id` once (the writer's staging keeps the first). Given `row_count` (the rows
    `rows` holds), a statement whose every key was new inserts all rows without looking
    its claim up: the usual case, at a third of the cost."""
    claimed = cursor.execute(_CLAIM_KEYS_SQL.format(rows=rows), {"claim": claim})
    claimed_count = int(claimed.fetchall()[0][0])
    if claimed_count == row_count:
        cursor.execute(f"INSERT INTO requests BY NAME {rows}").fetchall()
        return claimed_count
    inserted = cursor.execute(_INSERT_CLAIMED_SQL.format(rows=rows), {"claim": claim})
    return int(inserted.fetchall()[0][0])


def insert_all_new_requests(cursor: duckdb.DuckDBPyConnection, rows: str, claim: int) -> int:
    """Insert every row of the query `rows` (each `request_id` once), claiming its key, for
    rows expected to be new: without ON CONFLICT the claim costs half as much. A key stored
    before raises `duckdb.ConstraintException` and aborts the transaction; the caller rolls
    it back and runs it again through `insert_new_requests`."""
    cursor.execute(_INSERT_KEYS_SQL.format(rows=rows), {"claim": claim}).fetchall()
    inserted = cursor.execute(f"INSERT INTO requests BY NAME {rows}").fetchall()
    return int(inserted[0][0])


INSERT_TOOL_SPANS_SQL = """
INSERT INTO tool_spans BY NAME
SELECT * FROM staged_tool_spans
ON CONFLICT (trace_id, span_id) DO NOTHING
"""

# Tool executions may reach us in another export batch than their parent request span, in
# either order. Recount the children of every parent this batch touched, from the
# deduplicated tool_spans table, and fix the parents whose count changed. A parent is looked
# for at most a day before the batch's earliest span, and its children (all of them, also
# siblings from earlier batches) start after it; both bounds let DuckDB skip old row groups.
RECOUNT_TOOL_CALLS_SQL = """
WITH touched AS (
    SELECT trace_id, parent_span_id FROM staged_tool_spans
    UNION
    SELECT trace_id, span_id FROM staged_requests WHERE span_id IS NOT NULL
),
counts AS (
    SELECT t.trace_id, t.parent_span_id, count(*)::INTEGER AS n
    FROM tool_spans t
    SEMI JOIN touched USING (trace_id, parent_span_id)
    WHERE t.started_at >= $since - INTERVAL 1 DAY
    GROUP BY ALL
)
UPDATE requests SET
    -- the calls a response reports and its execute_tool children are two views of the
    -- same calls: keep the larger
    tool_calls = counts.n,
    -- the mapper's precedence: only a cancellation outranks tool calls being present
    finish_reason = CASE
        WHEN requests.finish_reason IS DISTINCT FROM 'cancelled'
        THEN 'tool_calls' ELSE requests.finish_reason END
FROM counts
WHERE requests.started_at >= $since - INTERVAL 1 DAY
  AND requests.trace_id = counts.trace_id
  AND requests.span_id = counts.parent_span_id
  AND (requests.tool_calls IS NULL OR requests.tool_calls < counts.n)
"""


# --- merging event records into their span's row ------------------------------------------
# An event record (source EVENT_SOURCE, with trace and span id) and the row of its span are
# one request. All rows of a (trace_id, span_id) that this batch touches with an event — the
# stored rows and the staged ones — fold into one row, ranked: a stored span row (0), a
# staged span row (1), a stored event row (2), staged event rows (3, in arrival order). Each
# column takes the first non-NULL value by rank, so the span's values win and events fill
# what it lacks, whichever arrived first. Exceptions keep the row consistent: `error_type`
# and the tool-call quality counts come with the row that set `status` / the counts; the
# response's reported calls and the execute_tool children are the same calls (keep the
# larger); tool calls present mean `tool_calls` unless cancelled (the mapper's precedence).
# The stored rows looked at are bounded like the tool-call recount (a day before the batch).

_RANKED = "ORDER BY _rank, _seq, request_id"


def _fold_column(column: str) -> str:
    if column == "tool_calls":
        return "max(tool_calls)"
    if column == "finish_reason":
        first = f"any_value(finish_reason {_RANKED})"
        return (
            f"CASE WHEN {first} = 'cancelled' THEN 'cancelled' "
            f"WHEN max(tool_calls) > 0 THEN 'tool_calls' ELSE {first} END"
        )
    if column == "error_type":
        return f"first(error_type {_RANKED}) FILTER (WHERE status IS NOT NULL)"
    if column in QUALITY_COLUMNS:
        return f"first({column} {_RANKED}) FILTER (WHERE {QUALITY_COLUMNS[0]} IS NOT NULL)"
    if column == "request_id":
        return f"first(request_id {_RANKED})"
    return f"any_value({column} {_RANKED})"


_FOLDS = ",\n    ".join(
    f"{_fold_column(c)} AS {c}" for c in REQUESTS_COLUMN_NAMES if c not in ("trace_id", "span_id")
)

# The (trace_id, span_id) pairs to fold: those of staged events, and those of staged rows that
# have a stored event row. Usually none for a span batch: then the fold is skipped.
MERGE_KEYS_SQL = """
SELECT trace_id, span_id FROM staged_merge
WHERE source = $event AND trace_id IS NOT NULL AND span_id IS NOT NULL
UNION
SELECT r.trace_id, r.span_id FROM requests r
SEMI JOIN staged_merge s USING (trace_id, span_id)
WHERE r.source = $event AND r.started_at >= $since - INTERVAL 1 DAY
"""

MERGE_EVENTS_SQL = f"""
WITH candidates AS (
    SELECT r.*, CASE WHEN r.source = $event THEN 2 ELSE 0 END AS _rank, 0 AS _seq
    FROM requests r SEMI JOIN merge_keys USING (trace_id, span_id)
    WHERE r.started_at >= $since - INTERVAL 1 DAY
    UNION ALL BY NAME
    SELECT s.*, CASE WHEN s.source = $event THEN 3 ELSE 1 END AS _rank
    FROM staged_merge s SEMI JOIN merge_keys USING (trace_id, span_id)
)
SELECT trace_id, span_id,
    {_FOLDS},
    count(*) FILTER (WHERE _rank IN (1, 3))::INTEGER AS _staged
FROM candidates
GROUP BY trace_id, span_id
"""

# A stored event row whose span row now exists under another request_id is superseded. Its
# key stays claimed: that request_id is only ever sent again as the same event record, which
# folds into the span's row again.
DELETE_SUPERSEDED_SQL = """
DELETE FROM requests USING merged m
WHERE requests.trace_id = m.trace_id AND requests.span_id = m.span_id
  AND requests.source = $event AND requests.request_id <> m.request_id
  AND requests.started_at >= $since - INTERVAL 1 DAY
"""

_UPDATE_SET = ",\n    ".join(
    f"{c} = m.{c}" for c in REQUESTS_COLUMN_NAMES if c not in ("request_id", "trace_id", "span_id")
)
UPDATE_MERGED_SQL = f"""
UPDATE requests SET
    {_UPDATE_SET}
FROM merged m
WHERE requests.request_id = m.request_id
  AND requests.trace_id = m.trace_id AND requests.span_id = m.span_id
  -- only rows the fold saw: a row outside its window was not folded in, so it must not be
  -- overwritten by the fold of the others (the event then counts as a duplicate)
  AND requests.started_at >= $since - INTERVAL 1 DAY
"""

# The rows `insert_new_requests` inserts after a fold: the folded rows not stored yet, and
# the staged rows that took no part in a fold.
MERGED = """
SELECT * EXCLUDE (_staged) FROM merged
QUALIFY row_number() OVER (PARTITION BY request_id ORDER BY trace_id, span_id) = 1
"""
UNMERGED_REQUESTS = "SELECT s.* FROM staged_requests s ANTI JOIN merged USING (trace_id, span_id)"

EVENT_ROWS_EXIST_SQL = "SELECT EXISTS (FROM requests WHERE source = $event)"
