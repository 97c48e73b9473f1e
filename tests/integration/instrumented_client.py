"""An application instrumented with a real OpenAI instrumentation library, run in its own process.

`python -m tests.integration.instrumented_client LIBRARY --endpoint URL [--capture DIR]`

Sets up the real OTel SDK (TracerProvider + BatchSpanProcessor + OTLPSpanExporter over
http/protobuf, and a LoggerProvider whose OTLPLogExporter is used only if the endpoint
answers /v1/logs), instruments the `openai` SDK with LIBRARY, and makes the SCENARIOS calls
against the local fake OpenAI endpoint. With --capture, the spans and log records exactly as
the library produced them are also written as OTLP JSON: `DIR/<library>.json` (traces) and
`DIR/<library>.logs.json` (logs, when there are any). Prints a one-line JSON summary.

One library per process: instrumentors patch the `openai` module globally.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import os
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.sdk.trace.id_generator import IdGenerator

# An empty ExportLogsServiceRequest: probes whether the endpoint takes logs at all.
EMPTY_OTLP_BODY = b""


@dataclass(frozen=True)
class Library:
    instrumentor: str  # "module:Class"
    env: dict[str, str] = field(default_factory=dict)


LIBRARIES = {
    # opentelemetry-instrumentation-genai-openai (successor of openai-v2), defaults:
    # no content capture, no events.
    "otel-genai-openai": Library("opentelemetry.instrumentation.genai.openai:OpenAIInstrumentor"),
    # The same with the semconv opt-in, message content on the span and the
    # gen_ai.client.inference.operation.details event.
    "otel-genai-openai-experimental": Library(
        "opentelemetry.instrumentation.genai.openai:OpenAIInstrumentor",
        {
            "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_and_event",
            "OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT": "true",
        },
    ),
    # openinference-instrumentation-openai (Arize), defaults (captures content).
    "openinference-openai": Library("openinference.instrumentation.openai:OpenAIInstrumentor"),
    # opentelemetry-instrumentation-openai (traceloop OpenLLMetry), defaults (captures content).
    "openllmetry-openai": Library("opentelemetry.instrumentation.openai:OpenAIInstrumentor"),
}


def service_name(library: str) -> str:
    return f"gatewatch-test-{library}"


class SequentialIds(IdGenerator):
    """Deterministic ids, distinct per library, so captured files diff cleanly on re-capture
    and two libraries' rows never share a `trace_id:span_id`."""

    def __init__(self, library: str) -> None:
        self.prefix = zlib.crc32(library.encode())
        self.trace = 0
        self.span = 0

    def generate_trace_id(self) -> int:
        self.trace += 1
        return (self.prefix << 96) | self.trace

    def generate_span_id(self) -> int:
        self.span += 1
        return (self.prefix << 32) | self.span


def takes_logs(endpoint: str) -> bool:
    try:
        answer = httpx.post(
            f"{endpoint}/v1/logs",
            content=EMPTY_OTLP_BODY,
            headers={"Content-Type": "application/x-protobuf"},
            timeout=5,
        )
    except httpx.HTTPError:
        return False
    return answer.is_success


def make_calls(base_url: str, run: str) -> dict[str, str]:
    """The SCENARIOS calls; returns what each one ended with."""
    import openai

    from tests.integration.fake_openai import CANARY, REQUEST_MODEL

    def client(scenario: str) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=f"{base_url}/{run}/{scenario}", api_key="sk-test", max_retries=0, timeout=5
        )

    messages = [{"role": "user", "content": f"{CANARY} question"}]
    weather_tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    outcomes = {}
    answer = client("plain").chat.completions.create(model=REQUEST_MODEL, messages=messages)
    outcomes["plain"] = answer.choices[0].finish_reason
    answer = client("tools").chat.completions.create(
        model=REQUEST_MODEL, messages=messages, tools=[weather_tool]
    )
    outcomes["tools"] = answer.choices[0].finish_reason
    try:
        client("rate_limit").chat.completions.create(model=REQUEST_MODEL, messages=messages)
        outcomes["rate_limit"] = "no error"
    except openai.RateLimitError as e:
        outcomes["rate_limit"] = f"RateLimitError {e.status_code}"
    chunks = client("stream").chat.completions.create(
        model=REQUEST_MODEL,
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
    )
    outcomes["stream"] = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
    return outcomes


