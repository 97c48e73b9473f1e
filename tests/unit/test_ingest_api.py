"""The ingest HTTP API (create_app) against a real warehouse and a started BatchWriter."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from ingest.app import IngestSettings, create_app
from ingest.record import records_to_table
from ingest.writer import BatchWriter
from tests.unit.test_otlp_decode import (
    KIND_INTERNAL,
    START_NS,
    TRACE,
    SpanSpec,
    json_body,
    protobuf_body,
    to_json,
)
from warehouse.db import Warehouse

PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
LIMIT = 64 * 1024
RESOURCE = {"service.name": "billing-bot"}
PARENT = "b000000000000001"


@pytest.fixture
def client(writer: BatchWriter) -> TestClient:
    return TestClient(create_app(writer, IngestSettings(max_body_bytes=LIMIT)))


def llm(span_id: str, name: str = "chat gpt-4o", **attributes: Any) -> SpanSpec:
    return SpanSpec(
        span_id=span_id,
        name=name,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 20,
            **attributes,
        },
    )


SPANS = [llm("a000000000000001"), llm("a000000000000002", **{"gen_ai.response.id": "chatcmpl-2"})]
STORED = [
    (f"{TRACE}:a000000000000001", "openai", "openai/gpt-4o", "billing-bot", "stop", 100, 20),
    ("chatcmpl-2", "openai", "openai/gpt-4o", "billing-bot", "stop", 100, 20),
]


def stored(warehouse: Warehouse) -> list[tuple[Any, ...]]:
    return (
        warehouse.cursor()
        .execute(
            "SELECT request_id, provider, model, app, finish_reason, input_tokens, output_tokens "
            "FROM requests ORDER BY request_id"
        )
        .fetchall()
    )


def count(warehouse: Warehouse) -> int:
    return warehouse.cursor().execute("SELECT count(*) FROM requests").fetchone()[0]


def pb_answer(body: bytes) -> ExportTraceServiceResponse:
    return ExportTraceServiceResponse.FromString(body)


# --- /v1/traces: success ---------------------------------------------------------------------


def test_protobuf_body_is_stored_and_answered_in_protobuf(
    client: TestClient, warehouse: Warehouse
) -> None:
    response = client.post("/v1/traces", content=protobuf_body((RESOURCE, SPANS)), headers=PB)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    assert not pb_answer(response.content).HasField("partial_success")
    assert stored(warehouse) == STORED


def test_json_body_is_stored_and_answered_in_json(client: TestClient, warehouse: Warehouse) -> None:
    response = client.post("/v1/traces", content=json_body((RESOURCE, SPANS)), headers=JS)
    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["content-type"] == "application/json"
    assert stored(warehouse) == STORED


def test_content_type_parameters_are_ignored(client: TestClient, warehouse: Warehouse) -> None:
    response = client.post(
        "/v1/traces",
        content=json_body((RESOURCE, SPANS)),
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert response.status_code == 200
    assert count(warehouse) == 2


def test_resending_the_same_body_adds_nothing(client: TestClient, warehouse: Warehouse) -> None:
    body = protobuf_body((RESOURCE, SPANS))
    for _ in range(2):
        assert client.post("/v1/traces", content=body, headers=PB).status_code == 200
    assert client.post("/v1/traces", content=json_body((RESOURCE, SPANS)), headers=JS).is_success
    assert stored(warehouse) == STORED


def test_tool_span_in_a_later_export_updates_its_parent(
    client: TestClient, warehouse: Warehouse
) -> None:
    parent = llm(PARENT)
    child = SpanSpec(
        span_id="c000000000000001",
        parent_span_id=PARENT,
        kind=KIND_INTERNAL,
        name="execute_tool lookup",
        start_ns=START_NS + 1000,
        attributes={"gen_ai.operation.name": "execute_tool"},
    )
    assert client.post("/v1/traces", content=json_body((RESOURCE, [parent])), headers=JS).is_success
    assert client.post("/v1/traces", content=protobuf_body(({}, [child])), headers=PB).is_success
    row = warehouse.cursor().execute("SELECT finish_reason, tool_calls FROM requests").fetchall()
    assert row == [("tool_calls", 1)]


def test_json_partial_success_reports_rejected_spans_and_stores_the_rest(
    client: TestClient, warehouse: Warehouse
) -> None:
    body = to_json((RESOURCE, [SPANS[0], llm("a0000000000000ff", name="bad"), SPANS[1]]))
    body["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["spanId"] = "nothex!!nothex!!"
    response = client.post("/v1/traces", content=orjson.dumps(body), headers=JS)
    assert response.status_code == 200
    assert response.json() == {
        "partialSuccess": {
            "rejectedSpans": "1",
            "errorMessage": "span 'bad': spanId is not hex: 'nothex!!nothex!!'",
        }
    }
    assert stored(warehouse) == STORED


def test_protobuf_partial_success_reports_rejected_spans_and_stores_the_rest(
    client: TestClient, warehouse: Warehouse
) -> None:
    bad = llm("a0", name="short")
    response = client.post(
        "/v1/traces", content=protobuf_body((RESOURCE, [SPANS[0], bad, SPANS[1]])), headers=PB
    )
    assert response.status_code == 200
    answer = pb_answer(response.content)
    assert answer.partial_success.rejected_spans == 1
    assert answer.partial_success.error_message == (
        "span 'short': traceId/spanId/parentSpanId must be 16/8/8 bytes"
    )
    assert stored(warehouse) == STORED


@pytest.mark.parametrize(
    ("body", "headers", "content"),
    [
        (b"", JS, b"{}"),
        (b"{}", JS, b"{}"),
        (b"", PB, b""),
        (b"", {**JS, "X-Test-Connection": "true"}, b"{}"),
    ],
)
def test_empty_requests_succeed(
    client: TestClient,
    warehouse: Warehouse,
    body: bytes,
    headers: dict[str, str],
    content: bytes,
) -> None:
    response = client.post("/v1/traces", content=body, headers=headers)
    assert (response.status_code, response.content) == (200, content)
    assert count(warehouse) == 0


def test_non_llm_spans_are_accepted_but_not_stored(
    client: TestClient, warehouse: Warehouse
) -> None:
    agent = SpanSpec(
        span_id="a000000000000009",
        name="invoke_agent planner",
        attributes={"gen_ai.operation.name": "invoke_agent"},
    )
    response = client.post("/v1/traces", content=json_body((RESOURCE, [agent])), headers=JS)
    assert (response.status_code, response.json()) == (200, {})
    assert count(warehouse) == 0


# --- /v1/traces: compression and limits ------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "GZIP", "x-gzip"])
def test_gzip_body_is_decompressed_and_stored(
    client: TestClient, warehouse: Warehouse, encoding: str
) -> None:
    response = client.post(
        "/v1/traces",
        content=gzip.compress(protobuf_body((RESOURCE, SPANS))),
        headers={**PB, "Content-Encoding": encoding},
    )
    assert response.status_code == 200
    assert stored(warehouse) == STORED


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\x1f\x8bnot really gzip", "body is not valid gzip: "),
        (b"plain text", "body is not valid gzip: "),
        (gzip.compress(b'{"resourceSpans": []}')[:-12], "gzip body is truncated"),
    ],
)
def test_corrupt_gzip_is_bad_data(
    client: TestClient, warehouse: Warehouse, body: bytes, message: str
) -> None:
    response = client.post("/v1/traces", content=body, headers={**JS, "Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert response.json()["message"].startswith(message)
    assert count(warehouse) == 0


def test_gzip_bomb_over_the_limit_after_decompression_is_413(
    client: TestClient, warehouse: Warehouse
) -> None:
    # A valid OTLP body whose decompressed size exceeds the limit, though its gzip is tiny.
    spans = [llm(f"a{i:015x}", **{"padding": "x" * 2000}) for i in range(60)]
    raw = json_body((RESOURCE, spans))
    bomb = gzip.compress(raw)
    assert len(bomb) < LIMIT < len(raw)
    response = client.post("/v1/traces", content=bomb, headers={**JS, "Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert response.json() == {
        "code": 8,
        "message": f"body exceeds {LIMIT} bytes after decompression",
    }
    assert count(warehouse) == 0


def test_gzip_bomb_answer_is_a_protobuf_status_for_protobuf_requests(
    client: TestClient, warehouse: Warehouse
) -> None:
    bomb = gzip.compress(b"\x00" * (LIMIT * 16))
    response = client.post("/v1/traces", content=bomb, headers={**PB, "Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/x-protobuf"
    assert Status.FromString(response.content) == Status(
        code=8, message=f"body exceeds {LIMIT} bytes after decompression"
    )


def test_body_at_the_limit_is_accepted_and_one_byte_more_is_not(writer: BatchWriter) -> None:
    body = json_body((RESOURCE, SPANS))
    exact = TestClient(create_app(writer, IngestSettings(max_body_bytes=len(body))))
    assert exact.post("/v1/traces", content=body, headers=JS).status_code == 200
    short = TestClient(create_app(writer, IngestSettings(max_body_bytes=len(body) - 1)))
    response = short.post("/v1/traces", content=body, headers=JS)
    assert response.status_code == 413
    assert response.json() == {"code": 8, "message": f"body exceeds {len(body) - 1} bytes"}


# --- /v1/traces: bad requests ------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/protobuf", None])
def test_wrong_content_type_is_415(client: TestClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/v1/traces", content=b"{}", headers=headers)
    assert response.status_code == 415
    media = content_type or "(none)"
    assert response.json() == {
        "code": 3,
        "message": f"Content-Type {media!r} is not supported; "
        "use application/x-protobuf or application/json",
    }


def test_unsupported_content_encoding_is_415(client: TestClient) -> None:
    response = client.post("/v1/traces", content=b"{}", headers={**PB, "Content-Encoding": "br"})
    assert response.status_code == 415
    assert Status.FromString(response.content).message == (
        "Content-Encoding 'br' is not supported; use gzip"
    )


def test_undecodable_protobuf_is_400_with_a_google_rpc_status(
    client: TestClient, warehouse: Warehouse
) -> None:
    response = client.post("/v1/traces", content=b"\x0a\xff\x01garbage", headers=PB)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/x-protobuf"
    status = Status.FromString(response.content)
    assert status.code == 3
    assert status.message.startswith("body is not a protobuf ExportTraceServiceRequest: ")
    assert count(warehouse) == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"resourceSpans": [', "body is not valid JSON: "),
        (b"[]", "body must be a JSON object (ExportTraceServiceRequest)"),
        (b'{"resourceSpans": "x"}', "resourceSpans must be an array"),
    ],
)
def test_invalid_json_is_400_with_a_message(client: TestClient, body: bytes, message: str) -> None:
    response = client.post("/v1/traces", content=body, headers=JS)
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert response.json()["message"].startswith(message)


def test_json_resource_that_is_not_an_object_is_400(client: TestClient) -> None:
    body = b'{"resourceSpans": [{"resource": [], "scopeSpans": []}]}'
    response = client.post("/v1/traces", content=body, headers=JS)
    assert (response.status_code, response.json()) == (
        400,
        {"code": 3, "message": "resourceSpans[].resource must be an object"},
    )


# --- overload --------------------------------------------------------------------------------


@pytest.fixture
def full_client(warehouse: Warehouse) -> Iterator[TestClient]:
    """An app whose writer is not running and whose queue is already at its bound."""
    writer = BatchWriter(warehouse, max_queued_rows=1)
    writer.submit(records_to_table([{"request_id": "queued", "status": "ok"}]))
    yield TestClient(create_app(writer, IngestSettings(retry_after_seconds=7)))


def test_queue_full_is_503_with_retry_after_in_protobuf(
    full_client: TestClient, warehouse: Warehouse
) -> None:
    response = full_client.post("/v1/traces", content=protobuf_body((RESOURCE, SPANS)), headers=PB)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert Status.FromString(response.content) == Status(
        code=14, message="overloaded, retry later: 1 rows are waiting to be written"
    )
    assert count(warehouse) == 0


def test_queue_full_is_503_with_retry_after_in_json(full_client: TestClient) -> None:
    response = full_client.post("/v1/traces", content=json_body((RESOURCE, SPANS)), headers=JS)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json() == {
        "code": 14,
        "message": "overloaded, retry later: 1 rows are waiting to be written",
    }


def test_queue_full_on_request_logs_is_503_with_retry_after(full_client: TestClient) -> None:
    body = orjson.dumps({"request_id": "r1", "started_at": "2025-11-03T09:00:00Z"})
    response = full_client.post("/v1/requests", content=body)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json() == {"error": "overloaded, retry later: 1 rows are waiting to be written"}


def test_stopped_writer_is_503(warehouse: Warehouse) -> None:
    writer = BatchWriter(warehouse)
    writer.stop()
    client = TestClient(create_app(writer))
    response = client.post("/v1/traces", content=json_body((RESOURCE, SPANS)), headers=JS)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"


# --- /v1/requests ----------------------------------------------------------------------------


def canonical(request_id: str, **fields: Any) -> bytes:
    return orjson.dumps({"request_id": request_id, "started_at": "2025-11-03T09:00:00Z", **fields})


def request_ids(warehouse: Warehouse) -> list[str]:
    rows = warehouse.cursor().execute("SELECT request_id FROM requests ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def test_request_log_jsonl_with_a_broken_line_stores_the_rest(
    client: TestClient, warehouse: Warehouse
) -> None:
    body = b"\n".join(
        [
            canonical("r0"),
            b'{"request_id": "r1", ',
            canonical("r2", started_at="yesterday"),
            canonical("r3"),
        ]
    )
    response = client.post("/v1/requests", content=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 2
    assert [(e["index"], e["field"]) for e in answer["rejected"]] == [(1, None), (2, "started_at")]
    assert answer["rejected"][0]["error"].startswith("record 1: not valid JSON: ")
    assert answer["rejected"][1]["error"] == "record 2: started_at: not a timestamp: 'yesterday'"
    assert request_ids(warehouse) == ["r0", "r3"]


def test_request_log_array_and_gzip(client: TestClient, warehouse: Warehouse) -> None:
    body = b"[" + canonical("a") + b"," + canonical("b") + b"]"
    response = client.post(
        "/v1/requests", content=gzip.compress(body), headers={"Content-Encoding": "gzip"}
    )
    assert (response.status_code, response.json()) == (200, {"accepted": 2, "rejected": []})
    assert request_ids(warehouse) == ["a", "b"]


def test_request_logs_all_bad_is_400(client: TestClient, warehouse: Warehouse) -> None:
    response = client.post("/v1/requests", content=b'{"foo": 1}\n[1,\n')
    assert response.status_code == 400
    answer = response.json()
    assert answer["accepted"] == 0
    assert [e["index"] for e in answer["rejected"]] == [0, 1]
    assert answer["rejected"][0]["error"].startswith("record 0: unrecognised record shape")
    assert count(warehouse) == 0


def test_request_logs_empty_body_is_200(client: TestClient) -> None:
    response = client.post("/v1/requests", content=b"")
    assert (response.status_code, response.json()) == (200, {"accepted": 0, "rejected": []})


def test_request_logs_over_the_limit_is_413(client: TestClient, warehouse: Warehouse) -> None:
    bomb = gzip.compress(b" " * (LIMIT + 1))
    response = client.post("/v1/requests", content=bomb, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert response.json() == {"error": f"body exceeds {LIMIT} bytes after decompression"}


def test_request_logs_corrupt_gzip_is_400(client: TestClient) -> None:
    response = client.post(
        "/v1/requests", content=b"\x1f\x8b\x08garbage", headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("body is not valid gzip: ")


# --- /healthz --------------------------------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok", "queued_rows": 0}


def test_healthz_includes_the_health_callback(writer: BatchWriter) -> None:
    client = TestClient(create_app(writer, health=lambda: {"db": "t.duckdb", "status": "ok"}))
    assert client.get("/healthz").json() == {"status": "ok", "queued_rows": 0, "db": "t.duckdb"}
