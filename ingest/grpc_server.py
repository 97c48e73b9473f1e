"""The OTLP/gRPC receiver: TraceService/Export and LogsService/Export, answered per the OTLP
spec (open-telemetry/opentelemetry-proto docs/specification.md, "OTLP/gRPC").

An export takes the HTTP API's path: the request's bytes, as received (the handlers register
no deserializer, so nothing is decoded and encoded again), are prepared like an
`application/x-protobuf` body and committed by the writer before the answer, so an
acknowledged export survives a crash. Status codes: INVALID_ARGUMENT for data that cannot be
decoded (never retried), UNAUTHENTICATED without a known bearer token, UNAVAILABLE with a
RetryInfo when the writer is saturated or a commit failed (retried), RESOURCE_EXHAUSTED for a
message over the size limit (gRPC's own check, made before any handler runs, so it is not
counted in /metrics).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NoReturn

import grpc
from google.protobuf.any_pb2 import Any
from google.protobuf.duration_pb2 import Duration
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from ingest.app import LOGS, TRACES, ExportSignal, IngestSettings, export_response
from ingest.auth import TokenTable, Unauthorized, bearer_token
from ingest.metrics import DECODE_ERROR, OVERLOADED, UNAUTHORIZED, WRITE_FAILED, IngestMetrics
from ingest.otlp import PayloadError
from ingest.payloads import PROTOBUF, Prepared
from ingest.prepare_pool import InlinePreparer, Kind, PrepareJob, Preparer, PrepareSaturated
from ingest.writer import BatchWriter, QueueFull, WriterStopped

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 4  # the writer serializes commits; more threads would only wait longer
EXPORT_METHOD = "Export"
# Rich error details: a google.rpc.Status repeating the call's code and message, as gRPC's
# own helpers write and read it (grpc/grpc src/python/grpcio_status/grpc_status/rpc_status.py) ...
STATUS_DETAILS_KEY = "grpc-status-details-bin"
# ... and the RetryInfo alone, the key opentelemetry-python's OTLP exporter reads
# (opentelemetry-exporter-otlp-proto-grpc, opentelemetry/exporter/otlp/proto/grpc/exporter.py).
RETRY_INFO_KEY = "google.rpc.retryinfo-bin"


@dataclass(frozen=True, slots=True)
class _Service:
    """One OTLP service: its gRPC name, the metrics label shared with its HTTP route, how its
    body is prepared and its answer spelled."""

    name: str
    endpoint: Kind  # also the kind of body it prepares
    signal: ExportSignal


SERVICES = (
    _Service(
        trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name,
        "traces",
        TRACES,
    ),
    _Service(
        logs_service_pb2.DESCRIPTOR.services_by_name["LogsService"].full_name,
        "logs",
        LOGS,
    ),
)


class _Refused(Exception):
    """The whole export is refused: its gRPC code, the metrics reason, a retry hint."""

    def __init__(
        self, code: grpc.StatusCode, reason: str, message: str, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.retry_after = retry_after


class _Exporter:
    def __init__(
        self,
        writer: BatchWriter,
        settings: IngestSettings,
        metrics: IngestMetrics,
        preparer: Preparer,
    ) -> None:
        self._writer = writer
        self._settings = settings
        self._metrics = metrics
        self._preparer = preparer

    def handler(self, service: _Service) -> grpc.GenericRpcHandler:
        def export(body: bytes, context: grpc.ServicerContext) -> bytes:
            return self.export(service, body, context)

        method = grpc.unary_unary_rpc_method_handler(export)  # raw bytes in and out
        return grpc.method_handlers_generic_handler(service.name, {EXPORT_METHOD: method})

    def export(self, service: _Service, body: bytes, context: grpc.ServicerContext) -> bytes:
        try:
            tenant = _tenant(self._settings.tokens, context)
            prepared = self._prepare(service, body, tenant)
            self._commit(service, prepared)
        except _Refused as refusal:
            self._metrics.refused(service.endpoint, refusal.reason)
            _abort(context, refusal)
        self._metrics.accepted(service.endpoint, prepared)
        return export_response(prepared, service.signal).SerializeToString()

    def _prepare(self, service: _Service, body: bytes, tenant: str | None) -> Prepared:
        # gRPC has decompressed the message and checked its size already.
        job = PrepareJob(
            kind=service.endpoint,
            body=body,
            content_encoding=None,
            encoding=PROTOBUF,
            tenant=tenant,
            max_body_bytes=self._settings.max_body_bytes,
            limits=self._settings.value_limits,
        )
        try:
            return self._preparer.prepare_blocking(job)
        except PrepareSaturated as e:
            raise _Refused(
                grpc.StatusCode.UNAVAILABLE,
                OVERLOADED,
                f"overloaded, retry later: {e}",
                self._settings.retry_after_seconds,
            ) from e
        except PayloadError as e:
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, DECODE_ERROR, str(e)) from e
        except Exception as e:  # a message no check foresaw costs itself only
            log.exception("%s: reading the message failed", service.name)
            message = f"the message could not be decoded and mapped: {type(e).__name__}: {e}"
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT, DECODE_ERROR, message) from e

    def _commit(self, service: _Service, prepared: Prepared) -> None:
        retry_after = self._settings.retry_after_seconds
        try:
            self._writer.submit(prepared.table, prepared.tool_spans).result()
        except (QueueFull, WriterStopped) as e:
            message = f"overloaded, retry later: {e}"
            raise _Refused(grpc.StatusCode.UNAVAILABLE, OVERLOADED, message, retry_after) from e
        except Exception as e:  # the writer reported a failed commit for these rows
            log.exception("%s: commit failed", service.name)
            message = f"the write failed, retry later: {type(e).__name__}: {e}"
            raise _Refused(grpc.StatusCode.UNAVAILABLE, WRITE_FAILED, message, retry_after) from e


def _tenant(tokens: TokenTable | None, context: grpc.ServicerContext) -> str | None:
    """The caller's tenant from its `authorization` metadata, when tokens are required."""
    if tokens is None:
        return None
    metadata = dict(context.invocation_metadata())
    try:
        return tokens.tenant_of(bearer_token(metadata.get("authorization")))
    except Unauthorized as e:
        raise _Refused(grpc.StatusCode.UNAUTHENTICATED, UNAUTHORIZED, str(e)) from e