# --- OTLP JSON capture -------------------------------------------------------------------------

ID_FIELDS = ("traceId", "spanId", "parentSpanId")
STRIPPED = {"exception.stacktrace": "(stripped: local file paths)"}


def _portable(node: Any) -> Any:
    """Protobuf JSON writes bytes as base64; OTLP JSON wants trace and span ids in hex.
    Stack traces name this machine's files, so their text is replaced."""
    if isinstance(node, dict):
        if node.get("key") in STRIPPED:
            return {"key": node["key"], "value": {"stringValue": STRIPPED[node["key"]]}}
        return {
            k: base64.b64decode(v).hex() if k in ID_FIELDS and isinstance(v, str) else _portable(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_portable(v) for v in node]
    return node


def otlp_json(message: Any) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict

    return _portable(MessageToDict(message, use_integers_for_enums=True))


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


# --- main --------------------------------------------------------------------------------------


def run(library: str, endpoint: str, capture: Path | None) -> dict[str, Any]:
    spec = LIBRARIES[library]
    os.environ.update(spec.env)  # before the instrumentation reads its settings

    from opentelemetry import _logs, trace
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import (
        BatchLogRecordProcessor,
        InMemoryLogRecordExporter,
        SimpleLogRecordProcessor,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from tests.integration.fake_openai import fake_openai

    # A fixed instance id: the SDK would draw a random one per process.
    resource = Resource.create(
        {"service.name": service_name(library), "service.instance.id": library}
    )
    tracer_provider = TracerProvider(resource=resource, id_generator=SequentialIds(library))
    tracer_provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=5))
    )
    captured_spans = InMemorySpanExporter()
    tracer_provider.add_span_processor(SimpleSpanProcessor(captured_spans))
    trace.set_tracer_provider(tracer_provider)

    logger_provider = LoggerProvider(resource=resource)
    logs_exported = takes_logs(endpoint)
    if logs_exported:
        logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{endpoint}/v1/logs", timeout=5))
        )
    captured_logs = InMemoryLogRecordExporter()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(captured_logs))
    _logs.set_logger_provider(logger_provider)

    module, _, name = spec.instrumentor.partition(":")
    instrumentor = getattr(importlib.import_module(module), name)()
    instrumentor.instrument(tracer_provider=tracer_provider, logger_provider=logger_provider)
    try:
        with fake_openai() as base_url:
            outcomes = make_calls(base_url, library)
    finally:
        instrumentor.uninstrument()
        tracer_provider.force_flush(10_000)
        logger_provider.force_flush(10_000)
        tracer_provider.shutdown()
        logger_provider.shutdown()

    spans = captured_spans.get_finished_spans()
    logs = captured_logs.get_finished_logs()
    if capture is not None:
        capture.mkdir(parents=True, exist_ok=True)
        write_json(capture / f"{library}.json", otlp_json(encode_spans(spans)))
        logs_path = capture / f"{library}.logs.json"
        if logs:
            write_json(logs_path, otlp_json(encode_logs(logs)))
        else:
            logs_path.unlink(missing_ok=True)
    return {
        "outcomes": outcomes,
        "spans": len(spans),
        "logs": len(logs),
        "logs_exported": logs_exported,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", choices=sorted(LIBRARIES))
    parser.add_argument("--endpoint", required=True, help="OTLP/HTTP base URL")
    parser.add_argument("--capture", type=Path, help="write the emitted OTLP JSON here")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.library, args.endpoint, args.capture)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
