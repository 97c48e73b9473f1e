"""The lake resolves at read time what the single writer resolves at write time: the same
submissions, through `BatchWriter` into a database and through two `LakeWriter` nodes into a
lake (in any order, split across the nodes, some sent twice), leave the same request rows —
duplicates dropped, GenAI event records folded into their span's row, tool calls recounted
from tool spans — and compaction does not change them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from ingest.payloads import JSON, prepare_logs, prepare_traces
from ingest.writer import BatchWriter
from lake.compact import compact
from lake.fold import fold, scan
from lake.layout import REQUEST_SEGMENT_SCHEMA, REQUESTS, TOOL_SPAN_SEGMENT_SCHEMA, TOOL_SPANS
from lake.store import LakeStore
from lake.writer import LakeWriter
from tests.unit.test_otlp_decode import json_body as traces_json_body
from tests.unit.test_otlp_logs import RESOURCE, choice, details, logs_json_body, span
from tests.unit.test_writer import PARENT, llm_span, req, table, tool_span
from warehouse.db import Warehouse
from warehouse.migrations import migrate

Tables = tuple[pa.Table, pa.Table | None]
# Every column the ingest path fills, less the time each copy happened to be received.
COMPARED = "* EXCLUDE (ingested_at)"


def _traces(*specs: Any) -> Tables:
    prepared = prepare_traces(traces_json_body(({"service.name": "svc"}, list(specs))), JSON)
    return prepared.table, prepared.tool_spans


def _logs(*specs: Any) -> Tables:
    return prepare_logs(logs_json_body((RESOURCE, list(specs))), JSON).table, None


def _requests(*records: dict[str, Any]) -> Tables:
    return table(*records), None


def _submissions() -> list[Tables]:
    """Spans with their events and tool executions, request logs with retries."""
    return [
        _traces(span()),
        _logs(details(**{"gen_ai.response.id": "chatcmpl-9"})),
        _logs(choice()),
        _traces(llm_span(reason="stop")),
        _traces(tool_span("c000000000000001"), tool_span("c000000000000002", offset_ns=2_000)),
        _requests(req("r-1", model="a/one"), req("r-2", model="a/two")),
        _requests(req("r-1", model="a/one"), req("r-3", model="a/three", status="error")),
        _traces(tool_span("c000000000000001")),  # a resent tool span counts once
    ]


ORDERS: dict[str, Callable[[list[Tables]], list[Tables]]] = {
    "as_sent": lambda s: s,
    "reversed": lambda s: s[::-1],
    "events_first": lambda s: [s[1], s[2], s[4], *s[5:], s[0], s[3]],
}


def _single(submissions: list[Tables]) -> list[tuple[Any, ...]]:
    warehouse = Warehouse.open(":memory:")
    writer = BatchWriter(warehouse)
    writer.start()
    try:
        for requests, spans in submissions:
            writer.submit(requests, spans).result(10)
    finally:
        writer.stop()
    try:
        return warehouse.cursor().sql(f"SELECT {COMPARED} FROM requests ORDER BY ALL").fetchall()
    finally:
        warehouse.close()


def _lake_rows(store: LakeStore) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    try:
        migrate(con)
        scan(con, store, "lake_requests", store.list_files(REQUESTS), REQUEST_SEGMENT_SCHEMA)
        scan(con, store, "lake_tool_spans", store.list_files(TOOL_SPANS), TOOL_SPAN_SEGMENT_SCHEMA)
        fold(con)
        return con.sql(f"SELECT {COMPARED} FROM requests ORDER BY ALL").fetchall()
    finally:
        con.close()


def _write_lake(path: Path, submissions: list[Tables]) -> LakeStore:
    store = LakeStore(str(path))
    nodes = [LakeWriter(store, node="node-a"), LakeWriter(store, node="node-b")]
    for node in nodes:
        node.start()
    try:
        for i, (requests, spans) in enumerate(submissions):
            # one at a time, in order: what was answered first arrives first on either node
            nodes[i % 2].submit(requests, spans).result(10)
            if i % 3 == 0:  # resent to the other node after a lost answer
                nodes[(i + 1) % 2].submit(requests, spans).result(10)
    finally:
        for node in nodes:
            node.stop()
    return store


@pytest.mark.parametrize("order", ORDERS)
def test_the_lake_resolves_to_the_single_writers_rows(tmp_path: Path, order: str) -> None:
    submissions = ORDERS[order](_submissions())
    expected = _single(submissions)
    store = _write_lake(tmp_path / "lake", submissions)
    assert _lake_rows(store) == expected
    assert len(expected) == 5  # the merged span, the plain span, three request logs


def test_the_fold_is_the_writers_merge(tmp_path: Path) -> None:
    store = _write_lake(tmp_path / "lake", _submissions())
    con = duckdb.connect()
    migrate(con)
    scan(con, store, "lake_requests", store.list_files(REQUESTS), REQUEST_SEGMENT_SCHEMA)
    scan(con, store, "lake_tool_spans", store.list_files(TOOL_SPANS), TOOL_SPAN_SEGMENT_SCHEMA)
    fold(con)
    parent = con.sql(
        "SELECT finish_reason, tool_calls FROM requests WHERE span_id = $s", params={"s": PARENT}
    ).fetchall()
    assert parent == [("tool_calls", 2)]  # two distinct tool executions, one sent twice
    merged = con.sql(
        "SELECT count(*), max(input_tokens) FROM requests "
        "WHERE span_id <> $s AND span_id IS NOT NULL",
        params={"s": PARENT},
    ).fetchall()
    assert merged == [(1, 120)]  # span + details + choice: one row, the event's tokens


def test_compaction_keeps_the_resolution(tmp_path: Path) -> None:
    submissions = _submissions()
    store = _write_lake(tmp_path / "lake", submissions)
    before = _lake_rows(store)
    result = compact(store)
    assert result.files_out < result.files_in
    for folder in (REQUESTS, TOOL_SPANS):  # every day partition is now one file
        assert len(store.list_files(folder)) == len(store.list_dirs(folder))
    assert _lake_rows(store) == before == _single(submissions)
