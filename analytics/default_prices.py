"""Built-in prices of common models, used where the config file prices no such model.

List prices in US dollars per million tokens as the vendors and hosts published them,
checked 2025-11 (openai.com/api/pricing, anthropic.com/pricing,
ai.google.dev/gemini-api/docs/pricing, api-docs.deepseek.com/quick_start/pricing,
together.ai/pricing, fireworks.ai/pricing, deepinfra.com/pricing). They are list prices:
batch, priority and regional-endpoint surcharges, long-context tiers (Gemini 2.5 Pro and
Claude Sonnet above 200k prompt tokens) and negotiated discounts are not modelled. Put
your own prices in the config's `[[prices]]`; a model priced there ignores these rows.

A price without a provider applies on every provider without a row of its own: OpenAI
models on OpenAI and Azure, Claude on Anthropic, Bedrock and Vertex, Gemini on AI Studio and
Vertex list the same global prices. Open-weight models cost what each host charges.
Anthropic cache writes are the 5-minute cache's (1.25 × input).
"""

from __future__ import annotations

from datetime import UTC, datetime

from analytics.prices import Price


def _utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


# The o3 price cut and DeepSeek's V3.2 prices took effect on these days.
_O3_CUT = _utc(2025, 6, 10)
_DEEPSEEK_V32 = _utc(2025, 9, 29)


def _claude(model: str, input_price: float, output: float) -> Price:
    return Price(
        model, input_price, output, cached=input_price / 10, cache_write=input_price * 1.25
    )


DEFAULT_PRICES: tuple[Price, ...] = (
    # OpenAI (reasoning tokens bill as output)
    Price("openai/gpt-4o", 2.50, 10.00, cached=1.25),
    Price("openai/gpt-4o-mini", 0.15, 0.60, cached=0.075),
    Price("openai/gpt-4.1", 2.00, 8.00, cached=0.50),
    Price("openai/gpt-4.1-mini", 0.40, 1.60, cached=0.10),
    Price("openai/gpt-4.1-nano", 0.10, 0.40, cached=0.025),
    Price("openai/gpt-5", 1.25, 10.00, cached=0.125),
    Price("openai/gpt-5.1", 1.25, 10.00, cached=0.125),
    Price("openai/gpt-5-mini", 0.25, 2.00, cached=0.025),
    Price("openai/gpt-5-nano", 0.05, 0.40, cached=0.005),
    Price("openai/o3", 10.00, 40.00, cached=2.50, valid_until=_O3_CUT),
    Price("openai/o3", 2.00, 8.00, cached=0.50, valid_from=_O3_CUT),
    Price("openai/o4-mini", 1.10, 4.40, cached=0.275),
    # Anthropic: cache reads 0.1 × input, 5-minute cache writes 1.25 × input
    _claude("anthropic/claude-opus-4.5", 5.00, 25.00),
    _claude("anthropic/claude-opus-4.1", 15.00, 75.00),
    _claude("anthropic/claude-opus-4", 15.00, 75.00),
    _claude("anthropic/claude-sonnet-4.5", 3.00, 15.00),
    _claude("anthropic/claude-sonnet-4", 3.00, 15.00),
    _claude("anthropic/claude-3.7-sonnet", 3.00, 15.00),
    _claude("anthropic/claude-haiku-4.5", 1.00, 5.00),
    _claude("anthropic/claude-3.5-haiku", 0.80, 4.00),
    # Google (prompts up to 200k tokens; thinking tokens bill as output)
    Price("google/gemini-2.5-pro", 1.25, 10.00, cached=0.125),
    Price("google/gemini-2.5-flash", 0.30, 2.50, cached=0.03),
    Price("google/gemini-2.5-flash-lite", 0.10, 0.40, cached=0.01),
    # DeepSeek's own API (cache hits are the cached price)
    Price(
        "deepseek/deepseek-chat",
        0.28,
        0.42,
        cached=0.028,
        provider="deepseek",
        valid_from=_DEEPSEEK_V32,
    ),
    Price(
        "deepseek/deepseek-reasoner",
        0.28,
        0.42,
        cached=0.028,
        provider="deepseek",
        valid_from=_DEEPSEEK_V32,
    ),
    # Open-weight models: each host's own price
    Price("meta-llama/llama-3.3-70b-instruct", 0.88, 0.88, provider="together"),
    Price("meta-llama/llama-3.3-70b-instruct", 0.90, 0.90, provider="fireworks"),
    Price("meta-llama/llama-3.3-70b-versatile", 0.59, 0.79, provider="groq"),
    Price("qwen/qwen3-coder", 2.00, 2.00, provider="together"),
    Price("qwen/qwen3-coder", 0.45, 1.80, provider="fireworks"),
    Price("qwen/qwen3-coder", 0.40, 1.60, provider="deepinfra"),
)