def _abort(context: grpc.ServicerContext, refusal: _Refused) -> NoReturn:
    """End the call with the refusal's code; a retryable one carries a RetryInfo."""
    if refusal.retry_after is not None:
        retry = RetryInfo(retry_delay=Duration(seconds=refusal.retry_after))
        detail = Any()
        detail.Pack(retry)
        status = Status(code=refusal.code.value[0], message=str(refusal), details=[detail])
        context.set_trailing_metadata(
            (
                (STATUS_DETAILS_KEY, status.SerializeToString()),
                (RETRY_INFO_KEY, retry.SerializeToString()),
            )
        )
    context.abort(refusal.code, str(refusal))


@dataclass(slots=True)
class GrpcReceiver:
    server: grpc.Server
    port: int  # the port bound (the one asked for, or the kernel's pick for 0)

    def stop(self, grace_seconds: float = 10.0) -> None:
        """Refuse new calls, let running ones finish (their commits included), then end."""
        self.server.stop(grace_seconds).wait()


def start_grpc_receiver(
    writer: BatchWriter,
    settings: IngestSettings,
    metrics: IngestMetrics,
    *,
    host: str,
    port: int,
    workers: int = DEFAULT_WORKERS,
    preparer: Preparer | None = None,  # default: in the gRPC thread
) -> GrpcReceiver:
    """Bind `host:port` and serve OTLP/gRPC; raises RuntimeError when the port cannot be bound."""
    server = grpc.server(
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gatewatch-grpc"),
        # gRPC checks the limit on the decompressed message and answers RESOURCE_EXHAUSTED.
        options=[("grpc.max_receive_message_length", settings.max_body_bytes)],
    )
    exporter = _Exporter(writer, settings, metrics, preparer or InlinePreparer())
    server.add_generic_rpc_handlers(tuple(exporter.handler(s) for s in SERVICES))
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    bound = server.add_insecure_port(address)
    server.start()
    return GrpcReceiver(server, bound)
