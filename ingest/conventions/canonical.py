"""The canonical request record (keys = `requests` column names) and the strict field readers
every request-log convention shares: a value of the wrong type rejects the record with a
`FieldError` naming the field, so a bad record never lands half-read."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ingest.coerce import to_bool, to_count, to_float
from ingest.normalize import (
    classify_error,
    known_finish_reason,
    normalize_finish_reason,
    normalize_model,
    normalize_provider,
)
from ingest.record import Record

SOURCE = "requests:canonical"

# A count above this is not a real token count (and would overflow downstream sums).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
# Fractions finer than microseconds (RFC 3339 allows nanoseconds) are cut to 6 digits.
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")
# Epoch numbers: the unit is decided by magnitude (seconds up to year 5138, and so on).
_EPOCH_UNITS_US: tuple[tuple[float, int], ...] = ((1e11, 1_000_000), (1e14, 1_000), (1e17, 1))
_EPOCH_NUMBER = re.compile(r"\s*\d+(\.\d+)?\s*")
_MAX_TIMESTAMP_US = (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - _EPOCH) // _ONE_US


class FieldError(ValueError):
    """One field of one record is unusable; the record is rejected, its neighbours are not."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.detail = message


def text(item: Mapping[str, Any], field: str, *, required: bool = False) -> str | None:
    """A string field; numbers are accepted for ids (OpenRouter's numeric `app_id`)."""
    value = item.get(field)
    if isinstance(value, str):
        value = value.strip()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    elif value is not None:
        raise FieldError(field, f"not a string: {value!r}")
    if not value:
        if required:
            raise FieldError(field, "required, a non-empty string")
        return None
    return value


def count(item: Mapping[str, Any], field: str) -> int | None:
    """A non-negative integer from an int, an integral float or a string of digits."""
    value = item.get(field)
    if value is None:
        return None
    result = to_count(value)
    if result is None:
        raise FieldError(field, f"not a non-negative integer: {value!r}")
    return result


def amount(item: Mapping[str, Any], field: str) -> float | None:
    """A finite, non-negative number (or numeric string): milliseconds, US dollars."""
    value = item.get(field)
    if value is None:
        return None
    result = to_float(value)
    if result is None:
        raise FieldError(field, f"not a non-negative number: {value!r}")
    return result


milliseconds = amount


def http_status(item: Mapping[str, Any], field: str) -> int | None:
    status = count(item, field)
    if status is not None and not 100 <= status <= 599:
        raise FieldError(field, f"not an HTTP status: {item.get(field)!r}")
    return status


def boolean(item: Mapping[str, Any], field: str) -> bool | None:
    """A boolean or the text "true"/"false" (any case); None when absent."""
    value = item.get(field)
    if value is None:
        return None
    result = to_bool(value)
    if result is None:
        raise FieldError(field, f"not a boolean: {value!r}")
    return result


def flag(item: Mapping[str, Any], field: str) -> bool:
    """A boolean that is false when absent."""
    return bool(boolean(item, field))


def _epoch_to_us(value: float) -> int | None:
    if not math.isfinite(value) or value < 0:
        return None
    for limit, unit_us in _EPOCH_UNITS_US:
        if value < limit:
            return value * unit_us if isinstance(value, int) else round(value * unit_us)
    return int(value) // 1_000  # nanoseconds


def timestamp_us(item: Mapping[str, Any], field: str, *, required: bool = False) -> int | None:
    """Microseconds since the epoch from an RFC 3339 / ISO 8601 string (naive = UTC) or an
    epoch number in seconds, milliseconds, microseconds or nanoseconds (by magnitude)."""
    value = item.get(field)
    if value is None or value == "":
        if required:
            raise FieldError(field, "required, a timestamp")
        return None
    result: int | None = None
    if isinstance(value, str) and _EPOCH_NUMBER.fullmatch(value):
        value = int(value) if value.strip().isdigit() else float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        result = _epoch_to_us(value)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(_LONG_FRACTION.sub(r"\1", value.strip()))
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            result = (parsed - _EPOCH) // _ONE_US
    if result is not None and 0 <= result <= _MAX_TIMESTAMP_US:
        return result
    raise FieldError(field, f"not a timestamp: {value!r}")


