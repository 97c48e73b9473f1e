"""Anthropic Messages responses (`type: "message"`). Fields: anthropics/anthropic-sdk-python
src/anthropic/types/message.py, usage.py, output_tokens_details.py.

`usage.input_tokens` leaves the cache out: canonical input adds `cache_read_input_tokens` and
`cache_creation_input_tokens`. `output_tokens` includes thinking; the thinking count is known
only when `output_tokens_details.thinking_tokens` is reported. `tool_use` content blocks are the
client tool calls (`server_tool_use` blocks run at Anthropic and are not counted)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingest.conventions.canonical import count, text
from ingest.conventions.responses.reading import (
    ResponseKind,
    ResponseReading,
    counts_sum,
    mapping,
    objects,
    under,
)
from ingest.tool_quality import ToolCall


def detect(response: Mapping[str, Any]) -> bool:
    return response.get("type") == "message"


def read(response: Mapping[str, Any], provider_raw: str | None) -> ResponseReading:
    reading = ResponseReading(
        response_id=text(response, "id"),
        model=text(response, "model"),
        native_finish_reason=text(response, "stop_reason"),
        tool_calls=[],
    )
    for index, block in objects(response, "content"):
        if block.get("type") == "tool_use":
            with under(f"content.{index}"):
                reading.tool_calls.append(ToolCall(text(block, "name"), block.get("input")))
    usage = mapping(response, "usage")
    if usage is not None:
        with under("usage"):
            reading.input_tokens = counts_sum(
                usage, "input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"
            )
            reading.output_tokens = count(usage, "output_tokens")
            reading.cached_input_tokens = count(usage, "cache_read_input_tokens")
            reading.cache_write_tokens = count(usage, "cache_creation_input_tokens")
            details = mapping(usage, "output_tokens_details") or {}
            with under("output_tokens_details"):
                reading.reasoning_tokens = count(details, "thinking_tokens")
    return reading


KIND = ResponseKind("requests:anthropic-messages", "anthropic", detect, read)
