"""OTLP protobuf export requests of GenAI chat spans, encoded by the OTel SDK's own encoder.

Used by the ingest benchmark and the crash-safety test: every span carries a unique
`gen_ai.response.id`, so each one becomes exactly one request row.
"""

from __future__ import annotations

import random

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

PROVIDERS = [
    ("openai", "gpt-5-2025-08-07", "stop"),
    ("anthropic", "claude-sonnet-4-5-20250929", "end_turn"),
    ("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "tool_use"),
    ("gcp.vertex_ai", "gemini-2.5-flash", "STOP"),
    ("together", "Qwen/Qwen3-Coder-480B-A35B-Instruct", "tool_calls"),
]


class _Collect(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans) -> SpanExportResult:  # type: ignore[no-untyped-def]
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def genai_batch(size: int, *, batch_number: int, seed: int = 1) -> tuple[bytes, list[str]]:
    """One export request of `size` chat spans; returns the body and the response ids."""
    rng = random.Random(seed * 1_000_003 + batch_number)
    collect = _Collect()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(collect))
    tracer = provider.get_tracer("gatewatch.bench")
    ids: list[str] = []
    start_ns = 1_790_000_000_000_000_000 + batch_number * 10_000_000_000
    for i in range(size):
        system, model, finish = PROVIDERS[i % len(PROVIDERS)]
        response_id = f"chatcmpl-b{batch_number}-{i}-{rng.getrandbits(48):x}"
        ids.append(response_id)
        begin = start_ns + i * 1_000_000
        span = tracer.start_span(
            f"chat {model}",
            kind=SpanKind.CLIENT,
            start_time=begin,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": system,
                "gen_ai.request.model": model,
                "gen_ai.response.model": model,
                "gen_ai.response.id": response_id,
                "gen_ai.response.finish_reasons": [finish],
                "gen_ai.usage.input_tokens": rng.randint(200, 20_000),
                "gen_ai.usage.output_tokens": rng.randint(20, 2_000),
                "gen_ai.usage.reasoning.output_tokens": rng.randint(0, 800),
                "gen_ai.usage.cache_read.input_tokens": rng.randint(0, 5_000),
                "gen_ai.request.max_tokens": 4096,
                "gen_ai.request.temperature": 0.2,
                "server.address": "api.example.com",
                "gen_ai.response.time_to_first_chunk": rng.uniform(0.1, 2.0),
            },
        )
        if i % 97 == 0:
            span.set_attribute("error.type", "RateLimitError")
            span.set_status(Status(StatusCode.ERROR, "rate limited"))
        span.end(end_time=begin + rng.randint(200, 20_000) * 1_000_000)
    provider.shutdown()
    return encode_spans(collect.spans).SerializeToString(), ids
