"""BatchWriter: dedupe on request_id, group commit, failure isolation, tool-span recount,
flush and stop, against a real DuckDB warehouse."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from ingest.payloads import JSON, Prepared, prepare_traces
from ingest.record import Record, records_to_table, tool_spans_to_table
from ingest.writer import BatchWriter, QueueFull, WriteResult, WriterStopped
from tests.unit.test_otlp_decode import KIND_INTERNAL, START_NS, TRACE, SpanSpec, json_body
from warehouse.db import Warehouse
from warehouse.schema import REQUEST_KEYS_TABLE

T0_US = START_NS // 1000
PARENT = "b000000000000001"
TIMEOUT = 10.0


def req(request_id: str | None, **fields: Any) -> Record:
    return {
        "request_id": request_id,
        "started_at": T0_US,
        "status": "ok",
        "source": "test",
        **fields,
    }


def table(*records: Record) -> pa.Table:
    return records_to_table(list(records))


def rows(warehouse: Warehouse, columns: str = "request_id, model") -> list[tuple[Any, ...]]:
    return warehouse.cursor().execute(f"SELECT {columns} FROM requests ORDER BY 1").fetchall()


def llm_span(span_id: str = PARENT, reason: str = "stop", status_code: int = 0) -> SpanSpec:
    return SpanSpec(
        span_id=span_id,
        status_code=status_code,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gemini-2.5-flash",
            "gen_ai.response.finish_reasons": [reason],
        },
    )


def tool_span(span_id: str, parent: str = PARENT, offset_ns: int = 1_000_000) -> SpanSpec:
    return SpanSpec(
        span_id=span_id,
        parent_span_id=parent,
        kind=KIND_INTERNAL,
        name="execute_tool lookup",
        start_ns=START_NS + offset_ns,
        attributes={"gen_ai.operation.name": "execute_tool"},
    )


def traces(*specs: SpanSpec) -> Prepared:
    """The writer input the ingest path builds for an OTLP JSON body with these spans."""
    return prepare_traces(json_body(({"service.name": "svc"}, list(specs))), JSON)


def send(writer: BatchWriter, prepared: Prepared) -> WriteResult:
    return writer.submit(prepared.table, prepared.tool_spans).result(TIMEOUT)


def parent_row(warehouse: Warehouse) -> tuple[Any, ...]:
    return (
        warehouse.cursor()
        .execute(
            "SELECT finish_reason, native_finish_reason, tool_calls, status FROM requests "
            "WHERE span_id = ?",
            [PARENT],
        )
        .fetchone()
    )


# --- dedupe ------------------------------------------------------------------------------


def test_duplicates_within_one_submission_keep_the_first(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    result = writer.submit(
        table(req("r1", model="first"), req("r2", model="x"), req("r1", model="second"))
    ).result(TIMEOUT)
    assert result == WriteResult(rows=3, batch_rows=3, batch_inserted=2)
    assert rows(warehouse) == [("r1", "first"), ("r2", "x")]
    assert (writer.stats.submitted_rows, writer.stats.stored_rows) == (3, 2)


def test_stats_account_for_every_submitted_row(writer: BatchWriter) -> None:
    writer.submit(table(req("r1"), req("r1"), req("r2"))).result(TIMEOUT)
    writer.submit(table(req("r2"))).result(TIMEOUT)
    stats = writer.stats
    assert (stats.submitted_rows, stats.stored_rows, stats.duplicate_rows) == (4, 2, 2)


def test_duplicates_across_submissions_keep_the_first(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    first = writer.submit(table(req("r1", model="first"))).result(TIMEOUT)
    again = writer.submit(table(req("r1", model="second"), req("r2", model="new"))).result(TIMEOUT)
    assert (first.batch_inserted, again.batch_inserted) == (1, 1)
    assert rows(warehouse) == [("r1", "first"), ("r2", "new")]
    # the resend's first attempt (every key new, no ON CONFLICT) rolled back whole
    keys = warehouse.connection.execute(f"SELECT count(*) FROM {REQUEST_KEYS_TABLE}").fetchall()
    assert keys == [(2,)]


def test_duplicates_across_submissions_of_one_batch_keep_the_first(
    warehouse: Warehouse,
) -> None:
    writer = BatchWriter(warehouse)
    futures = [
        writer.submit(table(req("r1", model="first"))),
        writer.submit(table(req("r1", model="second"))),
    ]
    writer.start()
    try:
        results = [f.result(TIMEOUT) for f in futures]
    finally:
        writer.stop()
    assert results == [WriteResult(1, 2, 1), WriteResult(1, 2, 1)]
    assert rows(warehouse) == [("r1", "first")]


# --- group commit and failures ------------------------------------------------------------


def test_queued_submissions_are_committed_by_one_transaction(warehouse: Warehouse) -> None:
    writer = BatchWriter(warehouse)
    futures = [
        writer.submit(table(req("a1"), req("a2"))),
        writer.submit(table(req("b1"))),
        writer.submit(table(req("c1"), req("c2"), req("c3"))),
    ]
    assert writer.queued_rows == 6
    writer.start()
    try:
        results = [f.result(TIMEOUT) for f in futures]
    finally:
        writer.stop()
    assert results == [WriteResult(2, 6, 6), WriteResult(1, 6, 6), WriteResult(3, 6, 6)]
    assert (writer.stats.batches, writer.stats.stored_rows, writer.queued_rows) == (1, 6, 0)
    assert [r[0] for r in rows(warehouse)] == ["a1", "a2", "b1", "c1", "c2", "c3"]


def test_a_commit_gathers_the_rows_still_coming(warehouse: Warehouse) -> None:
    """While bodies are being decoded, a commit waits (bounded) for their rows; with nothing
    coming it commits at once."""
    writer = BatchWriter(warehouse)
    coming = threading.Event()
    coming.set()
    writer.more_coming = coming.is_set
    writer.gather_seconds = 5.0
    writer.start()
    try:
        first = writer.submit(table(req("a1")))
        time.sleep(0.2)
        assert not first.done()  # waiting for the rows still coming
        coming.clear()
        second = writer.submit(table(req("b1")))
        assert [first.result(TIMEOUT), second.result(TIMEOUT)] == [WriteResult(1, 2, 2)] * 2
        started = time.monotonic()
        writer.submit(table(req("c1"))).result(TIMEOUT)  # nothing coming: no wait
        assert time.monotonic() - started < 2.0
    finally:
        writer.stop()
    assert writer.stats.batches == 2


def test_gathering_ends_at_its_deadline(warehouse: Warehouse) -> None:
    writer = BatchWriter(warehouse)
    writer.more_coming = lambda: True  # rows that never come
    writer.gather_seconds = 0.05
    writer.start()
    try:
        assert writer.submit(table(req("a1"))).result(TIMEOUT) == WriteResult(1, 1, 1)
    finally:
        writer.stop()


def test_batches_are_capped_at_max_batch_rows(warehouse: Warehouse) -> None:
    writer = BatchWriter(warehouse, max_batch_rows=3)
    futures = [writer.submit(table(req(f"r{i}a"), req(f"r{i}b"))) for i in range(3)]
    writer.start()
    try:
        results = [f.result(TIMEOUT) for f in futures]
    finally:
        writer.stop()
    assert [r.batch_rows for r in results] == [2, 2, 2]
    assert writer.stats.batches == 3


def test_a_failing_submission_fails_alone(warehouse: Warehouse) -> None:
    writer = BatchWriter(warehouse)
    good1 = writer.submit(table(req("g1")))
    bad = writer.submit(table(req("b1"), req(None)))  # request_id is the NOT NULL key
    good2 = writer.submit(table(req("g2"), req("g3")))
    writer.start()
    try:
        assert good1.result(TIMEOUT) == WriteResult(1, 1, 1)
        assert good2.result(TIMEOUT) == WriteResult(2, 2, 2)
        with pytest.raises(duckdb.ConstraintException):
            bad.result(TIMEOUT)
    finally:
        writer.stop()
    assert [r[0] for r in rows(warehouse)] == ["g1", "g2", "g3"]
    assert (writer.stats.failed_rows, writer.stats.stored_rows) == (2, 3)


def test_a_table_that_does_not_cast_fails_its_own_future_and_the_writer_goes_on(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    wrong = pa.table({"request_id": ["x1"], "input_tokens": ["many"]})
    with pytest.raises(ValueError):
        writer.submit(wrong).result(TIMEOUT)
    assert writer.submit(table(req("ok1"))).result(TIMEOUT) == WriteResult(1, 1, 1)
    assert [r[0] for r in rows(warehouse)] == ["ok1"]


def test_a_table_with_another_schema_in_a_shared_batch_fails_alone(warehouse: Warehouse) -> None:
    writer = BatchWriter(warehouse)
    good = writer.submit(table(req("g1")))
    bad = writer.submit(pa.table({"request_id": ["x1"], "input_tokens": ["many"]}))
    writer.start()
    try:
        assert good.result(1.5) == WriteResult(1, 1, 1)
        with pytest.raises(ValueError):
            bad.result(1.5)
    finally:
        writer.stop(timeout=1.0)


def test_a_cancelled_submission_does_not_stop_the_writer(warehouse: Warehouse) -> None:
    writer = BatchWriter(warehouse)
    cancelled = writer.submit(table(req("c1")))
    assert cancelled.cancel()
    writer.start()
    try:
        later = writer.submit(table(req("l1")))
        later.result(1.5)
    finally:
        writer.stop(timeout=1.0)


# --- queue bounds and lifecycle --------------------------------------------------------------


def test_queue_full_when_the_waiting_rows_would_exceed_the_bound(warehouse: Warehouse) -> None:
    writer = BatchWriter(warehouse, max_queued_rows=3)
    big = writer.submit(table(req("a"), req("b"), req("c"), req("d")))  # alone: accepted
    with pytest.raises(QueueFull, match="^4 rows are waiting to be written$"):
        writer.submit(table(req("e")))
    assert writer.queued_rows == 4
    writer.start()
    try:
        assert big.result(TIMEOUT) == WriteResult(4, 4, 4)
    finally:
        writer.stop()


def test_empty_submission_resolves_at_once(warehouse: Warehouse) -> None:
    writer = BatchWriter(warehouse)  # not started
    future = writer.submit(table())
    assert future.result(0) == WriteResult(0, 0, 0)
    assert writer.queued_rows == 0


def test_flush_waits_for_everything_submitted(writer: BatchWriter, warehouse: Warehouse) -> None:
    futures = [writer.submit(table(req(f"r{i:02d}"))) for i in range(20)]
    writer.flush(TIMEOUT)
    assert all(f.done() for f in futures)
    assert warehouse.cursor().execute("SELECT count(*) FROM requests").fetchone() == (20,)


def test_stop_commits_what_is_queued_then_refuses_work(warehouse: Warehouse) -> None:
    writer = BatchWriter(warehouse)
    futures = [writer.submit(table(req(f"r{i}"))) for i in range(5)]
    writer.start()
    writer.stop(TIMEOUT)
    assert [f.result(0).rows for f in futures] == [1, 1, 1, 1, 1]
    assert warehouse.cursor().execute("SELECT count(*) FROM requests").fetchone() == (5,)
    with pytest.raises(WriterStopped):
        writer.submit(table(req("late")))
    writer.flush(0.1)  # no thread: returns at once


def test_submissions_from_many_threads_are_all_stored(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    def produce(n: int) -> None:
        for i in range(10):
            writer.submit(table(req(f"t{n}-{i}"))).result(TIMEOUT)

    threads = [threading.Thread(target=produce, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert warehouse.cursor().execute("SELECT count(*) FROM requests").fetchone() == (40,)


# --- tool spans ------------------------------------------------------------------------------


def test_parent_and_child_in_one_submission(writer: BatchWriter, warehouse: Warehouse) -> None:
    send(writer, traces(llm_span(), tool_span("c000000000000001")))
    assert parent_row(warehouse) == ("tool_calls", "stop", 1, "ok")


def test_hand_built_parent_is_recounted_from_its_children_in_the_same_submission(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    parent = req("p", trace_id=TRACE, span_id=PARENT, finish_reason="stop", tool_calls=0)
    children = [
        {
            "trace_id": TRACE,
            "span_id": f"c00000000000000{i}",
            "parent_span_id": PARENT,
            "started_at": T0_US + i,
        }
        for i in (1, 2)
    ]
    writer.submit(table(parent), tool_spans_to_table(children)).result(TIMEOUT)
    assert warehouse.cursor().execute(
        "SELECT finish_reason, tool_calls FROM requests"
    ).fetchall() == [("tool_calls", 2)]


def test_child_before_parent_is_counted_when_the_parent_arrives(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    first = traces(tool_span("c000000000000001"))
    assert first.table.num_rows == 0
    send(writer, first)
    assert rows(warehouse) == []
    send(writer, traces(llm_span()))
    assert parent_row(warehouse) == ("tool_calls", "stop", 1, "ok")


def test_child_after_parent_updates_the_parent(writer: BatchWriter, warehouse: Warehouse) -> None:
    send(writer, traces(llm_span()))
    assert parent_row(warehouse) == ("stop", "stop", 0, "ok")
    send(writer, traces(tool_span("c000000000000001")))
    assert parent_row(warehouse) == ("tool_calls", "stop", 1, "ok")
    send(writer, traces(tool_span("c000000000000002", offset_ns=2_000_000)))
    assert parent_row(warehouse) == ("tool_calls", "stop", 2, "ok")


def test_resent_children_and_parent_do_not_double_count(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    send(writer, traces(llm_span(), tool_span("c000000000000001")))
    send(writer, traces(tool_span("c000000000000001")))
    send(writer, traces(llm_span(), tool_span("c000000000000001")))
    assert parent_row(warehouse) == ("tool_calls", "stop", 1, "ok")
    assert warehouse.cursor().execute("SELECT count(*) FROM tool_spans").fetchone() == (1,)
    assert warehouse.cursor().execute("SELECT count(*) FROM requests").fetchone() == (1,)


def test_gemini_stop_parent_becomes_tool_calls_when_a_child_arrives_later(
    writer: BatchWriter, warehouse: Warehouse
) -> None:
    send(writer, traces(llm_span(reason="STOP")))
    assert parent_row(warehouse) == ("stop", "STOP", 0, "ok")
    send(writer, traces(tool_span("c000000000000001")))
    assert parent_row(warehouse) == ("tool_calls", "STOP", 1, "ok")


def test_child_of_another_trace_is_not_counted(writer: BatchWriter, warehouse: Warehouse) -> None:
    send(writer, traces(llm_span()))
    other = tool_span("c000000000000001")
    other.trace_id = "f" * 32
    send(writer, traces(other))
    assert parent_row(warehouse) == ("stop", "stop", 0, "ok")


def test_error_parent_with_a_tool_child_does_not_depend_on_arrival_order(
    tmp_path: Path,
) -> None:
    stored = []
    for i, batches in enumerate(
        [
            [[llm_span(reason="", status_code=2), tool_span("c000000000000001")]],
            [[llm_span(reason="", status_code=2)], [tool_span("c000000000000001")]],
        ]
    ):
        wh = Warehouse.open(tmp_path / f"{i}.duckdb")
        writer = BatchWriter(wh)
        writer.start()
        for specs in batches:
            send(writer, traces(*specs))
        writer.stop()
        stored.append(parent_row(wh))
        wh.close()
    # tool calls present outrank the error status (reference/conventions.md §4)
    assert stored == [("tool_calls", None, 1, "error"), ("tool_calls", None, 1, "error")]
