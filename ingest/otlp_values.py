"""OTLP field values shared by the trace and log decoders: AnyValue and attribute lists (within
the configured limits, cuts counted), OTLP JSON's numbers and hex ids, and the error a body
that cannot be decoded raises.

OTLP JSON differs from stock protobuf JSON: ids are hex (not base64), int64s arrive as decimal
strings, enums as integers (reference/conventions.md §5).
"""

from __future__ import annotations

import base64
import math
from typing import Any

from ingest.limits import (
    ATTRIBUTES_DROPPED,
    VALUE_TOO_DEEP,
    VALUE_TOO_LONG,
    VALUE_WRONG_TYPE,
    ValueLimits,
    count_cut,
    current_limits,
)

MAX_QUOTED_CHARS = 80  # of a bad value quoted in an error message


class PayloadError(ValueError):
    """The whole body cannot be decoded (→ HTTP 400)."""


# --- protobuf -------------------------------------------------------------------------


def pb_value(value: Any, depth: int = 0, limits: ValueLimits | None = None) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    limits = limits or current_limits()
    if kind == "array_value":
        if _too_deep(depth, limits):
            return None
        return [pb_value(v, depth + 1, limits) for v in _capped(value.array_value.values, limits)]
    if kind == "kvlist_value":
        if _too_deep(depth, limits):
            return None
        return pb_attributes(value.kvlist_value.values, depth + 1, limits)
    scalar = getattr(value, kind)
    if kind in ("string_value", "bytes_value"):
        return _within_length(scalar, limits)
    return scalar


_NUMBERS = frozenset({"int_value", "double_value", "bool_value"})


def pb_attributes(
    attributes: Any, depth: int = 0, limits: ValueLimits | None = None
) -> dict[str, Any]:
    """Attributes → dict. The hot path of protobuf ingest: strings and numbers, nearly every
    attribute, are read here without a call per value."""
    limits = limits or current_limits()
    max_chars = limits.max_chars
    out: dict[str, Any] = {}
    for kv in _capped(attributes, limits):
        value = kv.value
        kind = value.WhichOneof("value")
        if kind == "string_value":
            text = value.string_value
            out[kv.key] = text if len(text) <= max_chars else _within_length(text, limits)
        elif kind in _NUMBERS:
            out[kv.key] = getattr(value, kind)
        else:
            out[kv.key] = pb_value(value, depth, limits)
    return out


def _capped(entries: Any, limits: ValueLimits) -> Any:
    """The first `max_attributes` entries of an attribute list, kvlist or array."""
    if len(entries) <= limits.max_attributes:
        return entries
    count_cut(ATTRIBUTES_DROPPED)
    return entries[: limits.max_attributes]


def _too_deep(depth: int, limits: ValueLimits) -> bool:
    if depth < limits.max_depth:
        return False
    count_cut(VALUE_TOO_DEEP)
    return True


def _within_length(value: str | bytes, limits: ValueLimits) -> str | bytes | None:
    if len(value) <= limits.max_chars:
        return value
    count_cut(VALUE_TOO_LONG)
    return None


# --- JSON -----------------------------------------------------------------------------


def json_value(value: Any, depth: int = 0, limits: ValueLimits | None = None) -> Any:
    if not isinstance(value, dict) or not value:
        return None
    limits = limits or current_limits()
    for key, raw in value.items():
        if key in ("stringValue", "string_value"):
            return _within_length(raw, limits) if isinstance(raw, str) else _wrong_type()
        if key in ("intValue", "int_value"):
            number = json_int(raw)
            return number if number is not None else _wrong_type()
        if key in ("doubleValue", "double_value"):
            number = json_double(raw)
            return number if number is not None else _wrong_type()
        if key in ("boolValue", "bool_value"):
            return raw if isinstance(raw, bool) else _wrong_type()
        if key in ("bytesValue", "bytes_value"):
            try:
                return _within_length(base64.b64decode(raw, validate=True), limits)
            except (ValueError, TypeError):
                return _wrong_type()
        if key in ("arrayValue", "array_value"):
            if _too_deep(depth, limits):
                return None
            values = raw.get("values") if isinstance(raw, dict) else None
            if not isinstance(values, list):
                return []
            return [json_value(v, depth + 1, limits) for v in _capped(values, limits)]
        if key in ("kvlistValue", "kvlist_value"):
            if _too_deep(depth, limits):
                return None
            values = raw.get("values") if isinstance(raw, dict) else None
            return json_attributes(values, depth + 1, limits)
    return None


def _wrong_type() -> None:
    count_cut(VALUE_WRONG_TYPE)
    return None


def json_attributes(
    attributes: Any, depth: int = 0, limits: ValueLimits | None = None
) -> dict[str, Any]:
    if not isinstance(attributes, list):
        return {}
    limits = limits or current_limits()
    out: dict[str, Any] = {}
    for kv in _capped(attributes, limits):
        if isinstance(kv, dict):
            key = kv.get("key")
            if isinstance(key, str):
                out[key] = json_value(kv.get("value"), depth, limits)
    return out


def json_int(raw: Any) -> int | None:
    """OTLP JSON int64: a decimal string (spec) or a number (accepted)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            return None
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return int(raw)
    return None


def json_double(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):  # "NaN", "Infinity" are legal protobuf JSON
        try:
            return float(raw)
        except ValueError:
            return None
    return None


def hex_id(raw: Any, size: int, name: str, required: bool) -> str:
    if raw in (None, ""):
        if required:
            raise ValueError(f"{name} is missing")
        return ""
    if not isinstance(raw, str) or len(raw) != size * 2:
        raise ValueError(f"{name} must be {size * 2} hex characters")
    try:
        bytes.fromhex(raw)
    except ValueError:
        raise ValueError(f"{name} is not hex: {raw!r}") from None
    return raw.lower()


def first_of(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_QUOTED_CHARS else text[:MAX_QUOTED_CHARS] + "…"
