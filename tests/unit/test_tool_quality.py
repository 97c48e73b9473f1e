"""Tool-call quality classes on planted calls: each call lands in exactly one class."""

from __future__ import annotations

import pytest

from ingest.tool_quality import QUALITY_COLUMNS, ToolCall, classify_tool_calls, tool_definitions

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city"],
}


@pytest.mark.parametrize(
    "declared",
    [
        [{"type": "function", "function": {"name": "weather", "parameters": WEATHER_SCHEMA}}],
        [{"type": "function", "name": "weather", "parameters": WEATHER_SCHEMA}],  # Responses
        [{"name": "weather", "input_schema": WEATHER_SCHEMA}],  # Anthropic
        [{"functionDeclarations": [{"name": "weather", "parameters": WEATHER_SCHEMA}]}],
        [{"toolSpec": {"name": "weather", "inputSchema": {"json": WEATHER_SCHEMA}}}],
    ],
    ids=["openai-chat", "openai-responses", "anthropic", "gemini", "bedrock"],
)
def test_definitions_in_every_provider_shape(declared: list) -> None:
    assert tool_definitions(declared) == {"weather": WEATHER_SCHEMA}


def test_definitions_from_json_text_and_junk() -> None:
    text = '[{"name": "weather", "parameters": "{\\"type\\": \\"object\\"}"}]'
    assert tool_definitions(text) == {"weather": {"type": "object"}}
    assert tool_definitions("not json") is None
    assert tool_definitions([{"description": "no name"}, 3]) is None
    assert tool_definitions([{"name": "bare"}]) == {"bare": None}


def test_each_class_is_counted_once() -> None:
    definitions = {"weather": WEATHER_SCHEMA, "anything": None}
    calls = [
        ToolCall("weather", '{"city": "Oslo", "days": 3}'),  # valid
        ToolCall("weather", {"city": "Oslo"}),  # valid, already decoded
        ToolCall("weather", '{"city": "Oslo", "days": "three"}'),  # schema mismatch
        ToolCall("weather", '{"days": 3}'),  # schema mismatch: city missing
        ToolCall("weather", '{"city": "Oslo"'),  # invalid JSON
        ToolCall("weather", '["Oslo"]'),  # JSON but not an object
        ToolCall("search", '{"q": "x"}'),  # unknown tool
        ToolCall(None, "{}"),  # unknown tool: no name
        ToolCall("anything", '{"free": "form"}'),  # declared without schema: valid
    ]
    assert classify_tool_calls(definitions, calls) == {
        "tool_calls_valid": 3,
        "tool_calls_invalid_json": 2,
        "tool_calls_unknown_tool": 2,
        "tool_calls_schema_mismatch": 2,
    }


def test_an_invalid_schema_cannot_fail_a_call() -> None:
    definitions = {"broken": {"type": 12}}
    assert classify_tool_calls(definitions, [ToolCall("broken", "{}")])["tool_calls_valid"] == 1


@pytest.mark.parametrize(
    ("definitions", "calls"),
    [
        (None, [ToolCall("weather", "{}")]),
        ({"weather": WEATHER_SCHEMA}, []),
        ({"weather": WEATHER_SCHEMA}, [ToolCall("weather", None)]),
    ],
    ids=["no-definitions", "no-calls", "no-arguments"],
)
def test_nothing_to_judge_is_null(definitions: dict | None, calls: list[ToolCall]) -> None:
    assert classify_tool_calls(definitions, calls) == dict.fromkeys(QUALITY_COLUMNS)
