from __future__ import annotations

import pytest

from ingest.normalize import (
    PROVIDER_ERROR_TYPES,
    classify_error,
    normalize_finish_reason,
    normalize_model,
    normalize_provider,
    register_aliases,
)

PROVIDERS = [
    # every alias named by the SPEC
    ("aws.bedrock", "amazon-bedrock"),
    ("bedrock", "amazon-bedrock"),
    ("Amazon Bedrock", "amazon-bedrock"),
    ("gcp.vertex_ai", "google-vertex"),
    ("vertex_ai", "google-vertex"),
    ("Google Vertex", "google-vertex"),
    ("gcp.gemini", "google-ai-studio"),
    ("gemini", "google-ai-studio"),
    ("Google AI Studio", "google-ai-studio"),
    ("azure.ai.openai", "azure"),
    ("az.ai.openai", "azure"),
    ("azure.ai.inference", "azure"),
    ("az.ai.inference", "azure"),
    ("Azure", "azure"),
    ("x_ai", "xai"),
    ("xai", "xai"),
    ("xAI", "xai"),
    ("mistral_ai", "mistral"),
    ("mistralai", "mistral"),
    ("Mistral", "mistral"),
    ("OpenAI", "openai"),
    ("Anthropic", "anthropic"),
    ("Together", "together"),
    ("Fireworks", "fireworks"),
    ("DeepInfra", "deepinfra"),
    ("Groq", "groq"),
    ("DeepSeek", "deepseek"),
    # conventions.md extras
    ("gcp.gen_ai", "google-ai-studio"),
    ("AWS", "amazon-bedrock"),
    ("aws", "amazon-bedrock"),
    ("Google", "google-vertex"),
    ("google", "google-vertex"),
    ("moonshot_ai", "moonshotai"),
    ("Moonshot AI", "moonshotai"),
    ("ibm.watsonx.ai", "ibm-watsonx"),
    ("perplexity", "perplexity"),
    ("cohere", "cohere"),
    ("together_ai", "together"),
    ("fireworks_ai", "fireworks"),
    ("Z.AI", "z-ai"),
    # case-insensitive, whitespace-tolerant
    ("  AWS.BEDROCK ", "amazon-bedrock"),
    ("OPENAI", "openai"),
    # unknown names slugified
    ("Atlas Cloud", "atlas-cloud"),
    ("SambaNova", "sambanova"),
    ("Nebius AI Studio", "nebius-ai-studio"),
    ("my__custom..gateway!", "my-custom-gateway"),
    ("--Weird--", "weird"),
    # nothing to say
    ("", None),
    ("   ", None),
    ("!!!", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), PROVIDERS)
def test_normalize_provider(raw: str | None, expected: str | None) -> None:
    assert normalize_provider(raw) == expected


