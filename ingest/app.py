"""The ingest HTTP API: OTLP/HTTP traces and logs, and gateway request logs, answered per the
OTLP spec.

A 2xx answer is sent only after the rows are committed (the writer resolves the future
after COMMIT), so acknowledged data survives a crash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from ingest.auth import Tenant, TokenTable, Unauthorized
from ingest.limits import ValueLimits
from ingest.metrics import (
    DECODE_ERROR,
    MEDIA_TYPE,
    OVERLOADED,
    TOO_LARGE,
    UNAUTHORIZED,
    UNSUPPORTED_MEDIA,
    WRITE_FAILED,
    IngestMetrics,
)
from ingest.otlp import PayloadError
from ingest.payloads import (
    DEFAULT_MAX_BODY_BYTES,
    JSON,
    PROTOBUF,
    BodyTooLarge,
    Prepared,
    UnsupportedMediaType,
    otlp_encoding,
)
from ingest.prepare_pool import (
    InlinePreparer,
    Kind,
    PrepareJob,
    Preparer,
    PrepareSaturated,
)
from ingest.writer import BatchWriter, QueueFull, WriterStopped

log = logging.getLogger(__name__)

PROTOBUF_MEDIA = "application/x-protobuf"
JSON_MEDIA = "application/json"
GRPC_INVALID_ARGUMENT = 3
GRPC_RESOURCE_EXHAUSTED = 8
GRPC_UNAVAILABLE = 14
GRPC_UNAUTHENTICATED = 16
# Routes that answer errors as {"error": message} rather than a google.rpc.Status.
PLAIN_JSON_ROUTES = frozenset({"/v1/requests"})

ErrorAnswer = Callable[..., Response]  # (status, message, headers=None) -> Response


@dataclass(frozen=True, slots=True)
class IngestSettings:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    retry_after_seconds: int = 2
    value_limits: ValueLimits = ValueLimits()
    tokens: TokenTable | None = None  # None: no auth


def _otlp_error(status: int, message: str, encoding: str, headers: dict | None = None) -> Response:
    """OTLP error answer: a google.rpc.Status in the request's encoding."""
    grpc_code = {
        401: GRPC_UNAUTHENTICATED,
        413: GRPC_RESOURCE_EXHAUSTED,
        503: GRPC_UNAVAILABLE,
    }.get(status, GRPC_INVALID_ARGUMENT)
    if encoding == PROTOBUF:
        body = Status(code=grpc_code, message=message).SerializeToString()
        return Response(body, status, headers=headers, media_type=PROTOBUF_MEDIA)
    body = orjson.dumps({"code": grpc_code, "message": message})
    return Response(body, status, headers=headers, media_type=JSON_MEDIA)


@dataclass(frozen=True, slots=True)
class ExportSignal:
    """How an OTLP signal's export answer is spelled."""

    response: type[ExportTraceServiceResponse] | type[ExportLogsServiceResponse]
    rejected_field: str  # protobuf field of partial_success
    rejected_json: str  # its OTLP JSON name


TRACES = ExportSignal(ExportTraceServiceResponse, "rejected_spans", "rejectedSpans")
LOGS = ExportSignal(ExportLogsServiceResponse, "rejected_log_records", "rejectedLogRecords")


def export_response(
    prepared: Prepared, signal: ExportSignal
) -> ExportTraceServiceResponse | ExportLogsServiceResponse:
    """The Export*ServiceResponse, with `partial_success` set only when records were rejected
    (OTLP/HTTP and OTLP/gRPC answer alike)."""
    answer = signal.response()
    if prepared.rejected:
        setattr(answer.partial_success, signal.rejected_field, prepared.rejected)
        answer.partial_success.error_message = "; ".join(prepared.errors)
    return answer


def _export_success(prepared: Prepared, encoding: str, signal: ExportSignal) -> Response:
    """200 with `partial_success` when some records were rejected, in the request's encoding."""
    if encoding == PROTOBUF:
        answer = export_response(prepared, signal)
        return Response(answer.SerializeToString(), 200, media_type=PROTOBUF_MEDIA)
    payload: dict = {}
    if prepared.rejected:
        payload["partialSuccess"] = {
            signal.rejected_json: str(prepared.rejected),
            "errorMessage": "; ".join(prepared.errors),
        }
    return Response(orjson.dumps(payload), 200, media_type=JSON_MEDIA)


