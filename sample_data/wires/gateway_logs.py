"""Wires that carry a request as a gateway's log record: the canonical record, OpenRouter
generation records and LiteLLM's standard logging payload."""

from __future__ import annotations

from typing import Any

import orjson

from sample_data.wires.instrumentation_spans import LITELLM_PROVIDER
from sample_data.wires.logical import (
    OPENAI_FINISH,
    Row,
    gateway_provider,
    is_ok,
    present,
    rfc3339,
    tool_calls,
)
from sample_data.writers import request_log_record

Record = dict[str, Any]


def canonical(row: Row) -> Record:
    return request_log_record(row)


def openrouter_generation(row: Row) -> Record:
    """GET /api/v1/generation's `data` (OpenRouterTeam/docs openapi.yaml): OpenRouter's
    model id, the provider as OpenRouter names it, native token counts (the provider's
    own, as normalized by OpenRouter: prompt with cache reads, completion with reasoning),
    OpenRouter's finish reason beside the native one, latency in ms."""
    ok = is_ok(row)
    error = None
    if not ok:
        error = present(
            {
                "code": row["http_status"],
                "message": row["error_message"],
                "metadata": {"error_type": row["error_name"]},
            }
        )
    return present(
        {
            "id": row["request_id"],
            "created_at": rfc3339(row),
            "model": row["model"],
            "provider_name": gateway_provider(row),
            "streamed": row["streaming"],
            "latency": row["duration_ms"],
            "tokens_prompt": row["input_tokens"],
            "tokens_completion": row["output_tokens"],
            "native_tokens_prompt": row["input_tokens"],
            "native_tokens_completion": row["output_tokens"],
            # OpenRouter writes 0 where the provider reported nothing.
            "native_tokens_reasoning": (row["reasoning_tokens"] or 0) if ok else None,
            "native_tokens_cached": (row["cached_input_tokens"] or 0) if ok else None,
            "finish_reason": OPENAI_FINISH[row["finish_reason"]] if ok else None,
            "native_finish_reason": row["native_finish_reason"],
            "cancelled": False,
            "external_user": row["user_id"],
            "session_id": row["session_id"],
            "error": error,
        }
    )


def openai_chat_body(row: Row) -> Record:
    """An OpenAI chat completion for the row (LiteLLM logs every provider's answer this way)."""
    calls = [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        for call_id, name, arguments in tool_calls(row)
    ]
    usage = present(
        {
            "prompt_tokens": row["input_tokens"],
            "completion_tokens": row["output_tokens"],
            "total_tokens": row["input_tokens"] + row["output_tokens"],
            "prompt_tokens_details": present({"cached_tokens": row["cached_input_tokens"]}),
            "completion_tokens_details": present({"reasoning_tokens": row["reasoning_tokens"]}),
        }
    )
    return {
        "id": row["request_id"],
        "object": "chat.completion",
        "created": row["start_ns"] // 10**9,
        "model": row["response_model"],
        "choices": [
            {
                "index": 0,
                "finish_reason": row["native_finish_reason"],
                "message": present(
                    {"role": "assistant", "content": None, "tool_calls": calls or None}
                ),
            }
        ],
        "usage": usage,
    }


def litellm_payload(row: Row) -> Record:
    """LiteLLM's `StandardLoggingPayload` (BerriAI/litellm litellm/types/utils.py): times in
    epoch seconds, `completionStartTime` = `endTime` when nothing was streamed, LiteLLM's
    prompt/completion counts, the answer in OpenAI chat format with OpenAI finish values."""
    ok = is_ok(row)
    start_s = row["start_ns"] / 1e9
    end_s = row["end_ns"] / 1e9
    first_chunk_s = end_s
    if ok and row["streaming"] and row["ttft_ms"] is not None:
        first_chunk_s = start_s + row["ttft_ms"] / 1000
    response: Record = {}
    if ok:
        response = openai_chat_body(row)
        response["choices"][0]["finish_reason"] = OPENAI_FINISH[row["finish_reason"]]
        if row["cache_write_tokens"] is not None:
            response["usage"]["cache_creation_input_tokens"] = row["cache_write_tokens"]
    declared = [
        {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
        for name in sorted(set(row["tool_names"]))
    ]
    return present(
        {
            "id": row["request_id"],
            "call_type": "acompletion",
            "startTime": start_s,
            "endTime": end_s,
            "completionStartTime": first_chunk_s,
            "model": row["request_model"],
            "custom_llm_provider": LITELLM_PROVIDER[row["provider"]],
            "prompt_tokens": row["input_tokens"] if ok else 0,
            "completion_tokens": row["output_tokens"] if ok else 0,
            "stream": row["streaming"],
            "status": "success" if ok else "failure",
            "response": response,
            "metadata": {"user_api_key_alias": row["app"]},
            "end_user": row["user_id"] or "",
            "model_parameters": {"tools": declared} if declared else {},
            "error_information": None
            if ok
            else present(
                {
                    "error_class": row["error_name"],
                    "error_code": str(row["http_status"]) if row["http_status"] else "",
                    "llm_provider": LITELLM_PROVIDER[row["provider"]],
                }
            ),
        }
    )


def jsonl(records: list[Record]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)
