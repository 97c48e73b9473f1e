"""Tool-call quality: is each tool call the model made usable as it stands?

When a request carries both the tools it declared and the calls the model made, every call
is classified at ingest time and only the counts are kept (the arguments are dropped):

- `unknown_tool`: the call names a tool that was not declared;
- `invalid_json`: the arguments are not a JSON object (unparseable text, or e.g. a list);
- `schema_mismatch`: a JSON object that fails the declared tool's JSON Schema;
- `valid`: everything else (including tools declared without a usable schema).

Checked in that order, so each call lands in exactly one class and the four counts add up to
the calls classified. Without declarations or without arguments nothing can be judged and
the counts stay NULL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from jsonschema import exceptions as jsonschema_exceptions
from jsonschema import validators

from ingest.coerce import parse_json

QUALITY_COLUMNS = (
    "tool_calls_valid",
    "tool_calls_invalid_json",
    "tool_calls_unknown_tool",
    "tool_calls_schema_mismatch",
)

# name → JSON Schema of its arguments (None: declared without a usable schema).
ToolDefinitions = Mapping[str, Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str | None
    arguments: Any  # JSON text as sent, or an already-decoded value; None = not reported


def _one_definition(item: Any) -> tuple[str, Mapping[str, Any] | None] | None:
    """A tool declaration in any provider's shape → (name, parameters schema)."""
    if not isinstance(item, Mapping):
        return None
    spec = item
    if isinstance(item.get("function"), Mapping):  # OpenAI chat {type, function:{...}}
        spec = item["function"]
    elif isinstance(item.get("toolSpec"), Mapping):  # Bedrock Converse
        spec = item["toolSpec"]
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        return None
    schema = parse_json(spec.get("parameters", spec.get("input_schema", spec.get("inputSchema"))))
    if isinstance(schema, Mapping) and isinstance(schema.get("json"), Mapping):
        schema = schema["json"]  # Bedrock wraps the schema in {"json": ...}
    return name, schema if isinstance(schema, Mapping) else None


def tool_definitions(raw: Any) -> dict[str, Mapping[str, Any] | None] | None:
    """Declared tools from a JSON array (or its text) in OpenAI chat / Responses, Anthropic,
    Gemini (`functionDeclarations`), Bedrock (`toolSpec`) or flat `{name, parameters}` shape.
    None when nothing usable was declared."""
    items = parse_json(raw)
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list):
        return None
    found: dict[str, Mapping[str, Any] | None] = {}
    for item in items:
        declarations = item.get("functionDeclarations") if isinstance(item, Mapping) else None
        for entry in declarations if isinstance(declarations, list) else [item]:
            definition = _one_definition(entry)
            if definition is not None:
                found[definition[0]] = definition[1]
    return found or None


@lru_cache(maxsize=256)
def _validator(schema_json: bytes) -> Any:
    schema = orjson.loads(schema_json)
    cls = validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema_exceptions.SchemaError:
        return None
    return cls(schema)


def classify_call(definitions: ToolDefinitions, call: ToolCall) -> str:
    if call.name not in definitions:
        return "tool_calls_unknown_tool"
    arguments = parse_json(call.arguments)
    if not isinstance(arguments, dict):
        return "tool_calls_invalid_json"
    schema = definitions[call.name]
    if schema is None:
        return "tool_calls_valid"
    try:
        validator = _validator(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))
    except TypeError:  # not JSON (e.g. bytes from an OTLP bytesValue): cannot be judged
        return "tool_calls_valid"
    if validator is not None and not validator.is_valid(arguments):
        return "tool_calls_schema_mismatch"
    return "tool_calls_valid"


def classify_tool_calls(
    definitions: ToolDefinitions | None, calls: Sequence[ToolCall]
) -> dict[str, int | None]:
    """The four quality columns for one request; all NULL when they cannot be judged."""
    if not definitions or not calls or any(c.arguments is None for c in calls):
        return dict.fromkeys(QUALITY_COLUMNS)
    counts = dict.fromkeys(QUALITY_COLUMNS, 0)
    for call in calls:
        counts[classify_call(definitions, call)] += 1
    return counts
