"""The OTLP/gRPC receiver in-process on a free port, fed through real gRPC channels, against a
real warehouse and a started BatchWriter."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.logs.v1.logs_service_pb2_grpc import LogsServiceStub
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

from ingest.app import IngestSettings, create_app
from ingest.auth import parse_tokens
from ingest.grpc_server import RETRY_INFO_KEY, STATUS_DETAILS_KEY, GrpcReceiver
from ingest.grpc_server import start_grpc_receiver as start_receiver
from ingest.metrics import IngestMetrics
from ingest.payloads import PROTOBUF, prepare_traces
from ingest.writer import BatchWriter
from tests.unit.test_ingest_api import RESOURCE, SPANS, STORED, llm, stored
from tests.unit.test_otlp_decode import protobuf_body
from tests.unit.test_otlp_logs import MERGED, details, logs_protobuf_body, span, stored_rows
from tests.unit.test_otlp_logs import RESOURCE as LOG_RESOURCE
from warehouse.db import Warehouse

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
LIMIT = 64 * 1024

Start = Callable[..., GrpcReceiver]


@pytest.fixture
def start(writer: BatchWriter) -> Iterator[Start]:
    """Start a receiver on a port the kernel picks; every one started is stopped after the test."""
    started: list[GrpcReceiver] = []

    def start(
        settings: IngestSettings | None = None,
        metrics: IngestMetrics | None = None,
        on: BatchWriter = writer,
    ) -> GrpcReceiver:
        receiver = start_receiver(
            on,
            settings or IngestSettings(max_body_bytes=LIMIT),
            metrics or IngestMetrics(on),
            host="127.0.0.1",
            port=0,
        )
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop(grace_seconds=1)


def channel(receiver: GrpcReceiver, **options: Any) -> grpc.Channel:
    return grpc.insecure_channel(f"127.0.0.1:{receiver.port}", **options)


def export_traces(receiver: GrpcReceiver, body: bytes, **call: Any) -> ExportTraceServiceResponse:
    with channel(receiver) as ch:
        request = ExportTraceServiceRequest.FromString(body)
        return TraceServiceStub(ch).Export(request, timeout=10, **call)


def refusal(export: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        export()
    return raised.value


def all_rows(warehouse: Warehouse) -> list[list[dict[str, Any]]]:
    """Every stored request column but the storage time, and every tool span, in key order."""
    cursor = warehouse.cursor()
    return [
        cursor.sql(query).to_arrow_table().to_pylist()
        for query in (
            "SELECT * EXCLUDE (ingested_at) FROM requests ORDER BY request_id",
            "SELECT * FROM tool_spans ORDER BY trace_id, span_id",
        )
    ]


def test_traces_are_stored_exactly_as_the_same_bytes_over_http(
    start: Start, warehouse: Warehouse, tmp_path: Path
) -> None:
    parent = SPANS[0]
    child = llm("c000000000000001", name="execute_tool lookup")
    child.parent_span_id = parent.span_id
    child.attributes = {"gen_ai.operation.name": "execute_tool"}
    body = protobuf_body((RESOURCE, [*SPANS, child]))
    answer = export_traces(start(), body)
    assert not answer.HasField("partial_success")
    # The path every OTLP/HTTP protobuf body takes, into a warehouse of its own.
    http = Warehouse.open(tmp_path / "http.duckdb")
    http_writer = BatchWriter(http)
    http_writer.start()
    try:
        prepared = prepare_traces(body, PROTOBUF)
        http_writer.submit(prepared.table, prepared.tool_spans).result(10)
        requests, tool_spans = all_rows(warehouse)
        assert [requests, tool_spans] == all_rows(http)
        assert [(r["request_id"], r["tool_calls"]) for r in requests] == [
            (STORED[0][0], 1),
            (STORED[1][0], 0),
        ]
        assert len(tool_spans) == 1
    finally:
        http_writer.stop()
        http.close()


def test_gzip_compressed_exports_are_stored(start: Start, warehouse: Warehouse) -> None:
    receiver = start()
    request = ExportTraceServiceRequest.FromString(protobuf_body((RESOURCE, SPANS)))
    with channel(receiver, compression=grpc.Compression.Gzip) as ch:
        assert not TraceServiceStub(ch).Export(request, timeout=10).HasField("partial_success")
    assert stored(warehouse) == STORED


def test_a_bad_span_is_rejected_alone_as_partial_success(
    start: Start, warehouse: Warehouse
) -> None:
    bad = llm("a0", name="short")
    answer = export_traces(start(), protobuf_body((RESOURCE, [SPANS[0], bad, SPANS[1]])))
    assert answer.partial_success.rejected_spans == 1
    assert answer.partial_success.error_message == (
        "span 'short': traceId/spanId/parentSpanId must be 16/8/8 bytes"
    )
    assert stored(warehouse) == STORED


def test_an_empty_export_succeeds(start: Start, warehouse: Warehouse) -> None:
    assert not export_traces(start(), b"").HasField("partial_success")
    assert stored(warehouse) == []


def test_undecodable_bytes_are_invalid_argument_and_counted(
    start: Start, writer: BatchWriter, warehouse: Warehouse
) -> None:
    metrics = IngestMetrics(writer)
    receiver = start(metrics=metrics)
    with channel(receiver) as ch:
        raw = ch.unary_unary(TRACE_EXPORT)  # bytes as they are, no serializer
        error = refusal(lambda: raw(b"\xff\xff\xff not protobuf", timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details()
    assert stored(warehouse) == []
    sample = ("gatewatch_ingest_rejected_requests_total", "traces", "decode_error")
    assert rejected(metrics, *sample) == 1


def rejected(metrics: IngestMetrics, name: str, endpoint: str, reason: str) -> float | None:
    return metrics.registry.get_sample_value(name, {"endpoint": endpoint, "reason": reason})


def test_a_token_is_required_and_its_tenant_goes_on_the_rows(
    start: Start, warehouse: Warehouse
) -> None:
    receiver = start(IngestSettings(tokens=parse_tokens("acme:s3cret")))
    body = protobuf_body((RESOURCE, SPANS))
    for metadata in [(), (("authorization", "Bearer wrong"),), (("authorization", "s3cret"),)]:
        error = refusal(lambda m=metadata: export_traces(receiver, body, metadata=m))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert stored(warehouse) == []
    export_traces(receiver, body, metadata=(("authorization", "Bearer s3cret"),))
    tenants = warehouse.cursor().execute("SELECT DISTINCT tenant FROM requests").fetchall()
    assert tenants == [("acme",)]
    assert stored(warehouse) == STORED


def test_a_message_over_the_limit_is_resource_exhausted_even_when_compressed(
    start: Start, warehouse: Warehouse
) -> None:
    limit = 4096
    receiver = start(IngestSettings(max_body_bytes=limit))
    padded = llm("a000000000000003", **{"padding": "x" * limit})
    request = ExportTraceServiceRequest.FromString(protobuf_body((RESOURCE, [padded])))
    assert len(gzip.compress(request.SerializeToString())) < limit
    for compression in (grpc.Compression.NoCompression, grpc.Compression.Gzip):
        with channel(receiver, compression=compression) as ch:
            error = refusal(lambda ch=ch: TraceServiceStub(ch).Export(request, timeout=10))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert stored(warehouse) == []


def test_a_stopped_writer_answers_unavailable_with_a_retry_delay(
    start: Start, warehouse: Warehouse
) -> None:
    stopped = BatchWriter(warehouse)
    stopped.start()
    stopped.stop()
    receiver = start(IngestSettings(retry_after_seconds=7), on=stopped)
    body = protobuf_body((RESOURCE, SPANS))
    error = refusal(lambda: export_traces(receiver, body))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    trailers = dict(error.trailing_metadata())
    assert RetryInfo.FromString(trailers[RETRY_INFO_KEY]).retry_delay.seconds == 7
    status = Status.FromString(trailers[STATUS_DETAILS_KEY])
    retry = RetryInfo()
    assert (status.code, status.message) == (grpc.StatusCode.UNAVAILABLE.value[0], error.details())
    assert status.details[0].Unpack(retry) and retry.retry_delay.seconds == 7


def test_a_log_export_merges_into_its_span_row(start: Start, warehouse: Warehouse) -> None:
    receiver = start()
    export_traces(receiver, protobuf_body((LOG_RESOURCE, [span()])))
    request = ExportLogsServiceRequest.FromString(logs_protobuf_body((LOG_RESOURCE, [details()])))
    with channel(receiver) as ch:
        answer: ExportLogsServiceResponse = LogsServiceStub(ch).Export(request, timeout=10)
    assert not answer.HasField("partial_success")
    assert stored_rows(warehouse) == [MERGED]


def test_rejected_log_records_are_reported_as_partial_success(
    start: Start, warehouse: Warehouse
) -> None:
    request = ExportLogsServiceRequest.FromString(logs_protobuf_body((LOG_RESOURCE, [details()])))
    request.resource_logs[0].scope_logs[0].log_records[0].trace_id = b"\x01"
    with channel(start()) as ch:
        answer = LogsServiceStub(ch).Export(request, timeout=10)
    assert answer.partial_success.rejected_log_records == 1
    assert answer.partial_success.error_message
    assert stored_rows(warehouse) == []


def test_grpc_exports_are_counted_on_the_http_apis_metrics(
    start: Start, writer: BatchWriter
) -> None:
    metrics = IngestMetrics(writer)
    client = TestClient(create_app(writer, metrics=metrics))
    export_traces(start(metrics=metrics), protobuf_body((RESOURCE, [*SPANS, llm("a0")])))
    text = client.get("/metrics").text
    assert 'gatewatch_ingest_received_total{endpoint="traces"} 3.0' in text
    assert 'gatewatch_ingest_rejected_records_total{endpoint="traces"} 1.0' in text
    assert "gatewatch_ingest_stored_rows_total 2.0" in text
