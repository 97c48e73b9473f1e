"""Decoding in worker processes answers exactly as decoding inline: same rows, same errors,
the user's aliases applied, limits counted, and a bound on the bodies waiting for a worker."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ingest import normalize
from ingest.app import IngestSettings, create_app
from ingest.limits import ValueLimits
from ingest.payloads import PROTOBUF
from ingest.prepare_pool import (
    InlinePreparer,
    PrepareJob,
    PrepareSaturated,
    ProcessPreparer,
    run_job,
)
from ingest.writer import BatchWriter
from tests.unit.test_ingest_api import LIMIT, PB, RESOURCE, SPANS, STORED, llm, stored
from tests.unit.test_otlp_decode import protobuf_body
from warehouse.db import Warehouse


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPreparer]:
    preparer = ProcessPreparer(1)
    yield preparer
    preparer.close()


def job(body: bytes, **changes: object) -> PrepareJob:
    fields: dict[str, object] = {
        "kind": "traces",
        "body": body,
        "content_encoding": None,
        "encoding": PROTOBUF,
        "tenant": "acme",
        "max_body_bytes": LIMIT,
        "limits": ValueLimits(),
    }
    return PrepareJob(**(fields | changes))  # type: ignore[arg-type]


def test_a_worker_prepares_the_rows_inline_preparing_gives(pool: ProcessPreparer) -> None:
    body = gzip.compress(protobuf_body((RESOURCE, SPANS)))
    inline = InlinePreparer().prepare_blocking(job(body, content_encoding="gzip"))
    worker = pool.prepare_blocking(job(body, content_encoding="gzip"))
    assert worker.table.drop(["ingested_at"]).equals(inline.table.drop(["ingested_at"]))
    assert worker.table.column("tenant").to_pylist() == ["acme", "acme"]
    assert (worker.received, worker.rejected) == (inline.received, inline.rejected) == (2, 0)


def test_limit_cuts_made_in_a_worker_are_counted(pool: ProcessPreparer) -> None:
    spans = [llm("a000000000000001", **{"user.id": "x" * 40})]
    prepared = pool.prepare_blocking(
        job(protobuf_body((RESOURCE, spans)), limits=ValueLimits(max_chars=16))
    )
    assert prepared.table.column("user_id").to_pylist() == [None]
    assert sum(prepared.warnings.values()) == 1


def test_errors_raised_in_a_worker_reach_the_caller(pool: ProcessPreparer) -> None:
    with pytest.raises(ValueError, match="protobuf ExportTraceServiceRequest"):
        pool.prepare_blocking(job(b"\xff\xff not protobuf"))
    huge = gzip.compress(b"\0" * (LIMIT + 1))
    with pytest.raises(ValueError, match="exceeds"):
        pool.prepare_blocking(job(huge, content_encoding="gzip"))


def test_bodies_beyond_the_byte_bound_are_refused_but_one_always_fits() -> None:
    preparer = ProcessPreparer(1, max_waiting=5, max_waiting_bytes=10)
    body = protobuf_body((RESOURCE, SPANS * 2000))
    try:
        first = preparer._submit(job(body, max_body_bytes=len(body)))  # larger than the bound
        with pytest.raises(PrepareSaturated, match="bytes"):
            preparer._submit(job(body, max_body_bytes=len(body)))
        first.result()
    finally:
        preparer.close()


def test_workers_map_with_the_aliases_the_owner_registered(restore_alias_tables: None) -> None:
    normalize.register_aliases(providers={"openai": "my-openai-proxy"})
    preparer = ProcessPreparer(1)
    try:
        prepared = preparer.prepare_blocking(job(protobuf_body((RESOURCE, SPANS))))
    finally:
        preparer.close()
    assert set(prepared.table.column("provider").to_pylist()) == {"my-openai-proxy"}


def test_bodies_beyond_the_bound_are_refused_at_once() -> None:
    preparer = ProcessPreparer(1, max_waiting=0)
    body = protobuf_body((RESOURCE, SPANS * 2000))
    try:
        first = preparer._submit(job(body, max_body_bytes=len(body)))
        with pytest.raises(PrepareSaturated):
            preparer._submit(job(body))
        first.result()
        preparer.prepare_blocking(job(body, max_body_bytes=len(body)))  # room again
    finally:
        preparer.close()


def test_the_api_through_a_worker_stores_and_answers_as_inline(
    pool: ProcessPreparer, warehouse: Warehouse, writer: BatchWriter
) -> None:
    client = TestClient(create_app(writer, IngestSettings(max_body_bytes=LIMIT), preparer=pool))
    ok = client.post("/v1/traces", content=protobuf_body((RESOURCE, SPANS)), headers=PB)
    assert ok.status_code == 200
    assert stored(warehouse) == STORED
    bad = client.post("/v1/traces", content=b"\xff\xff", headers=PB)
    assert bad.status_code == 400


def test_a_saturated_pool_answers_503_with_retry_after(writer: BatchWriter) -> None:
    class Saturated(InlinePreparer):
        async def prepare(self, job: PrepareJob) -> object:
            raise PrepareSaturated("6 bodies are being decoded")

    client = TestClient(
        create_app(writer, IngestSettings(max_body_bytes=LIMIT), preparer=Saturated())
    )
    answer = client.post("/v1/traces", content=protobuf_body((RESOURCE, SPANS)), headers=PB)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "2"


def test_run_job_reads_request_logs_too() -> None:
    body = b'{"request_id": "r1", "started_at": "2026-01-01T00:00:00Z", "provider": "openai"}'
    prepared = run_job(job(body, kind="requests", encoding="json"))
    assert prepared.table.column("request_id").to_pylist() == ["r1"]
