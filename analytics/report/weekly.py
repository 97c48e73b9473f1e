"""The weekly adoption report's numbers: one ISO week against the week before.

Everything comes from the tables the batch jobs keep (never raw `requests`), as polars frames
that the renderers (HTML, Markdown, CSV, PDF) format without computing anything themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import polars as pl

HISTORY_WEEKS = 8  # how much trend the charts show, ending with the report's week
TOP_MODELS = 10
MOVERS = 5
MOVER_MIN_REQUESTS = 50  # both weeks, so a rate mover is not noise from a handful of calls

# (name, column of stats_weekly_overall, kind). Kind drives formatting and how change is read:
# rates change in percentage points, counts in percent.
HEADLINE_METRICS: tuple[tuple[str, str, str], ...] = (
    ("Requests", "requests", "count"),
    ("Tool-call rate", "tool_call_rate", "rate"),
    ("Reasoning share of output tokens", "reasoning_share", "rate"),
    ("Uptime (all providers)", "uptime", "rate"),
    ("Output tokens", "output_tokens", "count"),
    ("Input tokens", "input_tokens", "count"),
)

WEEK_ROWS_SQL = """
SELECT * FROM stats_weekly_overall WHERE period_start IN ($week, $previous)
"""

MODEL_MIX_SQL = """
WITH weeks AS (
    SELECT model, period_start, requests, tool_call_rate,
           requests / sum(requests) OVER (PARTITION BY period_start) AS share
    FROM stats_weekly_model
    WHERE period_start IN ($week, $previous)
)
SELECT model,
       coalesce(max(requests) FILTER (WHERE period_start = $week), 0) AS requests,
       coalesce(max(share) FILTER (WHERE period_start = $week), 0) AS share,
       coalesce(max(share) FILTER (WHERE period_start = $previous), 0) AS last_share,
       max(tool_call_rate) FILTER (WHERE period_start = $week) AS tool_call_rate,
       max(tool_call_rate) FILTER (WHERE period_start = $previous) AS last_tool_call_rate,
       coalesce(max(requests) FILTER (WHERE period_start = $previous), 0) AS last_requests
FROM weeks
GROUP BY model
ORDER BY requests DESC, model
"""

PROVIDERS_SQL = """
SELECT provider,
       coalesce(max(requests) FILTER (WHERE period_start = $week), 0) AS requests,
       coalesce(max(provider_errors) FILTER (WHERE period_start = $week), 0) AS provider_errors,
       max(uptime) FILTER (WHERE period_start = $week) AS uptime,
       max(uptime) FILTER (WHERE period_start = $previous) AS last_uptime
FROM stats_weekly_provider
WHERE period_start IN ($week, $previous)
GROUP BY provider
HAVING requests > 0
ORDER BY requests DESC, provider
"""

# Daily trend over the history window, from summed counts (never averaged ratios).
DAILY_SQL = """
SELECT period_start AS day,
       sum(requests) AS requests,
       sum(tool_call_requests) / nullif(sum(ok_requests), 0) AS tool_call_rate,
       sum(reasoning_tokens) / nullif(sum(reasoning_output_tokens), 0) AS reasoning_share
FROM stats_daily
WHERE period_start >= $history_start AND period_start < $week_end
GROUP BY day
ORDER BY day
"""

PROVIDER_DAILY_SQL = """
SELECT period_start AS day, provider,
       sum(ok_requests) / nullif(sum(ok_requests) + sum(provider_errors), 0) AS uptime
FROM stats_daily
WHERE period_start >= $week AND period_start < $week_end
GROUP BY day, provider
ORDER BY day, provider
"""


# Spend is the reported cost where known, else the estimate (`model_mix_daily`), so it is
# labelled estimated; `estimated_spend_share` is the part of the tier's spend that is.
# Spend shares are NULL when nothing that week is priced. Sums are rounded to the
# micro-dollar: a parallel sum of doubles may differ in its last bits from run to run.
TIER_MIX_SQL = """
WITH weeks AS (
    SELECT tier,
           CAST(date_trunc('week', period_start) AS DATE) AS week,
           CAST(sum(requests) AS BIGINT) AS requests,
           CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
           round(coalesce(sum(spend_usd), 0), 6) AS spend_usd,
           round(coalesce(sum(estimated_spend_usd), 0), 6) AS estimated_spend_usd
    FROM model_mix_daily
    WHERE period_start >= $previous AND period_start < $week_end
    GROUP BY ALL
),
shares AS (
    SELECT tier, week, requests, spend_usd,
           requests / nullif(sum(requests) OVER (PARTITION BY week), 0) AS share,
           output_tokens / nullif(sum(output_tokens) OVER (PARTITION BY week), 0)
               AS output_token_share,
           spend_usd / nullif(sum(spend_usd) OVER (PARTITION BY week), 0) AS spend_share,
           estimated_spend_usd / nullif(spend_usd, 0) AS estimated_spend_share
    FROM weeks
)
SELECT tier,
       coalesce(max(requests) FILTER (WHERE week = $week), 0) AS requests,
       coalesce(max(share) FILTER (WHERE week = $week), 0) AS share,
       coalesce(max(share) FILTER (WHERE week = $previous), 0) AS last_share,
       coalesce(max(output_token_share) FILTER (WHERE week = $week), 0) AS output_token_share,
       coalesce(max(output_token_share) FILTER (WHERE week = $previous), 0)
           AS last_output_token_share,
       coalesce(max(spend_usd) FILTER (WHERE week = $week), 0) AS spend_usd,
       max(spend_share) FILTER (WHERE week = $week) AS spend_share,
       max(spend_share) FILTER (WHERE week = $previous) AS last_spend_share,
       max(estimated_spend_share) FILTER (WHERE week = $week) AS estimated_spend_share
