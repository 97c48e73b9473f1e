"""Every wire gatewatch reads, with what each one cannot carry for a row."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sample_data.wires import gateway_logs, instrumentation_spans, otel_spans, provider_responses
from sample_data.wires.logical import (
    OPENAI_FINISH,
    OPENLLMETRY_REWRITES,
    SDK_FINISH,
    Row,
    family,
    is_ok,
)

# The canonical fields one logical request must give the same value for through every wire.
COMPARED = (
    "started_at",
    "duration_ms",
    "ttft_ms",
    "provider",
    "model",
    "finish_reason",
    "native_finish_reason",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "tool_calls",
    "stream",
    "status",
    "error_type",
    "http_status",
)
Path = Literal["traces", "traces+logs", "requests"]


@dataclass(frozen=True, slots=True)
class Carries:
    """A field the wire carries differently: why, and the value the row then has."""

    why: str
    value: Callable[[Row], Any]
    # Numbers the wire carries rounded (epoch seconds as doubles): equal within this, in the
    # field's unit (microseconds for timestamps).
    tolerance: float = 0.0


@dataclass(frozen=True, slots=True)
class Wire:
    name: str
    path: Path
    emit: Callable[[Row], Any]
    applies: Callable[[Row], bool] = lambda row: True
    differs: Mapping[str, Carries] = field(default_factory=dict)

    def expected(self, row: Row, column: str) -> Any:
        carried = self.differs.get(column)
        return carried.value(row) if carried else row[column]


def _none(row: Row) -> None:
    return None


def _ok_native(spelling: Mapping[str, str]) -> Callable[[Row], str | None]:
    return lambda row: spelling[row["finish_reason"]] if is_ok(row) else None


def _tool_count_unknown(row: Row) -> int | None:
    """No calls are listed: a `tool_calls` finish means "some, count unknown" (NULL)."""
    return None if row["finish_reason"] == "tool_calls" else row["tool_calls"]


NO_HTTP_STATUS = Carries("failed calls are recorded as exceptions, without an HTTP status", _none)
NO_TTFT = Carries("no time-to-first-token field", _none)
NO_CACHE_WRITES = Carries("no cache-write count", _none)
EPOCH_SECONDS = "times are epoch seconds (doubles): exact to a microsecond or two"


AI_SDK_SPANS = {
    "native_finish_reason": Carries(
        "the AI SDK reports its own finish values", _ok_native(SDK_FINISH)
    ),
    "ttft_ms": Carries(
        "msToFirstChunk only on streamed calls",
        lambda row: row["ttft_ms"] if row["streaming"] else None,
    ),
}
OPENROUTER_ZERO = Carries(
    "OpenRouter writes 0 also where the provider reported nothing: a 0 is not reported",
    lambda row: row["reasoning_tokens"] or None,
)


WIRES: tuple[Wire, ...] = (
    Wire("otel-genai", "traces", otel_spans.genai_current),
    Wire("otel-genai-1.41", "traces", otel_spans.genai_v1_41),
    Wire(
        "otel-genai-pre-1.37",
        "traces",
        otel_spans.genai_pre_1_37,
        differs={
            "reasoning_tokens": Carries("no reasoning attribute before v1.41", _none),
            "cached_input_tokens": Carries("no cache attributes before v1.40", _none),
            "cache_write_tokens": Carries("no cache attributes before v1.40", _none),
            "ttft_ms": Carries("no time_to_first_chunk before v1.41", _none),
            "stream": Carries("no gen_ai.request.stream before v1.41", _none),
        },
    ),
    Wire("otel-genai+logs", "traces+logs", otel_spans.genai_split),
    Wire(
        "openrouter-broadcast",
        "traces",
        otel_spans.openrouter_broadcast,
        applies=is_ok,
        differs={
            "reasoning_tokens": Carries("Broadcast carries input and output usage only", _none),
            "cached_input_tokens": Carries("Broadcast carries input and output usage only", _none),
            "cache_write_tokens": Carries("Broadcast carries input and output usage only", _none),
            "stream": Carries("Broadcast does not say whether the call streamed", _none),
            "ttft_ms": NO_TTFT,
            "tool_calls": Carries("Broadcast lists no tool calls", _tool_count_unknown),
            "native_finish_reason": Carries(
                "Broadcast reports OpenRouter's own finish reason", _ok_native(OPENAI_FINISH)
            ),
        },
    ),
    Wire(
        "vercel-ai-genai",
        "traces",
        otel_spans.vercel_genai,
        differs={
            "native_finish_reason": Carries(
                "the AI SDK reports its own finish values", _ok_native(SDK_FINISH)
            ),
            "http_status": Carries("the AI SDK sets error.type only", _none),
        },
    ),
    Wire(
        "openinference",
        "traces",
        instrumentation_spans.openinference,
        differs={
            "provider": Carries(
                "llm.provider names one host, google, for Vertex and AI Studio",
                lambda row: (
                    "google-vertex" if row["provider"] == "google-ai-studio" else row["provider"]
                ),
            ),
            "ttft_ms": NO_TTFT,
            "http_status": NO_HTTP_STATUS,
        },
    ),
    Wire(
        "openllmetry",
        "traces",
        instrumentation_spans.openllmetry,
        differs={
            "native_finish_reason": Carries(
                "OpenLLMetry rewrites finish reasons (tool_use → tool_call, end_turn → stop)",
                lambda row: (
                    OPENLLMETRY_REWRITES.get(n, n) if (n := row["native_finish_reason"]) else None
                ),
            ),
            "ttft_ms": NO_TTFT,
            "http_status": NO_HTTP_STATUS,
        },
    ),
    Wire(
        "openllmetry-legacy",
        "traces",
        instrumentation_spans.openllmetry_legacy,
        differs={"ttft_ms": NO_TTFT, "http_status": NO_HTTP_STATUS},
    ),
    Wire(
        "vercel-ai-legacy",
        "traces",
        instrumentation_spans.vercel_legacy,
        applies=is_ok,
        differs=AI_SDK_SPANS,
    ),
    Wire(
        "vercel-ai-legacy-v5",
        "traces",
        instrumentation_spans.vercel_legacy_v5,
        applies=is_ok,
        differs=AI_SDK_SPANS
        | {
            "cache_write_tokens": Carries(
                "AI SDK 5 reports cache writes only for Anthropic's own API (providerMetadata)",
                lambda row: (
                    row["cache_write_tokens"]
                    if row["provider"] in instrumentation_spans.SDK5_UNCACHED_INPUT
                    else None
                ),
            ),
        },
    ),
    Wire(
        "litellm-otel",
        "traces",
        instrumentation_spans.litellm_callback,
        differs={
            "native_finish_reason": Carries(
                "LiteLLM reports OpenAI finish values", _ok_native(OPENAI_FINISH)
            ),
            "reasoning_tokens": Carries("LiteLLM's OTel callback writes no reasoning count", _none),
            "cached_input_tokens": Carries("LiteLLM's OTel callback writes no cache counts", _none),
            "cache_write_tokens": Carries("LiteLLM's OTel callback writes no cache counts", _none),
            "ttft_ms": NO_TTFT,
        },
    ),
    Wire("canonical", "requests", gateway_logs.canonical),
    Wire(
        "openrouter-generation",
        "requests",
        gateway_logs.openrouter_generation,
        differs={
            "reasoning_tokens": OPENROUTER_ZERO,
            "cached_input_tokens": Carries(
                OPENROUTER_ZERO.why, lambda row: row["cached_input_tokens"] or None
            ),
            "cache_write_tokens": NO_CACHE_WRITES,
            "ttft_ms": NO_TTFT,
            "tool_calls": Carries("generation records list no tool calls", _tool_count_unknown),
        },
    ),
    Wire(
        "litellm-payload",
        "requests",
        gateway_logs.litellm_payload,
        differs={
            "native_finish_reason": Carries(
                "LiteLLM logs OpenAI finish values", _ok_native(OPENAI_FINISH)
            ),
            "started_at": Carries(EPOCH_SECONDS, lambda row: row["started_at"], 2),
            "duration_ms": Carries(EPOCH_SECONDS, lambda row: row["duration_ms"], 2e-3),
            "ttft_ms": Carries(EPOCH_SECONDS, lambda row: row["ttft_ms"], 2e-3),
        },
    ),
    Wire(
        "anthropic-messages",
        "requests",
        provider_responses.anthropic_messages,
        applies=lambda row: family(row) == "anthropic" and row["provider"] != "amazon-bedrock",
    ),
    Wire(
        "bedrock-converse",
        "requests",
        provider_responses.bedrock_converse,
        applies=lambda row: row["provider"] == "amazon-bedrock",
        differs={
            "error_type": Carries(
                "Bedrock names an overlong prompt a ValidationException like any bad request",
                lambda row: (
                    "client_error" if row["error_type"] == "context_length" else row["error_type"]
                ),
            )
        },
    ),
    Wire(
        "openai-chat",
        "requests",
        provider_responses.openai_chat,
        applies=lambda row: family(row) == "openai",
    ),
    Wire(
        "openai-responses",
        "requests",
        provider_responses.openai_responses,
        applies=lambda row: row["provider"] in ("openai", "azure"),
        differs={
            "native_finish_reason": Carries(
                "the Responses API reports a status", provider_responses.responses_native_finish
            )
        },
    ),
    Wire(
        "gemini",
        "requests",
        provider_responses.gemini,
        applies=lambda row: family(row) == "gemini",
        differs={
            "error_type": Carries(
                "Google errors carry an HTTP and a gRPC status only: an overlong prompt is "
                "INVALID_ARGUMENT like any bad request",
                lambda row: (
                    "client_error" if row["error_type"] == "context_length" else row["error_type"]
                ),
            )
        },
    ),
)
