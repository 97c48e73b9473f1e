"""Who sends what to whom in the sample traffic: apps, models, providers and their wire spellings.

Every (provider, model) spelling here is one the normalization rules of SPEC §4 map to the
canonical ids on the left; the generator stores the canonical values in its expected rows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    otel_name: str  # gen_ai.provider.name
    deprecated_name: str  # gen_ai.system (deprecated spelling where one exists)
    gateway_name: str  # provider name in gateway request logs
    reports_cache_reads: bool
    latency_factor: float = 1.0


PROVIDERS: dict[str, ProviderSpec] = {
    "anthropic": ProviderSpec("anthropic", "anthropic", "Anthropic", True),
    "amazon-bedrock": ProviderSpec("aws.bedrock", "aws.bedrock", "Amazon Bedrock", True, 1.1),
    "google-vertex": ProviderSpec("gcp.vertex_ai", "vertex_ai", "Google Vertex", True),
    "google-ai-studio": ProviderSpec("gcp.gemini", "gemini", "Google AI Studio", False),
    "openai": ProviderSpec("openai", "openai", "OpenAI", True),
    "azure": ProviderSpec("azure.ai.openai", "az.ai.openai", "Azure", True, 1.05),
    "together": ProviderSpec("together", "together", "Together", False),
    "fireworks": ProviderSpec("fireworks", "fireworks", "Fireworks", True, 0.9),
    "deepinfra": ProviderSpec("deepinfra", "deepinfra", "DeepInfra", False, 1.3),
}


@dataclass(frozen=True, slots=True)
class ModelSpec:
    model: str
    family: str  # native finish-reason / error vocabulary: 'anthropic', 'openai' or 'gemini'
    providers: dict[str, float]  # provider slug → share of this model's requests
    input_median: float
    output_median: float
    tokens_per_second: float
    ttft_median_ms: float
    tool_factor: float  # relative tool-call propensity (executors call tools more)


MODELS: dict[str, ModelSpec] = {
    m.model: m
    for m in (
        ModelSpec(
            "anthropic/claude-sonnet-4.5",
            "anthropic",
            {"anthropic": 0.5, "amazon-bedrock": 0.3, "google-vertex": 0.2},
            6000,
            650,
            60,
            900,
            0.9,
        ),
        ModelSpec(
            "openai/gpt-5", "openai", {"openai": 0.6, "azure": 0.4}, 5000, 900, 70, 1400, 0.8
        ),
        ModelSpec(
            "google/gemini-2.5-pro",
            "gemini",
            {"google-vertex": 0.5, "google-ai-studio": 0.5},
            8000,
            800,
            85,
            1200,
            0.8,
        ),
        ModelSpec(
            "anthropic/claude-haiku-4.5",
            "anthropic",
            {"anthropic": 0.6, "amazon-bedrock": 0.4},
            3000,
            300,
            130,
            450,
            1.1,
        ),
        ModelSpec(
            "openai/gpt-5-mini", "openai", {"openai": 0.6, "azure": 0.4}, 2500, 400, 120, 600, 1.1
        ),
        ModelSpec(
            "google/gemini-2.5-flash",
            "gemini",
            {"google-vertex": 0.4, "google-ai-studio": 0.6},
            3000,
            350,
            190,
            380,
            1.0,
        ),
        ModelSpec(
            "qwen/qwen3-coder",
            "openai",
            {"together": 0.4, "fireworks": 0.3, "deepinfra": 0.3},
            9000,
            700,
            95,
            500,
            1.2,
        ),
    )
}

# (canonical model, provider) → (request model, response model) as the provider spells them.
RAW_MODEL_NAMES: dict[tuple[str, str], tuple[str, str]] = {
    ("anthropic/claude-sonnet-4.5", "anthropic"): (
        "claude-sonnet-4-5-20250929",
        "claude-sonnet-4-5-20250929",
    ),
    ("anthropic/claude-sonnet-4.5", "amazon-bedrock"): (
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ),
    ("anthropic/claude-sonnet-4.5", "google-vertex"): (
        "claude-sonnet-4-5@20250929",
        "claude-sonnet-4-5@20250929",
    ),
    ("anthropic/claude-haiku-4.5", "anthropic"): (
        "claude-haiku-4-5-20251001",
        "claude-haiku-4-5-20251001",
    ),
    ("anthropic/claude-haiku-4.5", "amazon-bedrock"): (
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    ),
    ("openai/gpt-5", "openai"): ("gpt-5", "gpt-5-2025-08-07"),
    ("openai/gpt-5", "azure"): ("gpt-5", "gpt-5"),
    ("openai/gpt-5-mini", "openai"): ("gpt-5-mini", "gpt-5-mini-2025-08-07"),
    ("openai/gpt-5-mini", "azure"): ("gpt-5-mini", "gpt-5-mini"),
    ("google/gemini-2.5-pro", "google-vertex"): ("gemini-2.5-pro", "gemini-2.5-pro"),
    ("google/gemini-2.5-pro", "google-ai-studio"): ("gemini-2.5-pro", "gemini-2.5-pro"),
    ("google/gemini-2.5-flash", "google-vertex"): ("gemini-2.5-flash", "gemini-2.5-flash"),
    ("google/gemini-2.5-flash", "google-ai-studio"): ("gemini-2.5-flash", "gemini-2.5-flash"),
    ("qwen/qwen3-coder", "together"): (
        "Qwen/Qwen3-Coder-480B-A35B-Instruct",
        "Qwen/Qwen3-Coder-480B-A35B-Instruct",
    ),
    ("qwen/qwen3-coder", "fireworks"): (
        "accounts/fireworks/models/qwen3-coder-480b-a35b-instruct",
        "accounts/fireworks/models/qwen3-coder-480b-a35b-instruct",
    ),
    ("qwen/qwen3-coder", "deepinfra"): (
        "Qwen/Qwen3-Coder-480B-A35B-Instruct",
        "Qwen/Qwen3-Coder-480B-A35B-Instruct",
    ),
}

# Native finish reasons per family: stop, tool_calls, length, content_filter.
NATIVE_FINISH: dict[str, dict[str, str]] = {
    "anthropic": {
        "stop": "end_turn",
        "tool_calls": "tool_use",
        "length": "max_tokens",
        "content_filter": "refusal",
    },
    "openai": {
        "stop": "stop",
        "tool_calls": "tool_calls",
        "length": "length",
        "content_filter": "content_filter",
    },
    # Gemini has no tool-call reason: a candidate with function calls ends with STOP.
    "gemini": {
        "stop": "STOP",
        "tool_calls": "STOP",
        "length": "MAX_TOKENS",
        "content_filter": "SAFETY",
    },
}

# Canonical error type → (error.type per family, http status or None, status message).
ERRORS: dict[str, tuple[dict[str, str], int | None, str]] = {
    "overloaded": ({"anthropic": "overloaded_error"}, 529, "Overloaded"),
    "rate_limit": (
        {"anthropic": "rate_limit_error", "openai": "RateLimitError", "gemini": "RateLimitError"},
        429,
        "Rate limit exceeded",
    ),
    "server_error": (
        {
            "anthropic": "api_error",
            "openai": "InternalServerError",
            "gemini": "InternalServerError",
        },
        500,
        "Internal server error",
    ),
    "timeout": ({}, None, "Request timed out"),
    "client_error": (
        {"anthropic": "invalid_request_error", "openai": "BadRequestError"},
        400,
        "Invalid request",
    ),
    "context_length": ({}, 400, "Prompt is too long for the model's context window"),
}
DEFAULT_ERROR_NAMES = {
    "overloaded": "overloaded_error",
    "timeout": "APITimeoutError",
    "client_error": "BadRequestError",
    "context_length": "context_length_exceeded",
}


@dataclass(frozen=True, slots=True)
class AppSpec:
    name: str
    channel: str  # 'otlp' (OTel GenAI spans) or 'jsonl' (gateway request logs)
    share: float  # of interactive traffic; the batch app's volume is set by the truths
    models: dict[str, float]
    tools: tuple[str, ...]
    tool_factor: float
    agent: str | None = None  # name of the invoke_agent span wrapping some of its calls
    agent_share: float = 0.0
    user_share: float = 0.0
    session_share: float = 0.0


APPS: dict[str, AppSpec] = {
    a.name: a
    for a in (
        AppSpec(
            "support-agent",
            "otlp",
            0.35,
            {
                "anthropic/claude-sonnet-4.5": 0.30,
                "openai/gpt-5": 0.15,
                "anthropic/claude-haiku-4.5": 0.30,
                "openai/gpt-5-mini": 0.25,
            },
            ("search_kb", "get_order", "refund_order", "create_ticket"),
            1.0,
            agent="support-triage",
            agent_share=0.5,
            user_share=0.8,
            session_share=0.7,
        ),
        AppSpec(
            "coding-agent",
            "otlp",
            0.40,
            {
                "anthropic/claude-sonnet-4.5": 0.25,
                "openai/gpt-5": 0.10,
                "google/gemini-2.5-pro": 0.10,
                "anthropic/claude-haiku-4.5": 0.15,
                "qwen/qwen3-coder": 0.40,
            },
            ("read_file", "grep", "run_tests", "apply_patch"),
            1.4,
            agent="code-assistant",
            agent_share=0.7,
            user_share=0.6,
            session_share=0.5,
        ),
        AppSpec(
            "search-api",
            "otlp",
            0.25,
            {
                "google/gemini-2.5-flash": 0.5,
                "openai/gpt-5-mini": 0.3,
                "google/gemini-2.5-pro": 0.2,
            },
            ("web_search", "fetch_page"),
            0.8,
            user_share=0.3,
        ),
        AppSpec(
            "nightly-batch",
            "jsonl",
            0.0,
            {"google/gemini-2.5-flash": 0.7, "openai/gpt-5-mini": 0.3},
            ("lookup_record", "write_result"),
            0.3,
            session_share=1.0,
        ),
    )
}
