"""The statements the single writer runs inside its transaction: insert the staged rows,
recount tool executions, fold GenAI event records into their span's row (`ingest.writer`
drives them; `staged_*`, `merge_keys` and `merged` are the tables it registers)."""

from __future__ import annotations

from ingest.tool_quality import QUALITY_COLUMNS
from warehouse.schema import REQUESTS_COLUMN_NAMES

INSERT_REQUESTS_SQL = """
INSERT INTO requests BY NAME
SELECT * FROM staged_requests
ON CONFLICT (request_id) DO NOTHING
"""

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

# A stored event row whose span row now exists under another request_id is superseded.
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

INSERT_MERGED_SQL = """
INSERT INTO requests BY NAME
SELECT * EXCLUDE (_staged) FROM merged
ON CONFLICT (request_id) DO NOTHING
"""

INSERT_UNMERGED_REQUESTS_SQL = """
INSERT INTO requests BY NAME
SELECT s.* FROM staged_requests s ANTI JOIN merged USING (trace_id, span_id)
ON CONFLICT (request_id) DO NOTHING
"""

EVENT_ROWS_EXIST_SQL = "SELECT EXISTS (FROM requests WHERE source = $event)"
