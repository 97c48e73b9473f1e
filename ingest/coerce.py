"""Lenient field coercion: a value of the wrong type becomes None (NULL) and is counted as a
warning by the caller, never a rejected batch."""

from __future__ import annotations

import math
from typing import Any

import orjson

# A count above this is not a real token count (and would overflow downstream sums).
MAX_COUNT = 2**53


def to_count(value: Any) -> int | None:
    """A non-negative integer count from an int, an integral float or a digit string."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        result = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        result = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            return None
        result = int(text)
    else:
        return None
    return result if 0 <= result <= MAX_COUNT else None


def to_float(value: Any) -> float | None:
    """A finite, non-negative float from a number or a numeric string."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) and result >= 0 else None


def to_bool(value: Any) -> bool | None:
    """A boolean, or the text "true"/"false" in any case (LiteLLM writes "True"/"False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool | int | float):
        return str(value)
    return None


def parse_json(value: Any) -> Any:
    """JSON text (an attribute or field that carries JSON as a string) decoded; other values
    as they are; None for broken JSON."""
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value
