"""What one provider response says about its request, read once per response kind.

Every kind (OpenAI chat, Responses, Anthropic Messages, Gemini, Bedrock Converse, an error
body) turns its own JSON into a `ResponseReading`; the wrapped-response envelope and the
LiteLLM payload build their rows from it. Readers are strict like the canonical ones: a value
of the wrong type raises `FieldError` with its dotted path (`response.usage.input_tokens`).
Prompt and completion text is never read; tool-call arguments are read only to classify them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ingest.conventions.canonical import FieldError, count, text
from ingest.record import Record
from ingest.tool_quality import ToolCall, classify_tool_calls, tool_definitions


@dataclass(slots=True)
class ResponseReading:
    response_id: str | None = None
    model: str | None = None
    native_finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None  # None = not reported, never 0 for "unknown"
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    tool_calls: list[ToolCall] | None = None  # None = the response cannot say
    error_signals: tuple[str | None, ...] = ()  # most specific first
    http_status: int | None = None
    latency_ms: float | None = None  # as the provider measured it (Bedrock metrics)
    cancelled: bool = False
    answered: bool = True  # False: there was no response body at all


@dataclass(frozen=True, slots=True)
class ResponseKind:
    source: str
    default_provider: str | None  # when the envelope names none; None where many providers share
    detect: Callable[[Mapping[str, Any]], bool]
    # (response body, raw provider from the envelope) → reading
    read: Callable[[Mapping[str, Any], str | None], ResponseReading]


@contextmanager
def under(prefix: str) -> Iterator[None]:
    """Prefix the field of a `FieldError` raised inside with the path of its parent."""
    try:
        yield
    except FieldError as e:
        raise FieldError(f"{prefix}.{e.field}" if e.field else prefix, e.detail) from None


def mapping(parent: Mapping[str, Any], field: str) -> Mapping[str, Any] | None:
    value = parent.get(field)
    if value is None or isinstance(value, Mapping):
        return value
    raise FieldError(field, f"not an object: {value!r}")


def array(parent: Mapping[str, Any], field: str) -> list[Any] | None:
    value = parent.get(field)
    if value is None or isinstance(value, list):
        return value
    raise FieldError(field, f"not an array: {value!r}")


def objects(parent: Mapping[str, Any], field: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """The objects of an array field with their index; a non-object item is a `FieldError`."""
    for index, item in enumerate(array(parent, field) or ()):
        if not isinstance(item, Mapping):
            raise FieldError(f"{field}.{index}", f"not an object: {item!r}")
        yield index, item


def first_object(parent: Mapping[str, Any], field: str) -> Mapping[str, Any] | None:
    """Item 0 of an array of objects (choice 0, candidate 0 are canonical)."""
    return next((item for _, item in objects(parent, field)), None)


def counts_sum(parent: Mapping[str, Any], base: str, *extra: str) -> int | None:
    """`base` plus the `extra` counts that are present; None when `base` is absent."""
    total = count(parent, base)
    if total is None:
        return None
    return total + sum(count(parent, field) or 0 for field in extra)


def choice(item: Mapping[str, Any], field: str, values: Mapping[str, str]) -> str | None:
    """A string field that must be one of `values` (case-insensitive) → its canonical value."""
    value = text(item, field)
    if value is None:
        return None
    found = values.get(value.lower())
    if found is None:
        raise FieldError(field, f"not {' or '.join(map(repr, values))}: {value!r}")
    return found


def tool_columns(calls: list[ToolCall] | None, declared: Any) -> Record:
    """`tool_calls` and the four quality columns from the calls a response made and the tools
    its request declared (any provider's shape)."""
    return {
        "tool_calls": None if calls is None else len(calls),
        **classify_tool_calls(tool_definitions(declared), calls or []),
    }
