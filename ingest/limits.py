"""Limits on what one decoded attribute set may hold, and the count of values cut by them
(or dropped for not matching their declared type, or for not fitting their column).

The OTLP decoders share their attribute readers between traces and logs, and between the
HTTP API and `gatewatch ingest`; the limits in force and the counter of cuts travel with the
body being decoded (a context variable), so no decoder signature has to carry them.

A cut never rejects the span: an attribute past the count limit is dropped, a value nested
deeper than the depth limit or longer than the length limit becomes None (NULL). Long strings
are dropped rather than truncated: the attributes gatewatch reads are ids, names, enums and
numbers, which are never that long, and a truncated id or JSON document would be a wrong
value where NULL is an honest "unknown".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

DEFAULT_MAX_ATTRIBUTES = 1024
DEFAULT_MAX_VALUE_DEPTH = 8
DEFAULT_MAX_VALUE_CHARS = 64 * 1024

# Warning kinds, as counted in Prepared.warnings and exported by /metrics.
ATTRIBUTES_DROPPED = "attributes over the count limit dropped"
VALUE_TOO_DEEP = "attribute value nested too deep"
VALUE_TOO_LONG = "attribute value over the length limit"
VALUE_WRONG_TYPE = "attribute value does not match its type"  # e.g. {"intValue": "many"}
VALUE_OUT_OF_RANGE = "value too large for its column"  # e.g. http_status 2**31


@dataclass(frozen=True, slots=True)
class ValueLimits:
    max_attributes: int = DEFAULT_MAX_ATTRIBUTES  # per attribute list, kvlist or array
    max_depth: int = DEFAULT_MAX_VALUE_DEPTH  # nested arrays/kvlists in one AnyValue
    max_chars: int = DEFAULT_MAX_VALUE_CHARS  # per string (characters) or bytes value (bytes)

    def __post_init__(self) -> None:
        for name in ("max_attributes", "max_depth", "max_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


@dataclass(slots=True)
class _Active:
    limits: ValueLimits
    cuts: Counter[str] = field(default_factory=Counter)


_active: ContextVar[_Active] = ContextVar("gatewatch_value_limits")
_DEFAULT = ValueLimits()


def current_limits() -> ValueLimits:
    active = _active.get(None)
    return active.limits if active is not None else _DEFAULT


def count_cut(kind: str, n: int = 1) -> None:
    """Record that a limit cut a value (outside `applied` the cut still happens, uncounted)."""
    active = _active.get(None)
    if active is not None:
        active.cuts[kind] += n


@contextmanager
def applied(limits: ValueLimits) -> Iterator[Counter[str]]:
    """Decode under `limits`; the yielded counter fills with the cuts made meanwhile."""
    active = _Active(limits)
    token = _active.set(active)
    try:
        yield active.cuts
    finally:
        _active.reset(token)
