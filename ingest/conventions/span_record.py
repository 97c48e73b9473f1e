"""The one span → canonical record builder every span convention shares.

A convention only extracts `SpanFields` from a span's attributes (its own names and spellings);
the rules that must not differ between conventions live here: timestamp sanity, status and
error type, finish reason precedence, tool-call counting and tool-call quality.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ingest.coerce import MAX_COUNT, parse_json, to_bool, to_count, to_float, to_text
from ingest.normalize import (
    classify_error,
    normalize_finish_reason,
    normalize_model,
    normalize_provider,
)
from ingest.otlp import STATUS_CODE_ERROR, SpanView
from ingest.record import Record
from ingest.tool_quality import ToolCall, ToolDefinitions, classify_tool_calls

Role = Literal["llm", "tool"]

NS_PER_DAY = 86_400 * 10**9
# A start before 2000 is a timestamp in the wrong unit (seconds or microseconds), not a request.
EARLIEST_START_NS = 946_684_800 * 10**9
# The span event every instrumentation records for an exception, and the GenAI client one, which
# means the operation failed (semantic-conventions-genai model/gen-ai/events.yaml).
EXCEPTION_EVENT = "exception"
GENAI_EXCEPTION_EVENT = "gen_ai.client.operation.exception"


@dataclass(slots=True)
class SpanFields:
    """What one convention read from one LLM span; `None` everywhere means "not reported"."""

    source: str
    provider_raw: str | None = None
    provider: str | None = None  # None: `provider_raw` normalized
    model_raw: str | None = None
    finish_reasons: list[str] = field(default_factory=list)  # choice 0 first
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    # The calls the response itself reports (choice 0); None = the span does not say.
    tool_calls: list[ToolCall] | None = None
    tool_definitions: ToolDefinitions | None = None
    ttft_ms: float | None = None
    duration_ms: float | None = None  # reported latency, used when the span's clock is unusable
    response_id: str | None = None
    cost_usd: float | None = None  # as the producer reported it
    error_signals: tuple[str | None, ...] = ()  # most specific first
    http_status: int | None = None
    app: str | None = None  # None: the resource's service.name
    user_id: str | None = None
    session_id: str | None = None
    reasoning_level: str | None = None  # as sent to the provider
    stream: bool | None = None
    server_address: str | None = None


@dataclass(frozen=True, slots=True)
class SpanConvention:
    """`claims` decides which convention reads a span; `role` whether it is a request row
    ("llm"), a tool execution ("tool") or neither (None); `fields` reads a request span."""

    name: str
    claims: Callable[[SpanView], bool]
    role: Callable[[SpanView], Role | None]
    fields: Callable[[SpanView, AttributeReader], SpanFields]


# --- reading attributes ------------------------------------------------------------------------


def json_items(value: Any) -> list[Any] | None:
    """A JSON array (or its text) whose items may themselves be JSON text, decoded."""
    items = parse_json(value)
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list):
        return None
    return [parse_json(item) for item in items]


def key_prefix_test(prefixes: str | tuple[str, ...]) -> Callable[[SpanView], bool]:
    """A test for "one of the span's attribute keys starts with one of `prefixes`"."""
    needles = tuple("\0" + p for p in ((prefixes,) if isinstance(prefixes, str) else prefixes))
    return lambda span: span.has_key_prefix(needles)


_INDEXED = re.compile(r"^(\d+)\.(.+)$")


def indexed(attrs: Mapping[str, Any], prefix: str) -> dict[int, dict[str, Any]]:
    """Flattened list attributes `prefix.N.rest` → {N: {rest: value}} (OpenInference,
    OpenLLMetry and LiteLLM flatten lists of objects this way)."""
    groups: dict[int, dict[str, Any]] = {}
    start = len(prefix) + 1
    for key, value in attrs.items():
        if key.startswith(prefix) and key[start - 1 : start] == ".":
            match = _INDEXED.match(key[start:])
            if match:
                groups.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return dict(sorted(groups.items()))


def calls_from_indexed(
    groups: Mapping[int, Mapping[str, Any]], name_key: str, arguments_key: str
) -> list[ToolCall]:
    return [ToolCall(to_text(g.get(name_key)), g.get(arguments_key)) for g in groups.values()]


class AttributeReader:
    """Typed reads of one span's attributes; a present but unusable value is None plus a
    warning named after the first (canonical) key of the group."""

    __slots__ = ("attrs", "warnings")

    def __init__(self, attrs: Mapping[str, Any], warnings: Counter[str]) -> None:
        self.attrs = attrs
        self.warnings = warnings

    def first(self, *keys: str) -> Any:
        get = self.attrs.get
        for key in keys:
            value = get(key)
            if value is not None:
                return value
        return None

    # `text` and `count` run ~15 times per span: the lookup loop is inlined, not a call.
    def text(self, *keys: str) -> str | None:
        get = self.attrs.get
        for key in keys:
            value = get(key)
            if value is not None:
                # Nearly every value read is already a non-empty string: no call for it.
                return value if type(value) is str and value else to_text(value)
        return None

    def _checked(self, keys: tuple[str, ...], convert: Callable[[Any], Any]) -> Any:
        raw = self.first(*keys)
        if raw is None:
            return None
        return self._converted(keys, raw, convert)

    def _converted(self, keys: tuple[str, ...], raw: Any, convert: Callable[[Any], Any]) -> Any:
        value = convert(raw)
        if value is None:
            self.warnings[f"invalid {keys[0]}"] += 1
        return value

    def count(self, *keys: str) -> int | None:
        get = self.attrs.get
        for key in keys:
            raw = get(key)
            if raw is not None:
                if type(raw) is int and 0 <= raw <= MAX_COUNT:  # the usual case, as it is
                    return raw
                return self._converted(keys, raw, to_count)
        return None

    def seconds_as_ms(self, *keys: str) -> float | None:
        seconds = self._checked(keys, to_float)
        return seconds * 1000.0 if seconds is not None else None

    def flag(self, *keys: str) -> bool | None:
        """A boolean, or its text "true"/"false" in any case."""
        return self._checked(keys, to_bool)

    def amount(self, *keys: str) -> float | None:
        """A non-negative number as it is (milliseconds, dollars, ...)."""
        return self._checked(keys, to_float)

    def json(self, *keys: str) -> Any:
        return self._checked(keys, parse_json)


# --- building the record -----------------------------------------------------------------------


def span_times(
    span: SpanView, now_ns: int, warnings: Counter[str]
) -> tuple[int | None, float | None]:
    """(started_at µs, duration ms) from the span's clock, or None for an unusable value.
    A span with neither timestamp simply did not report them; anything else odd is counted."""
    start, end = span.start_ns, span.end_ns
    if start == 0 and end == 0:
        return None, None
    latest = now_ns + NS_PER_DAY
    if not EARLIEST_START_NS <= start <= latest:
        warnings["invalid span start time"] += 1
        return None, None
    if end == 0 or end > latest:
        warnings["invalid span end time"] += 1
        return start // 1000, None
    if end < start:
        warnings["span ends before it starts"] += 1
        return start // 1000, None
    return start // 1000, (end - start) / 1_000_000


def exception_signals(span: SpanView) -> tuple[tuple[str | None, ...], bool]:
    """(`error.type` and `exception.type` of the span's exception events, whether one of them
    is the GenAI client event that marks the operation as failed). The GenAI event carries
    `exception.type` / `.message` and may repeat the span's attributes, `error.type` among
    them (semantic-conventions-genai docs/gen-ai/gen-ai-exceptions.md)."""
    signals: list[str | None] = []
    failed = False
    for name, attrs in span.events:
        if name not in (EXCEPTION_EVENT, GENAI_EXCEPTION_EVENT):
            continue
        if name == GENAI_EXCEPTION_EVENT:
            failed = True
            signals.append(to_text(attrs.get("error.type")))
        signals.append(to_text(attrs.get("exception.type")))
    return tuple(signals), failed


def tool_call_count(reported: int | None, children: int, finish_reason: str | None) -> int | None:
    """A response's reported calls and its tool-execution children are two views of the same
    calls, so the larger wins; with neither, a `tool_calls` finish means "some, count unknown"."""
    if reported is not None:
        return max(reported, children)
    if children == 0 and finish_reason == "tool_calls":
        return None
    return children


def build_record(
    span: SpanView,
    fields: SpanFields,
    tool_children: int,
    warnings: Counter[str],
    *,
    ingested_at_us: int,
) -> Record:
    started_at, duration_ms = span_times(span, ingested_at_us * 1000, warnings)
    if duration_ms is None:
        duration_ms = fields.duration_ms
    http_status = fields.http_status
    signals = fields.error_signals
    event_signals, exception_failed = exception_signals(span)
    is_error = (
        span.status_code == STATUS_CODE_ERROR
        or exception_failed
        or any(signals)
        or (http_status is not None and http_status >= 400)
    )
    reported = len(fields.tool_calls) if fields.tool_calls is not None else None
    native = fields.finish_reasons[0] if fields.finish_reasons else None
    finish_reason = normalize_finish_reason(
        native, has_tool_calls=(reported or 0) > 0 or tool_children > 0, is_error=is_error
    )
    record: Record = {
        "request_id": fields.response_id or f"{span.trace_id}:{span.span_id}",
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id or None,
        "started_at": started_at,
        "duration_ms": duration_ms,
        "ttft_ms": fields.ttft_ms,
        "provider": fields.provider or normalize_provider(fields.provider_raw),
        "provider_raw": fields.provider_raw,
        "model": normalize_model(fields.model_raw),
        "model_raw": fields.model_raw,
        "finish_reason": finish_reason,
        "native_finish_reason": native,
        "input_tokens": fields.input_tokens,
        "output_tokens": fields.output_tokens,
        "reasoning_tokens": fields.reasoning_tokens,
        "cached_input_tokens": fields.cached_input_tokens,
        "cache_write_tokens": fields.cache_write_tokens,
        "tool_calls": tool_call_count(reported, tool_children, finish_reason),
        "status": "error" if is_error else "ok",
        "error_type": classify_error(*signals, *event_signals, http_status=http_status)
        if is_error
        else None,
        "http_status": http_status,
        "app": fields.app or to_text(span.resource.get("service.name")),
        "user_id": fields.user_id,
        "session_id": fields.session_id,
        "source": fields.source,
        "ingested_at": ingested_at_us,
        "cost_usd": fields.cost_usd,
        "reasoning_level": fields.reasoning_level,
        "stream": fields.stream,
        "server_address": fields.server_address,
    }
    if fields.tool_calls:
        quality = classify_tool_calls(fields.tool_definitions, fields.tool_calls)
        if any(v is not None for v in quality.values()):
            record.update(quality)
    return record
