"""End to end: the real OpenTelemetry SDK sends GenAI events (OTLPLogExporter, LoggerProvider,
BatchLogRecordProcessor) and their request spans (OTLPSpanExporter) to a real `gatewatch
serve`; each request ends as exactly one row that merges both, whichever export lands first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from tests.integration.server import Served, run_cli, start_serve

pytestmark = pytest.mark.integration

CANARY = "CANARY-7f3a"
REQUESTS = 6


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_serve(tmp_path_factory.mktemp("logs") / "gatewatch.duckdb")
    try:
        yield server
    finally:
        server.stop()


def _providers(url: str) -> tuple[TracerProvider, LoggerProvider]:
    resource = Resource.create({"service.name": "support-bot"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces"))
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{url}/v1/logs"))
    )
    return tracer_provider, logger_provider


def _details(n: int) -> dict[str, Any]:
    """`gen_ai.client.inference.operation.details` as opentelemetry-util-genai emits it."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 100 + n,
        "gen_ai.usage.output_tokens": 10 + n,
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"content": CANARY}]}]),
        "gen_ai.output.messages": json.dumps(
            [
                {
                    "role": "assistant",
                    "finish_reason": "tool_call",
                    "parts": [{"type": "tool_call", "name": "lookup", "arguments": {"q": CANARY}}]
                    * (n % 3),
                }
            ]
        ),
    }


def _send(served: Served, logs_first: bool) -> list[tuple[str, str]]:
    """Run REQUESTS instrumented calls; each span carries no token counts, its events do."""
    tracer_provider, logger_provider = _providers(served.ingest_url)
    tracer = tracer_provider.get_tracer("test.app")
    logger = logger_provider.get_logger("test.app")
    ids = []
    for n in range(REQUESTS):
        with tracer.start_as_current_span(
            "chat gpt-4o",
            kind=trace.SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.finish_reasons": ["stop"],
            },
        ) as span:
            context = span.get_span_context()
            ids.append((f"{context.trace_id:032x}", f"{context.span_id:016x}"))
            logger.emit(
                LogRecord(
                    event_name="gen_ai.client.inference.operation.details",
                    attributes=_details(n),
                )
            )
            logger.emit(
                LogRecord(
                    event_name="gen_ai.choice",
                    attributes={"gen_ai.system": "openai"},
                    body={"index": 0, "finish_reason": "stop", "message": {"content": CANARY}},
                )
            )
    first, second = (
        (logger_provider, tracer_provider) if logs_first else (tracer_provider, logger_provider)
    )
    first.force_flush()
    second.force_flush()
    tracer_provider.shutdown()
    logger_provider.shutdown()
    return ids


def _rows(db: Path, query: str) -> list[dict[str, Any]]:
    out = run_cli("sql", query, "--format", "json", db=db).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("logs_first", [True, False], ids=["events first", "spans first"])
def test_each_request_is_one_row_merging_span_and_events(served: Served, logs_first: bool) -> None:
    ids = _send(served, logs_first)
    spans = ", ".join(f"'{span_id}'" for _, span_id in ids)
    query = (
        "SELECT request_id, source, finish_reason, native_finish_reason, tool_calls, "
        f"input_tokens, output_tokens, app FROM requests WHERE span_id IN ({spans}) "
        "ORDER BY input_tokens"
    )
    rows = _rows(served.db, query)
    assert rows == [
        {
            "request_id": f"{trace_id}:{span_id}",
            "source": "otlp:genai",
            "finish_reason": "tool_calls" if n % 3 else "stop",
            "native_finish_reason": "stop",
            "tool_calls": n % 3,
            "input_tokens": 100 + n,
            "output_tokens": 10 + n,
            "app": "support-bot",
        }
        for n, (trace_id, span_id) in enumerate(ids)
    ]


def test_no_message_content_reaches_the_warehouse(served: Served) -> None:
    _send(served, logs_first=True)
    rows = _rows(served.db, "SELECT * FROM requests")
    assert len(rows) >= REQUESTS
    assert CANARY not in json.dumps(rows)


def test_gatewatch_ingest_sends_log_exports_to_the_running_serve(served: Served) -> None:
    examples = Path(__file__).parents[2] / "sample_data" / "examples" / "conventions" / "logs"
    result = run_cli("ingest", str(examples), db=served.db)
    assert "sending to gatewatch serve" in result.stderr + result.stdout
    rows = _rows(
        served.db,
        "SELECT request_id, tool_calls FROM requests "
        "WHERE trace_id = '5b8efff798038103d269b633813fc60c' ORDER BY request_id",
    )
    assert rows == [
        {"request_id": "5b8efff798038103d269b633813fc60c:a000000000000002", "tool_calls": 1},
        {"request_id": "chatcmpl-A1b2C3", "tool_calls": 1},
    ]
