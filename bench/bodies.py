"""Pre-encoded request bodies for each wire the benchmark can send.

Every wire carries the same GenAI chat traffic (`bench.genai_batches`, one unique response id
per span), so their rates compare like for like:

- `protobuf`: OTLP/HTTP `application/x-protobuf`, as the OTel SDK encodes it;
- `otlp-json`: the same export request as OTLP/HTTP JSON (hex ids, integer enums);
- `grpc`: the protobuf bytes, sent as OTLP/gRPC `TraceService/Export` calls;
- `requests`: one canonical request-log record per span, as JSON Lines for `/v1/requests`.
"""

from __future__ import annotations

import base64
import os
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from bench.genai_batches import genai_batch

PROTOBUF, OTLP_JSON, GRPC, REQUESTS = "protobuf", "otlp-json", "grpc", "requests"
WIRES = (PROTOBUF, OTLP_JSON, GRPC, REQUESTS)
ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def pool_of(wire: str) -> str:
    """gRPC sends the protobuf bytes, so the two wires share one pool."""
    return PROTOBUF if wire == GRPC else wire


def _hex_ids(node: Any) -> None:
    """Stock protobuf JSON writes bytes as base64; OTLP JSON wants ids in hex."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ID_FIELDS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)


def otlp_json(body: bytes) -> bytes:
    request = MessageToDict(ExportTraceServiceRequest.FromString(body), use_integers_for_enums=True)
    _hex_ids(request)
    return orjson.dumps(request)


def _attributes(span: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for kv in span.attributes:
        kind = kv.value.WhichOneof("value")
        if kind == "array_value":
            values[kv.key] = [v.string_value for v in kv.value.array_value.values]
        elif kind is not None:
            values[kv.key] = getattr(kv.value, kind)
    return values


def request_logs(body: bytes) -> bytes:
    """The export request's chat spans as canonical request-log records, one JSON line each."""
    lines = []
    for resource_spans in ExportTraceServiceRequest.FromString(body).resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                a = _attributes(span)
                started = datetime.fromtimestamp(span.start_time_unix_nano / 1e9, UTC)
                record = {
                    "request_id": a["gen_ai.response.id"],
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "started_at": started.isoformat(timespec="microseconds"),
                    "duration_ms": (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6,
                    "ttft_ms": a["gen_ai.response.time_to_first_chunk"] * 1000,
                    "provider": a["gen_ai.provider.name"],
                    "model": a["gen_ai.response.model"],
                    "native_finish_reason": a["gen_ai.response.finish_reasons"][0],
                    "input_tokens": a["gen_ai.usage.input_tokens"],
                    "output_tokens": a["gen_ai.usage.output_tokens"],
                    "reasoning_tokens": a["gen_ai.usage.reasoning.output_tokens"],
                    "cached_input_tokens": a["gen_ai.usage.cache_read.input_tokens"],
                    "error_type": a.get("error.type"),
                    "app": "bench-agent",
                }
                lines.append(orjson.dumps(record))
    return b"\n".join(lines) + b"\n"


def encode(args: tuple[str, int, int, int]) -> bytes:
    wire, size, batch_number, seed = args
    body, _ids = genai_batch(size, batch_number=batch_number, seed=seed)
    if wire == OTLP_JSON:
        return otlp_json(body)
    if wire == REQUESTS:
        return request_logs(body)
    return body


def encode_pool(
    wire: str, first: int, count: int, size: int, seed: int
) -> tuple[list[bytes], float]:
    """Bodies of batches `first` .. `first + count - 1` for `wire`, encoded on all cores."""
    started = time.perf_counter()
    jobs = [(pool_of(wire), size, n, seed) for n in range(first, first + count)]
    workers = max(1, min(os.cpu_count() or 1, count))
    if workers == 1:
        bodies = [encode(job) for job in jobs]
    else:
        pool = ProcessPoolExecutor(workers)
        try:
            bodies = list(pool.map(encode, jobs, chunksize=8))
        finally:
            pool.shutdown(cancel_futures=True)  # on Ctrl-C, drop the batches not started
    return bodies, time.perf_counter() - started
