"""Wires that carry a request as the provider's own response body, wrapped with what only the
caller knows (docs/conventions/request-logs.md): Anthropic Messages (Claude on Anthropic and on
Vertex, whose rawPredict answers in the same shape), Bedrock Converse, OpenAI chat completions
(OpenAI, Azure and the OpenAI-compatible hosts), the Responses API and Gemini."""

from __future__ import annotations

from typing import Any

import orjson

from sample_data.wires.gateway_logs import openai_chat_body
from sample_data.wires.logical import (
    Row,
    gateway_provider,
    is_ok,
    present,
    rfc3339,
    tool_calls,
    uncached_input,
    visible_output,
)

Record = dict[str, Any]


def envelope(row: Row, response: Record | None) -> Record:
    """The wrapped response; `response` stays, as null, when the call got no answer."""
    declared = [{"name": name, "input_schema": {"type": "object"}} for name in row["tool_names"]]
    return {"response": response} | present(
        {
            "started_at": rfc3339(row),
            "latency_ms": row["duration_ms"],
            "ttft_ms": row["ttft_ms"],
            "provider": gateway_provider(row),
            "model": row["request_model"],
            "app": row["app"],
            "user_id": row["user_id"],
            "session_id": row["session_id"],
            "stream": row["streaming"],
            "request": {"tools": declared} if declared else None,
            "http_status": row["http_status"],
            "error": None if is_ok(row) or row["http_status"] else row["error_name"],
        }
    )


def anthropic_messages(row: Row) -> Record:
    """anthropics/anthropic-sdk-python types/message.py, usage.py: `input_tokens` without the
    cache, `output_tokens` with the thinking, whose count (when reported) is
    `output_tokens_details.thinking_tokens`."""
    if not is_ok(row):
        error = {"type": "error", "error": {"type": row["error_name"], "message": "failed"}}
        return envelope(row, error if row["http_status"] else None)
    content: list[Record] = [
        {"type": "tool_use", "id": call_id, "name": name, "input": orjson.loads(arguments)}
        for call_id, name, arguments in tool_calls(row)
    ]
    usage = present(
        {
            "input_tokens": uncached_input(row),
            "cache_read_input_tokens": row["cached_input_tokens"],
            "cache_creation_input_tokens": row["cache_write_tokens"],
            "output_tokens": row["output_tokens"],
            "output_tokens_details": None
            if row["reasoning_tokens"] is None
            else {"thinking_tokens": row["reasoning_tokens"]},
        }
    )
    body = {
        "id": row["request_id"],
        "type": "message",
        "role": "assistant",
        "model": row["response_model"],
        "content": content,
        "stop_reason": row["native_finish_reason"],
        "usage": usage,
    }
    return envelope(row, body)


# The exception a boto3 `ClientError` names for each failure (Bedrock Runtime API errors).
BEDROCK_ERRORS = {
    "rate_limit": "ThrottlingException",
    "overloaded": "ServiceUnavailableException",
    "server_error": "InternalServerException",
    "timeout": "ModelTimeoutException",
    "client_error": "ValidationException",
    "context_length": "ValidationException",
}


def bedrock_converse(row: Row) -> Record:
    """The Converse API's ConverseResponse: `inputTokens` without the cache, no reasoning
    count, the provider-side latency in `metrics`; boto3 adds `ResponseMetadata`."""
    if not is_ok(row):
        error = {
            "Error": {"Code": BEDROCK_ERRORS[row["error_type"]], "Message": "failed"},
            "ResponseMetadata": present({"HTTPStatusCode": row["http_status"]}),
        }
        return envelope(row, error)
    content = [
        {"toolUse": {"toolUseId": call_id, "name": name, "input": orjson.loads(arguments)}}
        for call_id, name, arguments in tool_calls(row)
    ]
    usage = present(
        {
            "inputTokens": uncached_input(row),
            "outputTokens": row["output_tokens"],
            "totalTokens": row["input_tokens"] + row["output_tokens"],
            "cacheReadInputTokens": row["cached_input_tokens"],
            "cacheWriteInputTokens": row["cache_write_tokens"],
        }
    )
    body = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": row["native_finish_reason"],
        "usage": usage,
        "metrics": {"latencyMs": round(row["duration_ms"])},
        "ResponseMetadata": {"RequestId": row["request_id"], "HTTPStatusCode": 200},
    }
    return envelope(row, body)


def openai_chat(row: Row) -> Record:
    if not is_ok(row):
        error = {"error": {"message": "failed", "type": row["error_name"], "code": None}}
        return envelope(row, error if row["http_status"] else None)
    return envelope(row, openai_chat_body(row))


RESPONSES_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def openai_responses(row: Row) -> Record:
    """The Responses API object: `completed` or `incomplete` with its reason, function calls
    as output items; usage with cached and reasoning details."""
    if not is_ok(row):
        return openai_chat(row)
    incomplete = RESPONSES_INCOMPLETE.get(row["finish_reason"])
    output = [
        {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}
        for call_id, name, arguments in tool_calls(row)
    ]
    usage = {
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "total_tokens": row["input_tokens"] + row["output_tokens"],
        "input_tokens_details": present({"cached_tokens": row["cached_input_tokens"]}),
        "output_tokens_details": present({"reasoning_tokens": row["reasoning_tokens"]}),
    }
    body = present(
        {
            "id": f"resp_{row['request_id']}",
            "object": "response",
            "status": "incomplete" if incomplete else "completed",
            "incomplete_details": {"reason": incomplete} if incomplete else None,
            "model": row["response_model"],
            "output": output,
            "usage": usage,
        }
    )
    return envelope(row, body)


def responses_native_finish(row: Row) -> str | None:
    """The native finish the Responses API reports for the row: its status, or the reason
    it is incomplete."""
    if not is_ok(row):
        return None
    return RESPONSES_INCOMPLETE.get(row["finish_reason"], "completed")


GOOGLE_STATUS = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 400: "INVALID_ARGUMENT"}


def gemini(row: Row) -> Record:
    """googleapis/python-genai GenerateContentResponse: `promptTokenCount` with the cache,
    `candidatesTokenCount` without the thoughts, `thoughtsTokenCount` beside it."""
    if not is_ok(row):
        status = row["http_status"]
        error = {
            "error": {"code": status, "message": "failed", "status": GOOGLE_STATUS.get(status)}
        }
        return envelope(row, error if status else None)
    parts = [
        {"functionCall": {"name": name, "args": orjson.loads(arguments)}}
        for _, name, arguments in tool_calls(row)
    ]
    usage = present(
        {
            "promptTokenCount": row["input_tokens"],
            "candidatesTokenCount": visible_output(row),
            "thoughtsTokenCount": row["reasoning_tokens"],
            "cachedContentTokenCount": row["cached_input_tokens"],
            "totalTokenCount": row["input_tokens"] + row["output_tokens"],
        }
    )
    body = {
        "responseId": row["request_id"],
        "modelVersion": row["response_model"],
        "candidates": [
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": row["native_finish_reason"],
                "index": 0,
            }
        ],
        "usageMetadata": usage,
    }
    return envelope(row, body)