def create_app(
    writer: BatchWriter,
    settings: IngestSettings | None = None,
    *,
    health: Callable[[], dict] | None = None,
    metrics: IngestMetrics | None = None,  # given when another receiver shares /metrics
    preparer: Preparer | None = None,  # where bodies are decoded; default: inline
) -> FastAPI:
    settings = settings or IngestSettings()
    preparer = preparer or InlinePreparer()
    app = FastAPI(title="gatewatch ingest", docs_url=None, redoc_url=None)
    app.state.ingest_tokens = settings.tokens  # read by the Tenant dependency
    metrics = metrics or IngestMetrics(writer)
    retry_headers = {"Retry-After": str(settings.retry_after_seconds)}

    def refuse(request: Request, reason: str, answer: Response) -> Response:
        metrics.refused(_endpoint(request), reason)
        return answer

    async def read_job(
        request: Request, kind: Kind, encoding: str, tenant: str | None
    ) -> PrepareJob:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise BodyTooLarge(f"body exceeds {settings.max_body_bytes} bytes")
        return PrepareJob(
            kind=kind,
            body=await request.body(),
            content_encoding=request.headers.get("content-encoding"),
            encoding=encoding,
            tenant=tenant,
            max_body_bytes=settings.max_body_bytes,
            limits=settings.value_limits,
        )

    async def ingest(
        request: Request, kind: Kind, encoding: str, tenant: str | None, error: ErrorAnswer
    ) -> Prepared | Response:
        """Read, decode, map and commit one body; an error answer if any step refuses it."""
        try:
            prepared = await preparer.prepare(await read_job(request, kind, encoding, tenant))
        except PrepareSaturated as e:
            message = f"overloaded, retry later: {e}"
            return refuse(request, OVERLOADED, error(503, message, headers=retry_headers))
        except BodyTooLarge as e:
            return refuse(request, TOO_LARGE, error(413, str(e)))
        except UnsupportedMediaType as e:
            return refuse(request, UNSUPPORTED_MEDIA, error(415, str(e)))
        except PayloadError as e:
            return refuse(request, DECODE_ERROR, error(400, str(e)))
        except Exception as e:  # a body no check foresaw costs itself only, never a 500
            log.exception("%s: reading the body failed", request.url.path)
            message = f"the body could not be decoded and mapped: {type(e).__name__}: {e}"
            return refuse(request, DECODE_ERROR, error(400, message))
        try:
            await asyncio.wrap_future(writer.submit(prepared.table, prepared.tool_spans))
        except (QueueFull, WriterStopped) as e:
            message = f"overloaded, retry later: {e}"
            return refuse(request, OVERLOADED, error(503, message, headers=retry_headers))
        except Exception as e:  # the writer reported a failed commit for these rows
            log.exception("%s: commit failed", request.url.path)
            message = f"the write failed, retry later: {type(e).__name__}: {e}"
            return refuse(request, WRITE_FAILED, error(503, message, headers=retry_headers))
        metrics.accepted(_endpoint(request), prepared)
        return prepared

    @app.exception_handler(Unauthorized)
    async def unauthorized(request: Request, e: Unauthorized) -> Response:
        headers = {"WWW-Authenticate": "Bearer"}
        if request.url.path in PLAIN_JSON_ROUTES:
            answer = _json_error(401, str(e), headers)
        else:
            encoding = _answer_encoding(request.headers.get("content-type"))
            answer = _otlp_error(401, str(e), encoding, headers)
        return refuse(request, UNAUTHORIZED, answer)

    async def export_otlp(
        request: Request, kind: Kind, tenant: str | None, signal: ExportSignal
    ) -> Response:
        """One OTLP export (traces or logs), answered in the request's own encoding."""
        try:
            encoding = otlp_encoding(request.headers.get("content-type"))
        except UnsupportedMediaType as e:
            return refuse(request, UNSUPPORTED_MEDIA, _otlp_error(415, str(e), JSON))
        outcome = await ingest(
            request, kind, encoding, tenant, partial(_otlp_error, encoding=encoding)
        )
        if isinstance(outcome, Response):
            return outcome
        return _export_success(outcome, encoding, signal)

    @app.post("/v1/traces")
    async def export_traces(request: Request, tenant: Tenant) -> Response:
        return await export_otlp(request, "traces", tenant, TRACES)

    @app.post("/v1/logs")
    async def export_logs(request: Request, tenant: Tenant) -> Response:
        return await export_otlp(request, "logs", tenant, LOGS)

    @app.post("/v1/requests")
    async def request_logs(request: Request, tenant: Tenant) -> Response:
        outcome = await ingest(request, "requests", JSON, tenant, _json_error)
        if isinstance(outcome, Response):
            return outcome
        answer = {
            "accepted": outcome.table.num_rows,
            "rejected": [
                {"index": e.index, "field": e.field, "error": e.message}
                for e in outcome.record_errors
            ],
        }
        status = 400 if outcome.record_errors and not outcome.table.num_rows else 200
        return Response(orjson.dumps(answer), status, media_type=JSON_MEDIA)

    @app.get("/healthz")
    async def healthz() -> Response:
        body = {"status": "ok", "queued_rows": writer.queued_rows}
        if health is not None:
            body.update(health())
        return Response(orjson.dumps(body), 200, media_type=JSON_MEDIA)

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), 200, media_type=MEDIA_TYPE)

    return app


def _endpoint(request: Request) -> str:
    """The metrics label of an ingest route: `/v1/traces` → `traces`."""
    return request.url.path.rsplit("/", 1)[-1]


def _answer_encoding(content_type: str | None) -> str:
    """Answer a request in its own encoding, JSON when it has none we accept."""
    try:
        return otlp_encoding(content_type)
    except UnsupportedMediaType:
        return JSON


def _json_error(status: int, message: str, headers: dict | None = None) -> Response:
    return Response(
        orjson.dumps({"error": message}), status, headers=headers, media_type=JSON_MEDIA
    )
