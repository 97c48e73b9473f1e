"""End to end over OTLP/gRPC: the real OpenTelemetry SDK (OTLPSpanExporter and OTLPLogExporter
from opentelemetry-exporter-otlp-proto-grpc, batch processors, insecure channel, gzip) sends to a
real `gatewatch serve`; the rows in its database are exactly the requests sent."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from grpc import Compression
from opentelemetry import trace
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult

from gatewatch import config
from tests.integration.server import Served, run_cli, start_serve

pytestmark = pytest.mark.integration

REQUESTS = 5
CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
}


EXPORTER = {"insecure": True, "compression": Compression.Gzip}


def _send(served: Served, headers: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str]]:
    """REQUESTS chat spans (span n lasting n+1 s, one execute_tool child each), and for the
    first one an operation-details event carrying its reasoning tokens."""
    resource = Resource.create({"service.name": "grpc-app"})
    options = {**EXPORTER, "endpoint": served.grpc_endpoint, "headers": headers}
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(**options), max_export_batch_size=4)
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(**options)))
    tracer = tracer_provider.get_tracer("test.app")
    logger = logger_provider.get_logger("test.app")
    ids = []
    # Recent spans: an event's time (now) is within the writer's merge window of its span.
    first_start = time.time_ns() - REQUESTS * 10**10
    for n in range(REQUESTS):
        start = first_start + n * 10**10
        span = tracer.start_span(
            "chat gpt-4o",
            kind=trace.SpanKind.CLIENT,
            start_time=start,
            attributes={
                **CHAT,
                "gen_ai.response.finish_reasons": ["tool_calls"],
                "gen_ai.usage.input_tokens": 100 + n,
                "gen_ai.usage.output_tokens": 10 + n,
            },
        )
        with trace.use_span(span, end_on_exit=False):
            tool = tracer.start_span(
                "execute_tool lookup",
                start_time=start + 10**8,
                attributes={"gen_ai.operation.name": "execute_tool"},
            )
            tool.end(end_time=start + 2 * 10**8)
            if n == 0:
                logger.emit(
                    LogRecord(
                        event_name="gen_ai.client.inference.operation.details",
                        attributes={**CHAT, "gen_ai.usage.reasoning.output_tokens": 7},
                    )
                )
        span.end(end_time=start + (n + 1) * 10**9)
        context = span.get_span_context()
        ids.append((f"{context.trace_id:032x}", f"{context.span_id:016x}"))
    assert tracer_provider.force_flush() and logger_provider.force_flush()
    tracer_provider.shutdown()
    logger_provider.shutdown()
    return ids


def _rows(db: Path, query: str) -> list[dict[str, Any]]:
    out = run_cli("sql", query, "--format", "json", db=db).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


COLUMNS = (
    "request_id, provider, model, app, finish_reason, tool_calls, input_tokens, output_tokens, "
    "reasoning_tokens, duration_ms, tenant"
)


def _expected(ids: list[tuple[str, str]], tenant: str | None) -> list[dict[str, Any]]:
    return [
        {
            "request_id": f"{trace_id}:{span_id}",
            "provider": "openai",
            "model": "openai/gpt-4o",
            "app": "grpc-app",
            "finish_reason": "tool_calls",
            "tool_calls": 1,
            "input_tokens": 100 + n,
            "output_tokens": 10 + n,
            "reasoning_tokens": 7 if n == 0 else None,
            "duration_ms": 1000.0 * (n + 1),
            "tenant": tenant,
        }
        for n, (trace_id, span_id) in enumerate(ids)
    ]


def test_sdk_grpc_exports_are_stored_as_exact_rows(tmp_path: Path) -> None:
    served = start_serve(tmp_path / "gatewatch.duckdb")
    try:
        ids = _send(served)
        rows = _rows(served.db, f"SELECT {COLUMNS} FROM requests ORDER BY input_tokens")
    finally:
        served.stop()
    assert rows == _expected(ids, None)
    assert served.process.returncode == 130  # stopped by its SIGINT, not killed after a hang


def test_the_bearer_token_in_the_exporters_headers_names_the_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.GATEWATCH_INGEST_TOKENS, "acme:s3cret")
    served = start_serve(tmp_path / "gatewatch.duckdb")
    try:
        refused = OTLPSpanExporter(endpoint=served.grpc_endpoint, **EXPORTER)
        try:
            tracer_provider = TracerProvider()
            with tracer_provider.get_tracer("t").start_as_current_span("chat gpt-4o") as span:
                pass
            assert refused.export([span]) == SpanExportResult.FAILURE  # type: ignore[list-item]
        finally:
            refused.shutdown()
            tracer_provider.shutdown()
        ids = _send(served, headers=(("authorization", "Bearer s3cret"),))
        rows = _rows(served.db, f"SELECT {COLUMNS} FROM requests ORDER BY input_tokens")
    finally:
        served.stop()
    assert rows == _expected(ids, "acme")
