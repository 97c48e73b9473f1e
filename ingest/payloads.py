"""Raw request bodies → canonical Arrow batches, shared by the HTTP API and `gatewatch ingest`.

Everything here is synchronous and pure except for the clock: decoding, limits,
decompression and mapping. Submitting the batch to the writer is the caller's job.
"""

from __future__ import annotations

import time
import zlib
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa

from ingest.logs import map_logs
from ingest.otlp import PayloadError, decode_traces_json, decode_traces_protobuf
from ingest.otlp_logs import decode_logs_json, decode_logs_protobuf
from ingest.record import records_to_table, rows_to_table, tool_spans_to_table
from ingest.request_logs import RecordError, map_request_logs, parse_request_log_body
from ingest.spans import map_span_rows

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024  # OTLP spec recommendation, after decompression

PROTOBUF = "protobuf"
JSON = "json"


class BodyTooLarge(ValueError):
    """Body larger than the limit after decompression (→ 413)."""


class UnsupportedMediaType(ValueError):
    """Content type not accepted (→ 415)."""


@dataclass(slots=True)
class Prepared:
    table: pa.Table
    tool_spans: pa.Table | None
    received: int  # spans, log records or request records in the body
    rejected: int
    errors: list[str] = field(default_factory=list)
    warnings: Counter[str] = field(default_factory=Counter)
    record_errors: list[RecordError] = field(default_factory=list)
    # CPU seconds of this thread per stage (decode, map, arrow), for /metrics.
    stage_seconds: dict[str, float] = field(default_factory=dict)


class StageClock:
    """CPU time of the current thread per stage (the worker's, or the serving thread's)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.thread_time()

    def lap(self, stage: str) -> None:
        now = time.thread_time()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now


def now_us() -> int:
    return time.time_ns() // 1000


def otlp_encoding(content_type: str | None) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/x-protobuf":
        return PROTOBUF
    if media == "application/json":
        return JSON
    raise UnsupportedMediaType(
        f"Content-Type {media or '(none)'!r} is not supported; "
        "use application/x-protobuf or application/json"
    )


def decompress(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity" or not encoding:
        data = body
    elif encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(body, limit + 1)
        except zlib.error as e:
            raise PayloadError(f"body is not valid {encoding}: {e}") from e
        if len(data) <= limit and not inflater.eof:
            raise PayloadError(f"{encoding} body is truncated")
    else:
        raise UnsupportedMediaType(f"Content-Encoding {encoding!r} is not supported; use gzip")
    if len(data) > limit:
        raise BodyTooLarge(f"body exceeds {limit} bytes after decompression")
    return data


def prepare_traces(body: bytes, encoding: str, *, tenant: str | None = None) -> Prepared:
    clock = StageClock()
    decoded = decode_traces_protobuf(body) if encoding == PROTOBUF else decode_traces_json(body)
    clock.lap("decode")
    mapped = map_span_rows(decoded, ingested_at_us=now_us(), tenant=tenant)
    clock.lap("map")
    table = rows_to_table(mapped.rows)
    tool_spans = tool_spans_to_table(mapped.tool_spans) if mapped.tool_spans else None
    clock.lap("arrow")
    return Prepared(
        table=table,
        tool_spans=tool_spans,
        received=mapped.spans,
        rejected=mapped.rejected,
        errors=mapped.errors,
        warnings=mapped.warnings,
        stage_seconds=clock.seconds,
    )


def prepare_logs(body: bytes, encoding: str, *, tenant: str | None = None) -> Prepared:
    clock = StageClock()
    decoded = decode_logs_protobuf(body) if encoding == PROTOBUF else decode_logs_json(body)
    clock.lap("decode")
    mapped = map_logs(decoded, ingested_at_us=now_us(), tenant=tenant)
    clock.lap("map")
    table = records_to_table(mapped.records)
    clock.lap("arrow")
    return Prepared(
        table=table,
        tool_spans=None,
        received=mapped.received,
        rejected=mapped.rejected,
        errors=mapped.errors,
        warnings=mapped.warnings,
        stage_seconds=clock.seconds,
    )


def prepare_request_logs(body: bytes, *, tenant: str | None = None) -> Prepared:
    clock = StageClock()
    items = parse_request_log_body(body)
    clock.lap("decode")
    records, errors = map_request_logs(items, received_at_us=now_us(), tenant=tenant)
    clock.lap("map")
    table = records_to_table(records)
    clock.lap("arrow")
    return Prepared(
        table=table,
        tool_spans=None,
        received=len(items),
        rejected=len(errors),
        errors=[e.message for e in errors[:5]],
        record_errors=errors,
        stage_seconds=clock.seconds,
    )
