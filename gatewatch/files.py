"""`gatewatch ingest PATH...`: find the files and split them into ingestible payloads.

Accepted: OTLP JSON trace and log exports (one ExportTraceServiceRequest or
ExportLogsServiceRequest per file, or one per line as the Collector's file exporter writes
them), OTLP protobuf (`.pb`, `.binpb`, `.protobuf`), request logs (`.jsonl`, `.ndjson`,
`.json` arrays/objects), each optionally `.gz`. Traces and logs are told apart by content.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

PROTOBUF_SUFFIXES = {".pb", ".binpb", ".protobuf"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
REQUEST_LOG_CHUNK_LINES = 20_000


@dataclass(frozen=True, slots=True)
class Payload:
    # "traces-protobuf" | "traces-json" | "logs-protobuf" | "logs-json" | "request-logs"
    kind: str
    body: bytes
    origin: str


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    received: int | None  # None when the owner does not say (OTLP answers only rejections)
    rejected: int
    errors: list[str]


def discover(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        found.extend(p for p in candidates if p.is_file() and _kind_suffix(p) is not None)
    return found


def _kind_suffix(path: Path) -> str | None:
    suffixes = path.suffixes[-2:] if path.suffix == ".gz" else path.suffixes[-1:]
    base = suffixes[0].lower() if suffixes else ""
    if base in PROTOBUF_SUFFIXES:
        return "protobuf"
    if base in JSON_SUFFIXES:
        return "json"
    return None


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _otlp_json_kind(line: bytes) -> str | None:
    if b'"resourceSpans"' in line or b'"resource_spans"' in line:
        return "traces-json"
    if b'"resourceLogs"' in line or b'"resource_logs"' in line:
        return "logs-json"
    return None


def _otlp_json_object_kind(whole: object) -> str:
    if isinstance(whole, dict):
        if "resourceSpans" in whole or "resource_spans" in whole:
            return "traces-json"
        if "resourceLogs" in whole or "resource_logs" in whole:
            return "logs-json"
    return "request-logs"


# --- protobuf: traces or logs? -----------------------------------------------------------
# ExportTraceServiceRequest and ExportLogsServiceRequest share their outer layout (field 1
# resource_*, in it field 2 scope_*, in it field 2 the records), so the first record decides:
# a Span opens with its ids as bytes (fields 1 and 2, length-delimited), while a LogRecord's
# field 1 is a fixed64 time and its field 2 a varint severity
# (open-telemetry/opentelemetry-proto trace/v1/trace.proto, logs/v1/logs.proto).

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(field number, wire type, payload of a length-delimited field) of one message."""
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == _VARINT:
            _, pos = _varint(data, pos)
        elif wire in (_FIXED64, _FIXED32):
            pos += 8 if wire == _FIXED64 else 4
        elif wire == _LENGTH:
            size, pos = _varint(data, pos)
            yield number, wire, data[pos : pos + size]
            pos += size
            continue
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, b""


def _submessages(data: bytes, number: int) -> Iterator[bytes]:
    return (payload for n, wire, payload in _fields(data) if n == number and wire == _LENGTH)


def _first_record(request: bytes) -> bytes | None:
    for resource in _submessages(request, 1):
        for scope in _submessages(resource, 2):
            for record in _submessages(scope, 2):
                return record
    return None


def _protobuf_kind(data: bytes) -> str:
    try:
        record = _first_record(data)
        if record is None:
            return "traces-protobuf"  # nothing to tell: an empty request either way
        for number, wire, _ in _fields(record):
            if number in (1, 2):
                return "traces-protobuf" if wire == _LENGTH else "logs-protobuf"
    except ValueError:
        return "traces-protobuf"  # not protobuf: the decoder will say so
    return "logs-protobuf"


def payloads(path: Path) -> Iterator[Payload]:
    data = _read(path)
    if _kind_suffix(path) == "protobuf":
        yield Payload(_protobuf_kind(data), data, str(path))
        return
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError:
        whole = None  # JSON Lines: one OTLP request or request-log record per line
    if whole is not None:
        yield Payload(_otlp_json_object_kind(whole), data, str(path))
        return
    logs: list[bytes] = []
    for number, line in enumerate(data.splitlines(), 1):
        if kind := _otlp_json_kind(line):
            yield Payload(kind, line, f"{path}:{number}")
        elif line.strip():
            logs.append(line)
            if len(logs) >= REQUEST_LOG_CHUNK_LINES:
                yield Payload("request-logs", b"\n".join(logs), str(path))
                logs = []
    if logs:
        yield Payload("request-logs", b"\n".join(logs), str(path))
