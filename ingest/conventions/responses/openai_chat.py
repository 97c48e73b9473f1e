"""OpenAI Chat Completions responses (`object: "chat.completion"`), the shape most
OpenAI-compatible providers and LiteLLM answer in. Fields: openai/openai-python
src/openai/types/chat/chat_completion.py and src/openai/types/completion_usage.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingest.conventions.canonical import count, text
from ingest.conventions.responses.reading import (
    ResponseKind,
    ResponseReading,
    first_object,
    mapping,
    objects,
    under,
)
from ingest.normalize import normalize_provider
from ingest.tool_quality import ToolCall


def detect(response: Mapping[str, Any]) -> bool:
    return response.get("object") == "chat.completion" or (
        "object" not in response and isinstance(response.get("choices"), list)
    )


def _tool_calls(message: Mapping[str, Any]) -> list[ToolCall]:
    calls: list[ToolCall] = []
    for index, call in objects(message, "tool_calls"):
        with under(f"tool_calls.{index}"):
            function = mapping(call, "function") or {}
            with under("function"):
                calls.append(ToolCall(text(function, "name"), function.get("arguments")))
    legacy = mapping(message, "function_call")  # before `tools`: one call, same shape
    if legacy is not None:
        with under("function_call"):
            calls.append(ToolCall(text(legacy, "name"), legacy.get("arguments")))
    return calls


def read(response: Mapping[str, Any], provider_raw: str | None) -> ResponseReading:
    reading = ResponseReading(response_id=text(response, "id"), model=text(response, "model"))
    choice = first_object(response, "choices")
    if choice is not None:
        with under("choices.0"):
            reading.native_finish_reason = text(choice, "finish_reason")
            message = mapping(choice, "message")
            if message is not None:
                with under("message"):
                    reading.tool_calls = _tool_calls(message)
    usage = mapping(response, "usage")
    if usage is not None:
        with under("usage"):
            _read_usage(usage, reading, normalize_provider(provider_raw))
    return reading


def _read_usage(usage: Mapping[str, Any], reading: ResponseReading, provider: str | None) -> None:
    """`prompt_tokens` already includes cached input and `completion_tokens` reasoning, except
    at xAI, whose `completion_tokens` leave the reasoning out (reference/conventions.md §3)."""
    reading.input_tokens = count(usage, "prompt_tokens")
    reading.output_tokens = count(usage, "completion_tokens")
    completion_details = mapping(usage, "completion_tokens_details") or {}
    with under("completion_tokens_details"):
        reading.reasoning_tokens = count(completion_details, "reasoning_tokens")
    prompt_details = mapping(usage, "prompt_tokens_details") or {}
    with under("prompt_tokens_details"):
        cached = count(prompt_details, "cached_tokens")
    # DeepSeek's own name for cache reads; LiteLLM's usage carries Anthropic's cache writes.
    reading.cached_input_tokens = (
        cached if cached is not None else count(usage, "prompt_cache_hit_tokens")
    )
    reading.cache_write_tokens = count(usage, "cache_creation_input_tokens")
    if provider == "xai" and reading.output_tokens is not None:
        reading.output_tokens += reading.reasoning_tokens or 0


KIND = ResponseKind("requests:openai-chat", None, detect, read)