def resolve_outcome(
    record: Record,
    *,
    native: str | None,
    given_reason: str | None = None,
    status: str | None = None,
    error_signals: tuple[str | None, ...] = (),
    cancelled: bool = False,
) -> None:
    """Fill `status`, `error_type`, `finish_reason` and `native_finish_reason` of a record whose
    `http_status` and `tool_calls` are already set. A cancelled request is an error of type
    `cancelled`: it counts in `requests` only, never as ok nor against the provider.

    A gateway's own `tool_calls` label says the answer held tool calls (OpenRouter reports it
    where Gemini's native reason is `STOP`). With no count given, a request known to have
    ended otherwise (or failed) made none, as for spans (`span_record`); one that ended on
    tool calls made some, count unknown (NULL)."""
    has_error_signal = any(error_signals) or (record.get("http_status") or 0) >= 400
    labels = (known_finish_reason(native), known_finish_reason(given_reason))
    cancelled = cancelled or "cancelled" in labels
    if status is None:
        status = "error" if has_error_signal or cancelled or "error" in labels else "ok"
    record["error_type"] = None
    if status == "error":
        signals = ("cancelled", *error_signals) if cancelled else error_signals
        record["error_type"] = classify_error(*signals, http_status=record.get("http_status"))
        cancelled = record["error_type"] == "cancelled"
    # A recognised native reason is kept over the caller's own label, else the label is used.
    reason = native if known_finish_reason(native) or not given_reason else given_reason
    record["status"] = status
    record["native_finish_reason"] = native or given_reason
    record["finish_reason"] = normalize_finish_reason(
        reason,
        has_tool_calls=(record.get("tool_calls") or 0) > 0 or labels[1] == "tool_calls",
        cancelled=cancelled,
        is_error=status == "error",
    )
    if record.get("tool_calls") is None and record["finish_reason"] not in (None, "tool_calls"):
        record["tool_calls"] = 0


def _status(item: Mapping[str, Any]) -> str | None:
    value = text(item, "status")
    if value is None:
        return None
    if value.lower() not in ("ok", "error"):
        raise FieldError("status", f"not 'ok' or 'error': {value!r}")
    return value.lower()


def matches(item: Mapping[str, Any]) -> bool:
    return "request_id" in item


def to_record(item: Mapping[str, Any]) -> Record:
    """Map one canonical record. `tenant`, `source` and `ingested_at` are assigned by the
    ingest path, never taken from the body."""
    provider_raw = text(item, "provider_raw") or text(item, "provider")
    model_raw = text(item, "model_raw") or text(item, "model")
    record: Record = {
        "request_id": text(item, "request_id", required=True),
        "trace_id": text(item, "trace_id"),
        "span_id": text(item, "span_id"),
        "parent_span_id": text(item, "parent_span_id"),
        "started_at": timestamp_us(item, "started_at", required=True),
        "duration_ms": milliseconds(item, "duration_ms"),
        "ttft_ms": milliseconds(item, "ttft_ms"),
        "provider": normalize_provider(text(item, "provider") or provider_raw),
        "provider_raw": provider_raw,
        "model": normalize_model(text(item, "model") or model_raw),
        "model_raw": model_raw,
        "input_tokens": count(item, "input_tokens"),
        "output_tokens": count(item, "output_tokens"),
        "reasoning_tokens": count(item, "reasoning_tokens"),
        "cached_input_tokens": count(item, "cached_input_tokens"),
        "cache_write_tokens": count(item, "cache_write_tokens"),
        "tool_calls": count(item, "tool_calls"),
        "http_status": http_status(item, "http_status"),
        "app": text(item, "app"),
        "user_id": text(item, "user_id"),
        "session_id": text(item, "session_id"),
        "cost_usd": amount(item, "cost_usd"),
        "reasoning_level": text(item, "reasoning_level"),
        "stream": boolean(item, "stream"),
        "server_address": text(item, "server_address"),
    }
    resolve_outcome(
        record,
        native=text(item, "native_finish_reason"),
        given_reason=text(item, "finish_reason"),
        status=_status(item),
        error_signals=(text(item, "error_type"),),
    )
    return record
