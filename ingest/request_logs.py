"""`/v1/requests` bodies: gateway request logs as one JSON object, a JSON array or JSONL.

Each record's convention is detected on its own; a record that cannot be read is reported by
its index (0-based position in the body) and never costs its neighbours their place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ingest.conventions import canonical, litellm, openrouter
from ingest.conventions.canonical import FieldError
from ingest.conventions.responses import envelope
from ingest.record import Record


@dataclass(frozen=True, slots=True)
class RecordError:
    index: int
    field: str | None
    message: str  # complete, e.g. "record 3: started_at: not a timestamp: 'yesterday'"


@dataclass(frozen=True, slots=True)
class Convention:
    source: str
    matches: Callable[[Mapping[str, Any]], bool]
    to_record: Callable[[Mapping[str, Any]], Record]


# Tried in order. A LiteLLM payload carries `call_type` and `startTime`; any other record with a
# `response` member is a wrapped provider response (its kind read from the body's shape); a
# record carrying our own `request_id` key is canonical whatever else it has.
CONVENTIONS: tuple[Convention, ...] = (
    Convention(litellm.SOURCE, litellm.matches, litellm.to_record),
    *(
        Convention(kind.source, envelope.matcher(kind), envelope.mapper(kind))
        for kind in envelope.KINDS
    ),
    Convention(canonical.SOURCE, canonical.matches, canonical.to_record),
    Convention(openrouter.SOURCE, openrouter.matches, openrouter.to_record),
)

UNRECOGNISED_SHAPE = (
    "unrecognised record shape: expected a canonical record (request_id), an OpenRouter "
    "generation record (id, provider_name, tokens_prompt), a LiteLLM standard logging payload "
    "(call_type, startTime) or a wrapped provider response (response, started_at)"
)


def _error(index: int, field: str | None, message: str) -> RecordError:
    where = f"record {index}: {field}: " if field else f"record {index}: "
    return RecordError(index, field, where + message)


def parse_request_log_body(body: bytes) -> list[object]:
    """The body's items in order. A body that is not one JSON document is read as JSONL (blank
    lines skipped); a line that is not valid JSON becomes a `RecordError` in its place."""
    if not body.strip():
        return []
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        if body.lstrip().startswith(b"["):  # a broken array has no record boundaries to keep
            return [_error(0, None, f"body is not valid JSON: {e}")]
        document = None
    else:
        return list(document) if isinstance(document, list) else [document]
    lines = (line for line in body.splitlines() if line.strip())
    items: list[object] = []
    for index, line in enumerate(lines):
        try:
            items.append(orjson.loads(line))
        except orjson.JSONDecodeError as e:
            items.append(_error(index, None, f"not valid JSON: {e}"))
    return items


def _map_one(item: object, index: int) -> tuple[Record | None, RecordError | None]:
    if isinstance(item, RecordError):
        return None, item
    if not isinstance(item, dict):
        return None, _error(index, None, f"not a JSON object: {type(item).__name__}")
    for convention in CONVENTIONS:
        if convention.matches(item):
            try:
                record = convention.to_record(item)
            except FieldError as e:
                return None, _error(index, e.field, e.detail)
            record["source"] = convention.source
            return record, None
    return None, _error(index, None, UNRECOGNISED_SHAPE)


def map_request_logs(
    items: list[object], *, received_at_us: int, tenant: str | None = None
) -> tuple[list[Record], list[RecordError]]:
    """Map every item; the good records and the errors of the bad ones, by index."""
    records: list[Record] = []
    errors: list[RecordError] = []
    for index, item in enumerate(items):
        record, error = _map_one(item, index)
        if error is not None:
            errors.append(error)
        elif record is not None:
            record["tenant"] = tenant
            record["ingested_at"] = received_at_us
            records.append(record)
    return records, errors
