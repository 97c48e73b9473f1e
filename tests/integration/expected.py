"""The SPEC §4 metric definitions, written independently in polars, to check the SQL jobs."""

from __future__ import annotations

import polars as pl

PROVIDER_ERRORS = [
    "rate_limit",
    "overloaded",
    "server_error",
    "timeout",
    "connection",
    "bad_response",
]


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    return (
        pl.when(pl.col(denominator) > 0)
        .then(pl.col(numerator) / pl.col(denominator))
        .otherwise(None)
    )


def expected_stats_weekly(requests: pl.DataFrame) -> pl.DataFrame:
    ok = pl.col("status") == "ok"
    reported = ok & pl.col("reasoning_tokens").is_not_null()
    frame = requests.with_columns(
        pl.col("started_at")
        .dt.convert_time_zone("UTC")
        .dt.truncate("1w")
        .dt.date()
        .alias("period_start")
    )
    stats = frame.group_by("period_start", "provider", "model").agg(
        requests=pl.len(),
        ok_requests=ok.sum(),
        tool_call_requests=(ok & (pl.col("finish_reason") == "tool_calls")).sum(),
        output_tokens=pl.col("output_tokens").filter(ok).sum(),
        reasoning_tokens=pl.col("reasoning_tokens").filter(reported).sum(),
        reasoning_output_tokens=pl.col("output_tokens").filter(reported).sum(),
        provider_errors=(
            (pl.col("status") == "error") & pl.col("error_type").is_in(PROVIDER_ERRORS)
        ).sum(),
        p50_latency_ms=pl.col("duration_ms").filter(ok).quantile(0.5, "linear"),
        p95_latency_ms=pl.col("duration_ms").filter(ok).quantile(0.95, "linear"),
        p50_ttft_ms=pl.col("ttft_ms").filter(ok).quantile(0.5, "linear"),
    )
    stats = stats.with_columns(up_denominator=pl.col("ok_requests") + pl.col("provider_errors"))
    return stats.with_columns(
        tool_call_rate=_ratio("tool_call_requests", "ok_requests"),
        reasoning_share=_ratio("reasoning_tokens", "reasoning_output_tokens"),
        reasoning_coverage=_ratio("reasoning_output_tokens", "output_tokens"),
        uptime=_ratio("ok_requests", "up_denominator"),
    ).drop("up_denominator")
