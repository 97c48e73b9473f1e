"""Amazon Bedrock Converse responses: `output.message` with `stopReason`. Fields: the Bedrock
Converse API reference (ConverseResponse, TokenUsage, ConverseMetrics, ToolUseBlock).

The response names no model and no id: the model comes from the envelope, the id from
boto3's `ResponseMetadata.RequestId` when the response was dumped whole. Input adds
`cacheReadInputTokens` and `cacheWriteInputTokens`; Bedrock reports no reasoning count, so
reasoning stays NULL (never 0). `metrics.latencyMs` is the provider-side latency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingest.conventions.canonical import count, milliseconds, text
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
    output = response.get("output")
    return "stopReason" in response or (isinstance(output, Mapping) and "message" in output)


def _tool_calls(response: Mapping[str, Any]) -> list[ToolCall]:
    output = mapping(response, "output") or {}
    calls: list[ToolCall] = []
    with under("output"):
        message = mapping(output, "message") or {}
        with under("message"):
            for index, block in objects(message, "content"):
                with under(f"content.{index}"):
                    tool_use = mapping(block, "toolUse")
                    if tool_use is not None:
                        with under("toolUse"):
                            calls.append(ToolCall(text(tool_use, "name"), tool_use.get("input")))
    return calls


def read(response: Mapping[str, Any], provider_raw: str | None) -> ResponseReading:
    reading = ResponseReading(
        native_finish_reason=text(response, "stopReason"), tool_calls=_tool_calls(response)
    )
    boto_metadata = mapping(response, "ResponseMetadata") or {}
    with under("ResponseMetadata"):
        reading.response_id = text(boto_metadata, "RequestId")
    usage = mapping(response, "usage")
    if usage is not None:
        with under("usage"):
            reading.input_tokens = counts_sum(
                usage, "inputTokens", "cacheReadInputTokens", "cacheWriteInputTokens"
            )
            reading.output_tokens = count(usage, "outputTokens")
            reading.cached_input_tokens = count(usage, "cacheReadInputTokens")
            reading.cache_write_tokens = count(usage, "cacheWriteInputTokens")
    metrics = mapping(response, "metrics") or {}
    with under("metrics"):
        reading.latency_ms = milliseconds(metrics, "latencyMs")
    return reading


KIND = ResponseKind("requests:bedrock-converse", "bedrock", detect, read)
