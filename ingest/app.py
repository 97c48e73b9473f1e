"""The ingest HTTP API: OTLP/HTTP traces and logs, and gateway request logs, answered per the
OTLP spec.

A 2xx answer is sent only after the rows are committed (the writer resolves the future
after COMMIT), so acknowledged data survives a crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from ingest.otlp import PayloadError
from ingest.payloads import (
    DEFAULT_MAX_BODY_BYTES,
    JSON,
    PROTOBUF,
    BodyTooLarge,
    Prepared,
    UnsupportedMediaType,
    decompress,
    otlp_encoding,
    prepare_logs,
    prepare_request_logs,
    prepare_traces,
)
from ingest.writer import BatchWriter, QueueFull, WriterStopped

PROTOBUF_MEDIA = "application/x-protobuf"
JSON_MEDIA = "application/json"
GRPC_INVALID_ARGUMENT = 3
GRPC_RESOURCE_EXHAUSTED = 8
GRPC_UNAVAILABLE = 14


@dataclass(frozen=True, slots=True)
class IngestSettings:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    retry_after_seconds: int = 2


def _otlp_error(status: int, message: str, encoding: str, headers: dict | None = None) -> Response:
    """OTLP error answer: a google.rpc.Status in the request's encoding."""
    grpc_code = {
        413: GRPC_RESOURCE_EXHAUSTED,
        503: GRPC_UNAVAILABLE,
    }.get(status, GRPC_INVALID_ARGUMENT)
    if encoding == PROTOBUF:
        body = Status(code=grpc_code, message=message).SerializeToString()
        return Response(body, status, headers=headers, media_type=PROTOBUF_MEDIA)
    body = orjson.dumps({"code": grpc_code, "message": message})
    return Response(body, status, headers=headers, media_type=JSON_MEDIA)


def _trace_success(prepared: Prepared, encoding: str) -> Response:
    if encoding == PROTOBUF:
        answer = ExportTraceServiceResponse()
        if prepared.rejected:
            answer.partial_success.rejected_spans = prepared.rejected
            answer.partial_success.error_message = "; ".join(prepared.errors)
        return Response(answer.SerializeToString(), 200, media_type=PROTOBUF_MEDIA)
    payload: dict = {}
    if prepared.rejected:
        payload["partialSuccess"] = {
            "rejectedSpans": str(prepared.rejected),
            "errorMessage": "; ".join(prepared.errors),
        }
    return Response(orjson.dumps(payload), 200, media_type=JSON_MEDIA)


def _logs_success(prepared: Prepared, encoding: str) -> Response:
    if encoding == PROTOBUF:
        answer = ExportLogsServiceResponse()
        if prepared.rejected:
            answer.partial_success.rejected_log_records = prepared.rejected
            answer.partial_success.error_message = "; ".join(prepared.errors)
        return Response(answer.SerializeToString(), 200, media_type=PROTOBUF_MEDIA)
    payload: dict = {}
    if prepared.rejected:
        payload["partialSuccess"] = {
            "rejectedLogRecords": str(prepared.rejected),
            "errorMessage": "; ".join(prepared.errors),
        }
    return Response(orjson.dumps(payload), 200, media_type=JSON_MEDIA)


def create_app(
    writer: BatchWriter,
    settings: IngestSettings | None = None,
    *,
    health: Callable[[], dict] | None = None,
) -> FastAPI:
    settings = settings or IngestSettings()
    app = FastAPI(title="gatewatch ingest", docs_url=None, redoc_url=None)
    retry_headers = {"Retry-After": str(settings.retry_after_seconds)}

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise BodyTooLarge(f"body exceeds {settings.max_body_bytes} bytes")
        body = await request.body()
        return decompress(body, request.headers.get("content-encoding"), settings.max_body_bytes)

    async def commit(prepared: Prepared) -> None:
        await asyncio.wrap_future(writer.submit(prepared.table, prepared.tool_spans))

    @app.post("/v1/traces")
    async def export_traces(request: Request) -> Response:
        try:
            encoding = otlp_encoding(request.headers.get("content-type"))
        except UnsupportedMediaType as e:
            return _otlp_error(415, str(e), JSON)
        try:
            body = await read_body(request)
            prepared = prepare_traces(body, encoding)
            await commit(prepared)
        except BodyTooLarge as e:
            return _otlp_error(413, str(e), encoding)
        except UnsupportedMediaType as e:
            return _otlp_error(415, str(e), encoding)
        except PayloadError as e:
            return _otlp_error(400, str(e), encoding)
        except (QueueFull, WriterStopped) as e:
            return _otlp_error(503, f"overloaded, retry later: {e}", encoding, retry_headers)
        return _trace_success(prepared, encoding)

    @app.post("/v1/logs")
    async def export_logs(request: Request) -> Response:
        try:
            encoding = otlp_encoding(request.headers.get("content-type"))
        except UnsupportedMediaType as e:
            return _otlp_error(415, str(e), JSON)
        try:
            body = await read_body(request)
            prepared = prepare_logs(body, encoding)
            await commit(prepared)
        except BodyTooLarge as e:
            return _otlp_error(413, str(e), encoding)
        except UnsupportedMediaType as e:
            return _otlp_error(415, str(e), encoding)
        except PayloadError as e:
            return _otlp_error(400, str(e), encoding)
        except (QueueFull, WriterStopped) as e:
            return _otlp_error(503, f"overloaded, retry later: {e}", encoding, retry_headers)
        return _logs_success(prepared, encoding)

    @app.post("/v1/requests")
    async def request_logs(request: Request) -> Response:
        try:
            body = await read_body(request)
            prepared = prepare_request_logs(body)
            await commit(prepared)
        except BodyTooLarge as e:
            return _json_error(413, str(e))
        except UnsupportedMediaType as e:
            return _json_error(415, str(e))
        except PayloadError as e:
            return _json_error(400, str(e))
        except (QueueFull, WriterStopped) as e:
            return _json_error(503, f"overloaded, retry later: {e}", retry_headers)
        answer = {
            "accepted": prepared.table.num_rows,
            "rejected": [
                {"index": e.index, "field": e.field, "error": e.message}
                for e in prepared.record_errors
            ],
        }
        status = 400 if prepared.record_errors and not prepared.table.num_rows else 200
        return Response(orjson.dumps(answer), status, media_type=JSON_MEDIA)

    @app.get("/healthz")
    async def healthz() -> Response:
        body = {"status": "ok", "queued_rows": writer.queued_rows}
        if health is not None:
            body.update(health())
        return Response(orjson.dumps(body), 200, media_type=JSON_MEDIA)

    return app


def _json_error(status: int, message: str, headers: dict | None = None) -> Response:
    return Response(
        orjson.dumps({"error": message}), status, headers=headers, media_type=JSON_MEDIA
    )