MODELS = [
    # Anthropic direct, Bedrock, Vertex
    ("claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4.5"),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4.5"),
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4.5"),
    ("claude-sonnet-4-5@20250929", "anthropic/claude-sonnet-4.5"),
    ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4.5"),
    ("claude-3-5-sonnet-20241022", "anthropic/claude-3.5-sonnet"),
    ("claude-3-5-sonnet-latest", "anthropic/claude-3.5-sonnet"),
    ("anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic/claude-3.5-sonnet"),
    ("claude-3-5-sonnet-v2@20241022", "anthropic/claude-3.5-sonnet"),
    ("claude-3-7-sonnet-20250219", "anthropic/claude-3.7-sonnet"),
    ("claude-3-5-haiku-20241022", "anthropic/claude-3.5-haiku"),
    ("claude-3-haiku-20240307", "anthropic/claude-3-haiku"),
    ("anthropic.claude-3-sonnet-20240229-v1:0:200k", "anthropic/claude-3-sonnet"),
    ("claude-opus-4-1-20250805", "anthropic/claude-opus-4.1"),
    ("claude-opus-4-20250514", "anthropic/claude-opus-4"),
    ("claude-haiku-4-5", "anthropic/claude-haiku-4.5"),
    (
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
        "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic/claude-3.7-sonnet",
    ),
    (
        "projects/acme/locations/us-east5/publishers/anthropic/models/claude-opus-4@20250514",
        "anthropic/claude-opus-4",
    ),
    ("bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic/claude-3.5-haiku"),
    # OpenAI and Azure
    ("gpt-5-mini", "openai/gpt-5-mini"),
    ("gpt-5-mini-2025-08-07", "openai/gpt-5-mini"),
    ("gpt-4o-mini", "openai/gpt-4o-mini"),
    ("gpt-4o-2024-08-06", "openai/gpt-4o"),
    ("gpt-4.1-2025-04-14", "openai/gpt-4.1"),
    ("gpt-4-1-mini", "openai/gpt-4.1-mini"),
    ("gpt-35-turbo", "openai/gpt-3.5-turbo"),
    ("azure/gpt-4o", "openai/gpt-4o"),
    ("o1", "openai/o1"),
    ("o3-mini", "openai/o3-mini"),
    ("o4-mini-2025-04-16", "openai/o4-mini"),
    ("chatgpt-4o-latest", "openai/chatgpt-4o-latest"),
    ("gpt-oss-120b", "openai/gpt-oss-120b"),
    ("openai.gpt-oss-120b-1:0", "openai/gpt-oss-120b"),
    # Gemini API and Vertex
    ("gemini-2.5-flash", "google/gemini-2.5-flash"),
    ("models/gemini-2.5-pro", "google/gemini-2.5-pro"),
    ("vertex_ai/gemini-2.5-pro", "google/gemini-2.5-pro"),
    ("gemini-2.0-flash", "google/gemini-2.0-flash-001"),
    ("publishers/google/models/gemini-2.0-flash-001", "google/gemini-2.0-flash-001"),
    ("gemini-1.5-pro-002", "google/gemini-pro-1.5"),
    ("gemini-2.5-flash-preview-05-20", "google/gemini-2.5-flash-preview-05-20"),
    ("gemma-3-27b-it", "google/gemma-3-27b-it"),
    ("gemma2-9b-it", "google/gemma-2-9b-it"),
    # OpenRouter ids and variants
    ("anthropic/claude-sonnet-4.5", "anthropic/claude-sonnet-4.5"),
    ("openrouter/anthropic/claude-sonnet-4.5", "anthropic/claude-sonnet-4.5"),
    ("anthropic/claude-3.7-sonnet:thinking", "anthropic/claude-3.7-sonnet"),
    ("meta-llama/llama-3.3-70b-instruct:free", "meta-llama/llama-3.3-70b-instruct"),
    ("openrouter/auto", "openrouter/auto"),
    ("qwen/qwen3-coder", "qwen/qwen3-coder"),
    # Together, Fireworks, Groq, open weights
    ("accounts/fireworks/models/qwen3-coder-480b-a35b-instruct", "qwen/qwen3-coder"),
    ("Qwen/Qwen3-Coder-480B-A35B-Instruct", "qwen/qwen3-coder"),
    ("Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8", "qwen/qwen3-coder"),
    ("Qwen/Qwen3-235B-A22B-Instruct-2507-tput", "qwen/qwen3-235b-a22b-2507"),
    ("qwen2.5-72b-instruct", "qwen/qwen-2.5-72b-instruct"),
    ("accounts/fireworks/models/qwen2p5-72b-instruct", "qwen/qwen-2.5-72b-instruct"),
    ("Qwen/Qwen2.5-VL-72B-Instruct", "qwen/qwen2.5-vl-72b-instruct"),
    ("qwq-32b", "qwen/qwq-32b"),
    ("meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo", "meta-llama/llama-3.1-70b-instruct"),
    ("meta.llama3-1-70b-instruct-v1:0", "meta-llama/llama-3.1-70b-instruct"),
    ("us.meta.llama3-3-70b-instruct-v1:0", "meta-llama/llama-3.3-70b-instruct"),
    ("accounts/fireworks/models/llama-v3p1-405b-instruct", "meta-llama/llama-3.1-405b-instruct"),
    ("llama-3-1-70b", "meta-llama/llama-3.1-70b"),
    ("llama-3.3-70b-versatile", "meta-llama/llama-3.3-70b-versatile"),
    ("meta-llama/llama-4-scout-17b-16e-instruct", "meta-llama/llama-4-scout"),
    ("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "meta-llama/llama-4-maverick"),
    ("llama3.1:8b", "meta-llama/llama-3.1-8b"),
    ("nvidia/llama-3.1-nemotron-70b-instruct", "nvidia/llama-3.1-nemotron-70b-instruct"),
    # DeepSeek
    ("deepseek-chat", "deepseek/deepseek-chat"),
    ("deepseek-reasoner", "deepseek/deepseek-reasoner"),
    ("deepseek-ai/DeepSeek-R1", "deepseek/deepseek-r1"),
    ("deepseek-ai/DeepSeek-V3", "deepseek/deepseek-chat"),
    ("deepseek.r1-v1:0", "deepseek/deepseek-r1"),
    # Mistral
    ("mistral-large-latest", "mistralai/mistral-large"),
    ("mistral-small-2503", "mistralai/mistral-small-2503"),
    ("codestral-2508", "mistralai/codestral-2508"),
    ("open-mistral-nemo", "mistralai/mistral-nemo"),
    ("mistral.mistral-large-2407-v1:0", "mistralai/mistral-large-2407"),
    ("magistral-medium-2506", "mistralai/magistral-medium-2506"),
    ("devstral-medium-2507", "mistralai/devstral-medium-2507"),
    # xAI, Z.ai, Moonshot, MiniMax
    ("grok-4-0709", "x-ai/grok-4"),
    ("grok-code-fast-1", "x-ai/grok-code-fast-1"),
    ("xai/grok-3-mini", "x-ai/grok-3-mini"),
    ("glm-4.5", "z-ai/glm-4.5"),
    ("glm-4-6", "z-ai/glm-4.6"),
    ("zai-org/GLM-4.5-Air-FP8", "z-ai/glm-4.5-air"),
    ("kimi-k2-0905-preview", "moonshotai/kimi-k2-0905"),
    ("moonshotai/Kimi-K2-Instruct", "moonshotai/kimi-k2"),
    ("MiniMax-M2", "minimax/minimax-m2"),
    # other Bedrock vendors
    ("amazon.nova-pro-v1:0", "amazon/nova-pro-v1"),
    ("cohere.command-r-plus-v1:0", "cohere/command-r-plus"),
    # unknown family without a vendor: the bare lower-cased name; with one: kept
    ("My-Custom-Model", "my-custom-model"),
    ("nousresearch/hermes-3-llama-3.1-405b", "nousresearch/hermes-3-llama-3.1-405b"),
    ("", None),
    ("  ", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), MODELS)
def test_normalize_model(raw: str | None, expected: str | None) -> None:
    assert normalize_model(raw) == expected


@pytest.mark.parametrize("canonical", sorted({e for _, e in MODELS if e}))
def test_canonical_model_ids_are_fixed_points(canonical: str) -> None:
    assert normalize_model(canonical) == canonical


FINISH_TABLE = [
    # stop
    ("stop", "stop"),
    ("end_turn", "stop"),
    ("stop_sequence", "stop"),
    ("STOP", "stop"),
    ("COMPLETE", "stop"),
    ("STOP_SEQUENCE", "stop"),
    ("completed", "stop"),
    # length
    ("length", "length"),
    ("model_length", "length"),
    ("max_tokens", "length"),
    ("model_context_window_exceeded", "length"),
    ("MAX_TOKENS", "length"),
    ("max_output_tokens", "length"),
    # tool_calls
    ("tool_calls", "tool_calls"),
    ("function_call", "tool_calls"),
    ("tool_use", "tool_calls"),
    ("tool_call", "tool_calls"),
    ("tool-calls", "tool_calls"),
    ("TOOL_CALL", "tool_calls"),
    # content_filter
    ("content_filter", "content_filter"),
    ("content-filter", "content_filter"),
    ("refusal", "content_filter"),
    ("SAFETY", "content_filter"),
    ("RECITATION", "content_filter"),
    ("BLOCKLIST", "content_filter"),
    ("PROHIBITED_CONTENT", "content_filter"),
    ("SPII", "content_filter"),
    ("IMAGE_SAFETY", "content_filter"),
    ("guardrail_intervened", "content_filter"),
    ("content_filtered", "content_filter"),
    # error
    ("error", "error"),
    ("ERROR", "error"),
    ("TIMEOUT", "error"),
    ("insufficient_system_resource", "error"),
    ("malformed_model_output", "error"),
    ("malformed_tool_use", "error"),
    ("MALFORMED_FUNCTION_CALL", "error"),
    ("UNEXPECTED_TOOL_CALL", "error"),
    ("TOO_MANY_TOOL_CALLS", "error"),
    ("failed", "error"),
    # cancelled
    ("cancelled", "cancelled"),
    ("USER_CANCEL", "cancelled"),
    # other
    ("pause_turn", "other"),
    ("compaction", "other"),
    ("OTHER", "other"),
    ("LANGUAGE", "other"),
    ("FINISH_REASON_UNSPECIFIED", "other"),
    ("unknown", "other"),
    ("something_new", "other"),
]


@pytest.mark.parametrize(("native", "expected"), FINISH_TABLE)
def test_finish_reason_table(native: str, expected: str) -> None:
    assert normalize_finish_reason(native) == expected


@pytest.mark.parametrize(
    ("native", "flags", "expected"),
    [
        # cancelled flag beats everything
        ("stop", {"cancelled": True, "has_tool_calls": True, "is_error": True}, "cancelled"),
        (None, {"cancelled": True}, "cancelled"),
        # tool calls present beat the native reason (Gemini STOP with functionCall parts)
        ("STOP", {"has_tool_calls": True}, "tool_calls"),
        ("length", {"has_tool_calls": True, "is_error": True}, "tool_calls"),
        # an explicit, recognised native reason beats the error status
        ("stop", {"is_error": True}, "stop"),
        ("max_tokens", {"is_error": True}, "length"),
        # error status with no (or an unrecognised) native reason
        (None, {"is_error": True}, "error"),
        ("", {"is_error": True}, "error"),
        ("brand_new_reason", {"is_error": True}, "error"),
        # no signal at all on an ok request: NULL
        (None, {}, None),
        ("  ", {}, None),
    ],
)
def test_finish_reason_precedence(
    native: str | None, flags: dict[str, bool], expected: str | None
) -> None:
    assert normalize_finish_reason(native, **flags) == expected


ERROR_TABLE = [
    # rate_limit
    (("rate_limit_exceeded",), None, "rate_limit"),
    (("rate_limit_error",), None, "rate_limit"),
    (("RateLimitError",), None, "rate_limit"),
    (("429",), None, "rate_limit"),
    ((), 429, "rate_limit"),
    # overloaded
    (("overloaded_error",), None, "overloaded"),
    (("OverloadedError",), None, "overloaded"),
    (("provider_overloaded",), None, "overloaded"),
    (("529",), None, "overloaded"),
    ((), 503, "overloaded"),
    ((), 529, "overloaded"),
    # server_error
    (("api_error",), None, "server_error"),
    (("server_error",), None, "server_error"),
    (("InternalServerError",), None, "server_error"),
    (("APIStatusError",), 502, "server_error"),
    (("500",), None, "server_error"),
    ((), 500, "server_error"),
    ((), 599, "server_error"),
    # timeout
    (("timeout",), None, "timeout"),
    (("APITimeoutError",), None, "timeout"),
    (("ReadTimeout",), None, "timeout"),
    (("DEADLINE_EXCEEDED",), None, "timeout"),
    (("504",), None, "timeout"),
    ((), 408, "timeout"),
    ((), 504, "timeout"),
    # connection
    (("APIConnectionError",), None, "connection"),
    (("ConnectError",), None, "connection"),
    (("provider_unavailable",), None, "connection"),
    # context_length
    (("context_length_exceeded",), None, "context_length"),
    (("max_tokens_exceeded",), None, "context_length"),
    ((), 413, "context_length"),
    # auth
    (("authentication_error",), None, "auth"),
    (("AuthenticationError",), None, "auth"),
    (("permission_error",), None, "auth"),
    (("PermissionDeniedError",), None, "auth"),
    (("payment_required",), None, "auth"),
    ((), 401, "auth"),
    ((), 402, "auth"),
    ((), 403, "auth"),
    # content_policy
    (("content_policy_violation",), None, "content_policy"),
    (("refusal",), None, "content_policy"),
    # client_error
    (("invalid_request_error",), None, "client_error"),
    (("BadRequestError",), None, "client_error"),
    (("NotFoundError",), None, "client_error"),
    (("UnprocessableEntityError",), None, "client_error"),
    ((), 400, "client_error"),
    ((), 404, "client_error"),
    ((), 422, "client_error"),
    # bad_response
    (("APIResponseValidationError",), None, "bad_response"),
    (("JSONDecodeError",), None, "bad_response"),
    (("malformed_response",), None, "bad_response"),
    # cancelled
    (("CancelledError",), None, "cancelled"),
    (("cancelled",), None, "cancelled"),
    (("ClientDisconnect",), None, "cancelled"),
    # case-insensitive, qualified class names
    (("RATE_LIMIT_EXCEEDED",), None, "rate_limit"),
    (("openai.RateLimitError",), None, "rate_limit"),
    (("httpx.ReadTimeout",), None, "timeout"),
    # the most specific signal wins: a known code or class beats the HTTP status
    (("context_length_exceeded",), 400, "context_length"),
    (("RateLimitError",), 500, "rate_limit"),
    (("overloaded_error",), 500, "overloaded"),
    (("insufficient_quota",), 429, "auth"),
    # signals are tried in order; unknown or generic ones fall through
    (("_OTHER", "rate_limit_exceeded"), None, "rate_limit"),
    ((None, "", "APITimeoutError"), None, "timeout"),
    (("provider_overloaded", "RateLimitError"), None, "overloaded"),
    # APIStatusError is generic: only the status says what it was
    (("APIStatusError",), None, "other"),
    (("APIStatusError",), 404, "client_error"),
    (("APIStatusError",), 503, "overloaded"),
    # unknown signals derive from the status; nothing at all is other
    (("SomethingWeird",), 429, "rate_limit"),
    (("SomethingWeird",), None, "other"),
    ((), 200, "other"),
    ((None,), None, "other"),
    ((), None, "other"),
]


@pytest.mark.parametrize(("signals", "http_status", "expected"), ERROR_TABLE)
def test_classify_error(
    signals: tuple[str | None, ...], http_status: int | None, expected: str
) -> None:
    assert classify_error(*signals, http_status=http_status) == expected


def test_provider_error_types_are_the_uptime_set() -> None:
    assert PROVIDER_ERROR_TYPES == frozenset(
        {"rate_limit", "overloaded", "server_error", "timeout", "connection", "bad_response"}
    )


@pytest.mark.usefixtures("restore_alias_tables")
def test_register_aliases_extends_tables_and_clears_caches() -> None:
    # warm the caches with the built-in answers first
    assert normalize_provider("Acme Gateway") == "acme-gateway"
    assert normalize_model("prod-chat-deployment") == "prod-chat-deployment"
    assert normalize_model("gpt-4o") == "openai/gpt-4o"

    register_aliases(
        providers={"Acme Gateway": "acme"},
        models={"Prod-Chat-Deployment": "openai/gpt-4.1", "openai/gpt-4o": "openai/gpt-4o-2"},
    )

    assert normalize_provider("acme gateway") == "acme"
    # a raw deployment name is looked up before the rules
    assert normalize_model("prod-chat-deployment") == "openai/gpt-4.1"
    # an alias on the computed id applies to every spelling that reaches it
    assert normalize_model("gpt-4o-2024-08-06") == "openai/gpt-4o-2"
