"""The trends planted in the sample traffic, as data.

Tests, benchmarks and the README read these numbers instead of repeating them, so a change
here moves the generator and every check of it together. `sample_data/README.md` explains each
truth and how to measure it on the `requests` table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlantedTruths:
    # 1. Tool-call rate (tool_call_requests / ok_requests over all traffic) rises linearly
    #    from the first day to the last; per-request odds are rescaled each day so the overall
    #    daily expectation is exactly this line whatever the app/model mix of the day.
    tool_call_rate_start: float = 0.045
    tool_call_rate_end: float = 0.29

    # 2. Reasoning share (reasoning_tokens / output_tokens over ok requests that report
    #    reasoning) rises linearly; each request draws its share around the line.
    reasoning_share_start: float = 0.15
    reasoning_share_end: float = 0.52
    reasoning_share_spread: float = 0.10
    # Providers that never report reasoning (NULL, never 0), and models nobody reports it for.
    providers_without_reasoning: tuple[str, ...] = ("amazon-bedrock",)
    models_without_reasoning: tuple[str, ...] = ("qwen/qwen3-coder",)

    # 3. Same model, one provider with a lower tool-call rate. Every other provider has a
    #    factor of 1.0, so same-model providers differ only where planted here.
    divergent_model: str = "qwen/qwen3-coder"
    divergent_provider: str = "deepinfra"
    divergent_tool_call_factor: float = 0.5
    divergent_peers: tuple[str, ...] = ("together", "fireworks")

    # 4. A provider outage: on the day `outage_days_before_end` days before the last day (or
    #    the middle day of shorter windows), exactly ceil(share × n) of the n requests to
    #    `outage_provider` started in [start, end) UTC fail as overloaded (http 529,
    #    error.type `overloaded_error`). Other providers, and that provider outside the window,
    #    see only the baseline error rates below.
    outage_provider: str = "anthropic"
    outage_days_before_end: int = 20
    outage_start_minute: int = 13 * 60
    outage_end_minute: int = 16 * 60 + 30
    outage_failure_share: float = 0.85
    # Baseline errors, per request, everywhere: provider side (rate limit 429, server error
    # 500, timeout) and client side (400 bad request, context length).
    baseline_provider_error_rate: float = 0.005
    baseline_client_error_rate: float = 0.003

    # 5. Nightly batch: app `nightly-batch` sends `batch_share` of all requests, every night,
    #    between batch_start_hour and batch_end_hour UTC, through small models only.
    batch_app: str = "nightly-batch"
    batch_share: float = 0.40
    batch_start_hour: int = 1
    batch_end_hour: int = 3
    # Interactive apps follow a diurnal curve peaking at this UTC hour; weekends carry this
    # fraction of a weekday's interactive volume. Interactive volume grows linearly by
    # `interactive_growth` over the window (adoption).
    diurnal_peak_hour: float = 14.5
    weekend_factor: float = 0.45
    interactive_growth: float = 0.30

    # 6. Frontier (planner) and small/fast (executor) tiers, mixed within each app.
    frontier_models: tuple[str, ...] = (
        "anthropic/claude-sonnet-4.5",
        "openai/gpt-5",
        "google/gemini-2.5-pro",
    )
    small_models: tuple[str, ...] = (
        "anthropic/claude-haiku-4.5",
        "openai/gpt-5-mini",
        "google/gemini-2.5-flash",
        "qwen/qwen3-coder",
    )

    # Share of OTLP spans that name their provider with the deprecated `gen_ai.system`.
    deprecated_system_share: float = 0.20
    streaming_share: float = 0.60

    def tool_call_rate_at(self, fraction_of_window: float) -> float:
        """Planted overall tool-call rate at a point of the window (0 = first day, 1 = last)."""
        span = self.tool_call_rate_end - self.tool_call_rate_start
        return self.tool_call_rate_start + span * fraction_of_window

    def reasoning_share_at(self, fraction_of_window: float) -> float:
        span = self.reasoning_share_end - self.reasoning_share_start
        return self.reasoning_share_start + span * fraction_of_window


TRUTHS = PlantedTruths()
