"""`gatewatch ingest PATH...`: find the files and split them into ingestible payloads.

Accepted: OTLP JSON trace exports (one ExportTraceServiceRequest per file, or one per line
as the Collector's file exporter writes them), OTLP protobuf (`.pb`, `.binpb`,
`.protobuf`), request logs (`.jsonl`, `.ndjson`, `.json` arrays/objects), each optionally
`.gz`.
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
    kind: str  # "traces-protobuf" | "traces-json" | "request-logs"
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


def _is_trace_request(line: bytes) -> bool:
    return b'"resourceSpans"' in line or b'"resource_spans"' in line


def payloads(path: Path) -> Iterator[Payload]:
    data = _read(path)
    if _kind_suffix(path) == "protobuf":
        yield Payload("traces-protobuf", data, str(path))
        return
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError:
        whole = None  # JSON Lines: one trace request or request-log record per line
    if whole is not None:
        is_traces = isinstance(whole, dict) and (
            "resourceSpans" in whole or "resource_spans" in whole
        )
        yield Payload("traces-json" if is_traces else "request-logs", data, str(path))
        return
    logs: list[bytes] = []
    for number, line in enumerate(data.splitlines(), 1):
        if _is_trace_request(line):
            yield Payload("traces-json", line, f"{path}:{number}")
        elif line.strip():
            logs.append(line)
            if len(logs) >= REQUEST_LOG_CHUNK_LINES:
                yield Payload("request-logs", b"\n".join(logs), str(path))
                logs = []
    if logs:
        yield Payload("request-logs", b"\n".join(logs), str(path))
