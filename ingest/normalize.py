"""Normalization tables: provider slugs, model ids, finish reasons and error types.

These run once per span on the hot ingest path, so the string-keyed lookups are cached. The
tables are module-level dicts; `register_aliases` extends them (user alias files) and clears
the caches. The rules are documented in docs/normalization.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from warehouse import schema as warehouse_schema

_CACHE_SIZE = 4096


def _invert(table: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """{canonical: (spelling, ...)} → {spelling (lower-case): canonical}."""
    return {alias.lower(): canonical for canonical, aliases in table.items() for alias in aliases}


# --- providers -------------------------------------------------------------------------------

# fmt: off
PROVIDER_ALIASES: dict[str, str] = _invert(
    {
        "amazon-bedrock": ("aws.bedrock", "bedrock", "Amazon Bedrock", "AWS", "bedrock_converse"),
        "google-vertex": ("gcp.vertex_ai", "vertex_ai", "Google Vertex", "vertex", "vertexai",
                          "vertex_ai_beta", "Google"),
        "google-ai-studio": ("gcp.gemini", "gemini", "Google AI Studio", "gcp.gen_ai",
                             "google_ai_studio"),
        "azure": ("azure.ai.openai", "az.ai.openai", "azure.ai.inference", "az.ai.inference",
                  "Azure", "azure_ai", "azure_openai", "Azure OpenAI"),
        "xai": ("x_ai", "xai", "xAI", "x-ai"),
        "mistral": ("mistral_ai", "mistralai", "Mistral"),
        "openai": ("OpenAI",),
        "anthropic": ("Anthropic",),
        "together": ("Together", "together_ai", "togetherai"),
        "fireworks": ("Fireworks", "fireworks_ai"),
        "deepinfra": ("DeepInfra",),
        "groq": ("Groq",),
        "deepseek": ("DeepSeek",),
        "cohere": ("Cohere", "cohere_chat"),
        "perplexity": ("Perplexity", "perplexity_ai"),
        "moonshotai": ("moonshot_ai", "moonshot", "Moonshot AI"),
        "ibm-watsonx": ("ibm.watsonx.ai", "watsonx", "IBM watsonx"),
        "z-ai": ("Z.AI", "zai", "zhipuai"),
    }
)
# fmt: on
BUILTIN_PROVIDER_ALIASES: dict[str, str] = dict(PROVIDER_ALIASES)  # before any user alias

_NON_ALNUM_RUN = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_provider(raw: str | None) -> str | None:
    """Canonical provider slug: built-in alias, else the slugified name; None when empty."""
    if raw is None:
        return None
    key = raw.strip().lower()
    if not key:
        return None
    return PROVIDER_ALIASES.get(key) or _NON_ALNUM_RUN.sub("-", key).strip("-") or None


# --- models ----------------------------------------------------------------------------------

# Checked on the raw (lower-cased) input first and on the computed id last, so one table holds
# user aliases for deployment names and renames to the spelling OpenRouter uses.
MODEL_ALIASES: dict[str, str] = {
    "openrouter/auto": "openrouter/auto",
    "openai/chatgpt-4o": "openai/chatgpt-4o-latest",
    "qwen/qwen3-coder-480b-a35b-instruct": "qwen/qwen3-coder",
    "qwen/qwen3-coder-480b-a35b": "qwen/qwen3-coder",
    "qwen/qwen3-235b-a22b-instruct-2507": "qwen/qwen3-235b-a22b-2507",
    "google/gemini-2.0-flash": "google/gemini-2.0-flash-001",
    "google/gemini-2.0-flash-lite": "google/gemini-2.0-flash-lite-001",
    "google/gemini-1.5-pro": "google/gemini-pro-1.5",
    "google/gemini-1.5-flash": "google/gemini-flash-1.5",
    "google/gemini-1.5-flash-8b": "google/gemini-flash-1.5-8b",
    "meta-llama/llama-4-maverick-17b-128e-instruct": "meta-llama/llama-4-maverick",
    "meta-llama/llama-4-maverick-17b-instruct": "meta-llama/llama-4-maverick",
    "meta-llama/llama-4-scout-17b-16e-instruct": "meta-llama/llama-4-scout",
    "meta-llama/llama-4-scout-17b-instruct": "meta-llama/llama-4-scout",
    "deepseek/deepseek-v3": "deepseek/deepseek-chat",
    "deepseek/deepseek-v3-0324": "deepseek/deepseek-chat-v3-0324",
    "deepseek/deepseek-v3.1": "deepseek/deepseek-chat-v3.1",
    "deepseek/v3": "deepseek/deepseek-chat-v3.1",
    "deepseek/r1": "deepseek/deepseek-r1",
    "x-ai/grok-4-0709": "x-ai/grok-4",
    "x-ai/grok-4-fast-reasoning": "x-ai/grok-4-fast",
    "x-ai/grok-4-fast-non-reasoning": "x-ai/grok-4-fast",
    "moonshotai/kimi-k2-instruct": "moonshotai/kimi-k2",
    "moonshotai/kimi-k2-0711-preview": "moonshotai/kimi-k2",
    "moonshotai/kimi-k2-instruct-0905": "moonshotai/kimi-k2-0905",
    "moonshotai/kimi-k2-0905-preview": "moonshotai/kimi-k2-0905",
}

# Vendor segments as other catalogues spell them → OpenRouter's vendor.
VENDOR_ALIASES: dict[str, str] = {
    "meta": "meta-llama",
    "mistral": "mistralai",
    "mistral_ai": "mistralai",
    "deepseek-ai": "deepseek",
    "gemini": "google",
    "xai": "x-ai",
    "x_ai": "x-ai",
    "zai-org": "z-ai",
    "zai": "z-ai",
    "zhipuai": "z-ai",
    "thudm": "z-ai",
    "moonshot": "moonshotai",
    "minimaxai": "minimax",
}

# Path segments naming a gateway or cloud rather than a model vendor (LiteLLM-style prefixes,
# Fireworks account paths); the vendor is then inferred from the model family.
# fmt: off
_GATEWAY_SEGMENTS = frozenset({
    "openrouter", "bedrock", "bedrock_converse", "vertex_ai", "vertex_ai_beta", "azure",
    "azure_ai", "together_ai", "together", "fireworks_ai", "fireworks", "groq", "deepinfra",
    "ollama", "ollama_chat", "hosted_vllm", "vllm", "sagemaker", "databricks", "watsonx",
    "cerebras", "sambanova", "nebius", "novita", "hyperbolic", "huggingface", "replicate",
    "models", "accounts"
})
# fmt: on

# fmt: off
_FAMILY_VENDORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), vendor)
    for pattern, vendor in (
        (r"claude", "anthropic"),
        (r"(gpt|chatgpt|o\d(-|$)|text-embedding|dall-e|whisper)", "openai"),
        (r"(gemini|gemma)", "google"),
        (r"(qwen|qwq)", "qwen"),
        (r"deepseek", "deepseek"),
        (r"(mistral|mixtral|codestral|magistral|devstral|ministral|pixtral)", "mistralai"),
        (r"llama", "meta-llama"),
        (r"grok", "x-ai"),
        (r"glm", "z-ai"),
        (r"kimi", "moonshotai"),
        (r"minimax", "minimax"),
        (r"command", "cohere"),
        (r"(nova|titan)-", "amazon"),
        (r"sonar", "perplexity"),
        (r"phi-", "microsoft"),
    )
)
# fmt: on

BUILTIN_MODEL_ALIASES: dict[str, str] = dict(MODEL_ALIASES)  # before any user alias

_REGION_PREFIX = re.compile(r"^(us|eu|apac|ap|global|us-gov|ca|jp|au)\.")
_DOTTED_VENDOR = re.compile(
    r"^(anthropic|meta|amazon|mistral|cohere|ai21|deepseek|qwen|openai|moonshot|minimax"
    r"|google|writer)\."
)
_BEDROCK_VERSION = re.compile(r"-v?\d+(:\d+k?)+$")  # -v1:0, -v2:0:200k, -1:0
_COLON_VERSION = re.compile(r"(:\d+k?)+$")  # amazon.nova-pro-v1:0 keeps its -v1
_VARIANT = re.compile(r":(free|nitro|floor|online|extended|thinking|beta|exacto|latest)$")
_DATE_STAMP = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")
_SERVING_SUFFIX = re.compile(r"-(fp8|tput)$")
_VERSION_PAIR = re.compile(r"(?<=-)(\d)-(\d)(?=-|$)")  # claude-3-5 → claude-3.5
_DIGIT_P_DIGIT = re.compile(r"(?<=\d)p(?=\d)")  # Fireworks: llama-v3p1, qwen2p5


def _path_vendor(prefixes: list[str]) -> str | None:
    segments = [s for s in prefixes if s != "models"]
    if "publishers" in segments:  # Vertex: projects/p/locations/l/publishers/<vendor>/models/x
        after = segments[segments.index("publishers") + 1 :]
        return after[0] if after else None
    vendor = segments[-1] if segments else None
    return None if vendor is None or vendor in _GATEWAY_SEGMENTS else vendor


def _strip_suffixes(name: str, vendor: str | None) -> str:
    name = name.split("@", 1)[0]
    name = (_COLON_VERSION if vendor == "amazon" else _BEDROCK_VERSION).sub("", name)
    name = _VARIANT.sub("", name).replace(":", "-")  # remaining Ollama tags: llama3.1:8b
    name = _SERVING_SUFFIX.sub("", name)
    name = name.removesuffix("-latest")
    name = _DATE_STAMP.sub("", name)
    if name.startswith("claude"):
        name = re.sub(r"-v\d+$", "", name)  # Vertex claude-3-5-sonnet-v2@20241022
    return name


def _family_spelling(name: str) -> str:
    name = _DIGIT_P_DIGIT.sub(".", name)
    name = re.sub(r"^meta-llama-", "llama-", name)
    name = re.sub(r"^llama-?v?(?=\d)", "llama-", name)
    if name.startswith("llama-"):
        name = name.removesuffix("-turbo")  # Together's serving variant of the same weights
    name = re.sub(r"^gemma(?=\d)", "gemma-", name)
    name = re.sub(r"^qwen(?=(2\.5|2)-(?!vl))", "qwen-", name)
    name = re.sub(r"^gpt-35(?=-|$)", "gpt-3.5", name)  # Azure spelling
    name = re.sub(r"^open-(?=mistral|mixtral|codestral)", "", name)
    if re.match(r"gemini-\d", name):
        name = re.sub(r"-0\d\d$", "", name)  # gemini-1.5-pro-002: a revision of one model
    return _VERSION_PAIR.sub(r"\1.\2", name)


def _infer_vendor(name: str) -> str | None:
    for pattern, vendor in _FAMILY_VENDORS:
        if pattern.match(name):
            return vendor
    return None


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_model(raw: str | None) -> str | None:
    """Canonical `vendor/name` id as OpenRouter spells it; a bare name when the vendor is
    neither given nor inferable from the family; None when empty."""
    if raw is None:
        return None
    key = raw.strip().lower()
    if not key:
        return None
    if key in MODEL_ALIASES:
        return MODEL_ALIASES[key]
    if key.startswith("arn:"):  # Bedrock model / inference-profile ARN
        key = key.rsplit("/", 1)[-1]
    *prefixes, name = key.split("/")
    vendor = _path_vendor(prefixes)
    name = _REGION_PREFIX.sub("", name)
    dotted = _DOTTED_VENDOR.match(name)
    if dotted:
        name = name[dotted.end() :]
        vendor = vendor or dotted.group(1)
    if vendor:
        vendor = VENDOR_ALIASES.get(vendor, vendor)
    name = _family_spelling(_strip_suffixes(name, vendor))
    vendor = vendor or _infer_vendor(name)
    model_id = f"{vendor}/{name}" if vendor else name
    return MODEL_ALIASES.get(model_id, model_id)


# --- finish reasons --------------------------------------------------------------------------

# fmt: off
FINISH_REASONS: dict[str, str] = _invert(
    {
        "stop": ("stop", "end_turn", "stop_sequence", "complete", "completed", "eos"),
        "length": ("length", "model_length", "max_tokens", "model_context_window_exceeded",
                   "max_output_tokens"),
        "tool_calls": ("tool_calls", "function_call", "tool_use", "tool_call", "tool-calls",
                       "tool-call"),
        "content_filter": ("content_filter", "content-filter", "refusal", "safety", "recitation",
                           "blocklist", "prohibited_content", "spii", "image_safety",
                           "image_prohibited_content", "guardrail_intervened", "content_filtered"),
        "error": ("error", "timeout", "insufficient_system_resource", "malformed_model_output",
                  "malformed_tool_use", "malformed_function_call", "unexpected_tool_call",
                  "too_many_tool_calls", "failed"),
        "cancelled": ("cancelled", "canceled", "user_cancel", "aborted"),
        "other": ("other", "unknown", "pause_turn", "compaction", "language",
                  "finish_reason_unspecified"),
    }
)
# fmt: on


@lru_cache(maxsize=_CACHE_SIZE)
def _finish_lookup(native: str) -> str | None:
    return FINISH_REASONS.get(native.strip().lower())


def known_finish_reason(native: str | None) -> str | None:
    """The canonical value of a recognised native reason, else None (no guessing)."""
    return _finish_lookup(native) if native else None


def normalize_finish_reason(
    native: str | None,
    *,
    has_tool_calls: bool = False,
    cancelled: bool = False,
    is_error: bool = False,
) -> str | None:
    """Canonical finish reason. Precedence: cancelled flag → tool calls present → recognised
    native reason → error status → `other` for an unrecognised native value → None."""
    if cancelled:
        return "cancelled"
    if has_tool_calls:
        return "tool_calls"
    present = bool(native and native.strip())
    mapped = _finish_lookup(native) if present else None
    if mapped:
        return mapped
    if is_error:
        return "error"
    return "other" if present else None


# --- errors ----------------------------------------------------------------------------------

PROVIDER_ERROR_TYPES: frozenset[str] = frozenset(warehouse_schema.PROVIDER_ERROR_TYPES)

# fmt: off
ERROR_SIGNALS: dict[str, str] = _invert(
    {
        "rate_limit": ("rate_limit", "rate_limit_exceeded", "rate_limit_error", "RateLimitError",
                       "too_many_requests", "resource_exhausted", "ResourceExhausted",
                       "ThrottlingException"),
        "overloaded": ("overloaded", "overloaded_error", "OverloadedError", "provider_overloaded",
                       "ServiceUnavailableException", "service_unavailable"),
        "server_error": ("server_error", "api_error", "InternalServerError",
                         "internal_server_error", "InternalServerException"),
        "timeout": ("timeout", "APITimeoutError", "ReadTimeout", "TimeoutError", "ConnectTimeout",
                    "WriteTimeout", "PoolTimeout", "DEADLINE_EXCEEDED", "DeadlineExceeded",
                    "ModelTimeoutException", "request_timeout"),
        "connection": ("connection", "APIConnectionError", "ConnectError", "ConnectionError",
                       "provider_unavailable", "RemoteProtocolError", "ConnectionResetError",
                       "ServerDisconnectedError", "ClientConnectorError"),
        "context_length": ("context_length", "context_length_exceeded", "max_tokens_exceeded",
                           "ContextWindowExceededError", "RequestTooLargeError",
                           "request_too_large"),
        "auth": ("auth", "authentication_error", "AuthenticationError", "permission_error",
                 "PermissionDeniedError", "payment_required", "invalid_api_key",
                 "insufficient_quota", "unauthenticated", "permission_denied",
                 "AccessDeniedException"),
        "content_policy": ("content_policy", "content_policy_violation", "refusal",
                           "ContentPolicyViolationError", "content_filter"),
        "client_error": ("client_error", "invalid_request_error", "invalid_request",
                         "BadRequestError", "NotFoundError", "not_found_error",
                         "UnprocessableEntityError", "ConflictError", "ValidationException",
                         "ResourceNotFoundException", "invalid_argument", "model_not_found"),
        "bad_response": ("bad_response", "APIResponseValidationError", "JSONDecodeError",
                         "malformed_response", "invalid_response", "DecodingError"),
        "cancelled": ("cancelled", "canceled", "CancelledError", "ClientDisconnect"),
    }
)
# fmt: on


def _error_from_status(status: int) -> str | None:
    if status == 429:
        return "rate_limit"
    if status in (503, 529):
        return "overloaded"
    if status in (408, 504):
        return "timeout"
    if status == 413:
        return "context_length"
    if status in (401, 402, 403):
        return "auth"
    if 500 <= status <= 599:
        return "server_error"
    if 400 <= status <= 499:
        return "client_error"
    return None


@lru_cache(maxsize=_CACHE_SIZE)
def _error_from_signal(signal: str) -> str | None:
    key = signal.strip().lower()
    if key.isdigit():  # numeric provider codes arrive as strings ("429", "529")
        return _error_from_status(int(key))
    found = ERROR_SIGNALS.get(key)
    if found is None and "." in key:  # qualified class name: openai.RateLimitError
        found = ERROR_SIGNALS.get(key.rsplit(".", 1)[-1])
    return found


def classify_error(*signals: str | None, http_status: int | None = None) -> str:
    """Canonical error type. Signals (error codes, `error.type`, exception class names) are
    tried in the order given, most specific first; a recognised one beats the HTTP status.
    Generic classes (`APIStatusError`, `_OTHER`) are unrecognised, so the status decides."""
    for signal in signals:
        if signal:
            found = _error_from_signal(signal)
            if found:
                return found
    if http_status is not None:
        return _error_from_status(http_status) or "other"
    return "other"


# --- user extensions -------------------------------------------------------------------------


# App names as received (exact) → the name to store; empty unless the user maps apps.
APP_ALIASES: dict[str, str] = {}


def register_aliases(
    providers: Mapping[str, str] | None = None,
    models: Mapping[str, str] | None = None,
    apps: Mapping[str, str] | None = None,
) -> None:
    """Add provider and model aliases (keys case-insensitive) and app mappings (exact keys),
    and drop cached results."""
    PROVIDER_ALIASES.update({k.strip().lower(): v for k, v in (providers or {}).items()})
    MODEL_ALIASES.update({k.strip().lower(): v for k, v in (models or {}).items()})
    APP_ALIASES.update(apps or {})
    normalize_provider.cache_clear()
    normalize_model.cache_clear()