FROM shares
GROUP BY tier
ORDER BY requests DESC, tier
"""

SLA_SQL = """
SELECT provider, attained, sla_target, budget_used
FROM provider_sla
WHERE period = 'week' AND period_start = $week AND model IS NULL
"""

# Provider-wide incidents (model NULL) that overlap the week.
INCIDENTS_SQL = """
SELECT provider, started_at, ended_at, duration_minutes, failed_requests, worst_uptime,
       top_error_type
FROM uptime_incidents
WHERE model IS NULL
  AND started_at < timezone('UTC', CAST($week_end AS TIMESTAMP))
  AND ended_at > timezone('UTC', CAST($week AS TIMESTAMP))
ORDER BY started_at, provider
"""

DIVERGENCES_SQL = """
SELECT model, provider, reason
FROM provider_divergence
WHERE period_start = $week AND divergent
ORDER BY model, provider
"""

# Models served by more than one provider: the pool in rank order, who is left out and why,
# and why the pool is degraded (NULL when it is not).
ROUTING_SQL = """
WITH pools AS (
    SELECT model,
           min(window_start) AS window_start,
           max(window_end) AS window_end,
           string_agg(provider, ', ' ORDER BY rank) FILTER (WHERE included) AS route_to,
           string_agg(provider || ' (' || reason || ')', '; ' ORDER BY provider)
               FILTER (WHERE NOT included) AS leave_out,
           any_value(pool_reason) AS degraded,
           count(*) AS providers
    FROM routing_pools
    GROUP BY model
)
SELECT model, route_to, leave_out, window_start, window_end, degraded
FROM pools
WHERE providers > 1
ORDER BY model
"""


def parse_week(text: str) -> date:
    """`2026-W47` → Monday 2026-11-16."""
    try:
        year, week = text.upper().split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise ValueError(f"not an ISO week: {text!r} (use e.g. 2026-W47)") from None


def week_label(week_start: date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def last_complete_week(today: date) -> date:
    """Monday of the last ISO week that has ended by `today` (UTC)."""
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(days=7)


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    week_start: date
    generated_at: datetime
    headline: pl.DataFrame  # metric, kind, this_week, last_week, change
    model_mix: pl.DataFrame  # model, requests, share, last_share, share_change
    movers: pl.DataFrame  # what, name, last_week, this_week, change
    providers: pl.DataFrame  # provider, requests, provider_errors, uptime, last_uptime, SLA
    daily: pl.DataFrame  # day, requests, tool_call_rate, reasoning_share
    provider_daily: pl.DataFrame  # day, provider, uptime
    tier_mix: pl.DataFrame  # tier, requests, share, last_share, output token and spend shares
    incidents: pl.DataFrame  # provider-wide incidents overlapping the week
    divergences: pl.DataFrame  # model, provider, reason
    routing: pl.DataFrame  # model, route_to, leave_out, window_start, window_end, degraded

    @property
    def label(self) -> str:
        return week_label(self.week_start)

    @property
    def week_end(self) -> date:
        """The last day of the week (Sunday)."""
        return self.week_start + timedelta(days=6)

    @property
    def has_traffic(self) -> bool:
        this_week = self.headline.filter(pl.col("metric") == "Requests")["this_week"]
        return bool(this_week.len()) and (this_week[0] or 0) > 0

    def tables(self) -> dict[str, pl.DataFrame]:
        """Every table behind the report, by file stem (the CSV export)."""
        return {
            "headline": self.headline,
            "model_mix": self.model_mix,
            "top_movers": self.movers,
            "provider_uptime": self.providers,
            "daily_trend": self.daily,
            "provider_daily_uptime": self.provider_daily,
            "tier_mix": self.tier_mix,
            "incidents": self.incidents,
            "divergent_providers": self.divergences,
            "routing_suggestions": self.routing,
        }


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql, params=params).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def _headline(weeks: pl.DataFrame, tiers: pl.DataFrame, week: date, previous: date) -> pl.DataFrame:
    def value(period: date, column: str) -> float | int | None:
        row = weeks.filter(pl.col("period_start") == period)
        return row[column][0] if row.height else None

    frontier = tiers.filter(pl.col("tier") == "frontier")
    metrics = [
        (name, kind, value(week, c), value(previous, c)) for name, c, kind in HEADLINE_METRICS
    ]
    metrics.append(
        (
            "Frontier models' share of requests",
            "rate",
            frontier["share"][0] if frontier.height else None,
            frontier["last_share"][0] if frontier.height else None,
        )
    )
    rows = []
    for name, kind, this_week, last_week in metrics:
        change = None
        if this_week is not None and last_week is not None:
            if kind == "rate":
                change = this_week - last_week  # percentage points, as a fraction
            elif last_week:
                change = this_week / last_week - 1.0
        rows.append(
            {
                "metric": name,
                "kind": kind,
                "this_week": None if this_week is None else float(this_week),
                "last_week": None if last_week is None else float(last_week),
                "change": change,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "metric": pl.String,
            "kind": pl.String,
            "this_week": pl.Float64,
            "last_week": pl.Float64,
            "change": pl.Float64,
        },
        orient="row",
    )


def _top_changes(mix: pl.DataFrame, what: str, last: str, this: str) -> pl.DataFrame:
    """The models whose `this` column moved most from `last`, largest change first."""
    return (
        mix.with_columns((pl.col(this) - pl.col(last)).alias("change"))
        .drop_nulls("change")
        .filter(pl.col("change") != 0)
        .sort([pl.col("change").abs(), "model"], descending=[True, False])
        .head(MOVERS)
        .select(
            pl.lit(what).alias("what"),
            pl.col("model").alias("name"),
            pl.col(last).alias("last_week"),
            pl.col(this).alias("this_week"),
            "change",
        )
    )


def _movers(mix: pl.DataFrame) -> pl.DataFrame:
    """The models whose share of requests and whose tool-call rate moved most."""
    busy = mix.filter(
        (pl.col("requests") >= MOVER_MIN_REQUESTS) & (pl.col("last_requests") >= MOVER_MIN_REQUESTS)
    )
    return pl.concat(
        [
            _top_changes(mix, "share of requests", "last_share", "share"),
            _top_changes(busy, "tool-call rate", "last_tool_call_rate", "tool_call_rate"),
        ]
    )


def build_weekly_report(
    con: duckdb.DuckDBPyConnection, week_start: date, *, generated_at: datetime
) -> WeeklyReport:
    if week_start.weekday() != 0:
        raise ValueError(f"a report week starts on a Monday, not {week_start:%A %Y-%m-%d}")
    previous = week_start - timedelta(days=7)
    week_end = week_start + timedelta(days=7)
    params = {"week": week_start, "previous": previous}
    mix = _frame(con, MODEL_MIX_SQL, params)
    tiers = _frame(con, TIER_MIX_SQL, {**params, "week_end": week_end})
    providers = _frame(con, PROVIDERS_SQL, params).join(
        _frame(con, SLA_SQL, {"week": week_start}), on="provider", how="left"
    )
    return WeeklyReport(
        week_start=week_start,
        generated_at=generated_at,
        headline=_headline(_frame(con, WEEK_ROWS_SQL, params), tiers, week_start, previous),
        model_mix=mix.select(
            "model",
            "requests",
            "share",
            "last_share",
            (pl.col("share") - pl.col("last_share")).alias("share_change"),
        ).head(TOP_MODELS),
        movers=_movers(mix),
        providers=providers,
        daily=_frame(
            con,
            DAILY_SQL,
            {
                "history_start": week_start - timedelta(weeks=HISTORY_WEEKS - 1),
                "week_end": week_start + timedelta(days=7),
            },
        ),
        provider_daily=_frame(con, PROVIDER_DAILY_SQL, {"week": week_start, "week_end": week_end}),
        tier_mix=tiers,
        incidents=_frame(con, INCIDENTS_SQL, {"week": week_start, "week_end": week_end}),
        divergences=_frame(con, DIVERGENCES_SQL, {"week": week_start}),
        routing=_frame(con, ROUTING_SQL, {}),
    )
