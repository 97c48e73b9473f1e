"""What every wire needs to know about one generator row, derived once: its ids, clock,
family, tool calls and the token counts a provider's own API would report."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import orjson

from sample_data.catalogue import MODELS, PROVIDERS

Row = dict[str, Any]

# Canonical finish reason → how an OpenAI-compatible answer, the AI SDK and OpenLLMetry's
# rewrite spell it (reference/conventions.md §2).
OPENAI_FINISH = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}
SDK_FINISH = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool-calls",
    "content_filter": "content-filter",
}
OPENLLMETRY_REWRITES = {
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    "tool_use": "tool_call",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
}


def present(record: dict[str, Any]) -> dict[str, Any]:
    """The fields that have a value: a JSON record leaves the others out."""
    return {k: v for k, v in record.items() if v is not None}


def family(row: Row) -> str:
    """'anthropic' (Claude anywhere), 'openai' (OpenAI-compatible answers) or 'gemini'."""
    return MODELS[row["model"]].family


def is_ok(row: Row) -> bool:
    return row["status"] == "ok"


def ids(row: Row) -> tuple[str, str]:
    """The row's trace and span id; a request-log row gets stable ones from its request id."""
    if row["trace_id"] and row["span_id"]:
        return row["trace_id"], row["span_id"]
    digest = hashlib.sha256(row["request_id"].encode()).hexdigest()
    return digest[:32], digest[32:48]


def response_id(row: Row) -> str:
    """The id the provider's answer carries (an error has none; the row keeps its own)."""
    return row["request_id"]


def otel_provider(row: Row, *, deprecated: bool = False) -> str:
    spec = PROVIDERS[row["provider"]]
    return spec.deprecated_name if deprecated else spec.otel_name


def gateway_provider(row: Row) -> str:
    return PROVIDERS[row["provider"]].gateway_name


def uncached_input(row: Row) -> int | None:
    """Input without cache reads and writes: what Anthropic's and Bedrock's own `input_tokens`
    count (the canonical input includes both)."""
    if row["input_tokens"] is None:
        return None
    return (
        row["input_tokens"] - (row["cached_input_tokens"] or 0) - (row["cache_write_tokens"] or 0)
    )


def visible_output(row: Row) -> int | None:
    """Output without reasoning: Gemini's `candidatesTokenCount` (the canonical output adds
    the thoughts)."""
    if row["output_tokens"] is None:
        return None
    return row["output_tokens"] - (row["reasoning_tokens"] or 0)


def tool_calls(row: Row) -> list[tuple[str, str, str]]:
    """(call id, tool name, arguments as JSON text) of each call the answer made."""
    if not is_ok(row):
        return []
    return [
        (f"call_{span_id}", name, orjson.dumps({"step": n}).decode())
        for n, (name, span_id) in enumerate(
            zip(row["tool_names"], row["tool_span_ids"], strict=True)
        )
    ]


def started_at(row: Row) -> dt.datetime:
    return row["started_at"]


def rfc3339(row: Row) -> str:
    return started_at(row).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def start_us(row: Row) -> int:
    return row["start_ns"] // 1000


def latency_ms(row: Row) -> float:
    return row["duration_ms"]


def ttft_ms(row: Row) -> float | None:
    return row["ttft_ms"]
