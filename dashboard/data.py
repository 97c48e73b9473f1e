"""The dashboard's queries: filters in, polars DataFrames out.

Reads the pre-aggregated `stats_daily_app` table only (never `requests`). It carries counts
per (day, provider, model, app), so every filter combination sums the same way; ratios are
recomputed from the summed counts and are NULL when their denominator is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import polars as pl

from warehouse.db import Warehouse

Split = Literal["all", "provider", "model"]

DEFAULT_RANGE_DAYS = 90

# The range of a selection picked as whole days (the date picker), not as a preset.
CUSTOM = "custom"

FILTER_OPTIONS_SQL = """
SELECT
    min(period_start) AS first_day,
    max(period_start) AS last_day,
    list(DISTINCT provider ORDER BY provider) FILTER (WHERE provider IS NOT NULL) AS providers,
    list(DISTINCT model ORDER BY model) FILTER (WHERE model IS NOT NULL) AS models,
    list(DISTINCT app ORDER BY app) FILTER (WHERE app IS NOT NULL) AS apps
FROM stats_daily_app
"""

# Summed counts and the ratios recomputed from them; shared by the queries below.
_TOTALS_SQL = """
    CAST(coalesce(sum(requests), 0) AS BIGINT) AS requests,
    CAST(coalesce(sum(ok_requests), 0) AS BIGINT) AS ok_requests,
    CAST(coalesce(sum(tool_call_requests), 0) AS BIGINT) AS tool_call_requests,
    CAST(coalesce(sum(provider_errors), 0) AS BIGINT) AS provider_errors,
    CAST(coalesce(sum(reasoning_tokens), 0) AS BIGINT) AS reasoning_tokens,
    CAST(coalesce(sum(reasoning_output_tokens), 0) AS BIGINT) AS reasoning_output_tokens,
    sum(tool_call_requests) / nullif(sum(ok_requests), 0) AS tool_call_rate,
    sum(reasoning_tokens) / nullif(sum(reasoning_output_tokens), 0) AS reasoning_share,
    sum(ok_requests) / nullif(sum(ok_requests) + sum(provider_errors), 0) AS uptime
"""

TOTALS_SQL = f"""
SELECT {_TOTALS_SQL}
FROM stats_daily_app
WHERE {{where}}
"""

# One row per day of the selected range and per series; days a series has no rows get
# zero counts and NULL ratios, so charts show gaps instead of joining across missing days.
DAILY_SERIES_SQL = f"""
WITH filtered AS (
    SELECT
        period_start,
        CASE $split WHEN 'provider' THEN provider WHEN 'model' THEN model ELSE 'all' END
            AS series,
        requests, ok_requests, tool_call_requests, provider_errors,
        reasoning_tokens, reasoning_output_tokens
    FROM stats_daily_app
    WHERE {{where}}
),
days AS (
    SELECT CAST(range AS DATE) AS period_start
    FROM range(CAST($start AS DATE), CAST($end AS DATE) + INTERVAL 1 DAY, INTERVAL 1 DAY)
),
names AS (SELECT DISTINCT series FROM filtered)
SELECT days.period_start, names.series, {_TOTALS_SQL}
FROM days
CROSS JOIN names
LEFT JOIN filtered
    ON filtered.period_start = days.period_start AND filtered.series = names.series
GROUP BY days.period_start, names.series
ORDER BY days.period_start, names.series
"""


@dataclass(frozen=True, slots=True)
class Filters:
    """The global filter selection; an empty tuple means "no restriction".

    `start` and `end` are the UTC days the selection touches, which is what pages built from
    daily tables read. `since` and `until` are the exact half-open range when it is not whole
    days (a preset such as the last hour, or a window a chart click picked); `preset` names
    the preset it came from, `CUSTOM` otherwise.
    """

    start: date
    end: date
    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    preset: str = CUSTOM
    since: datetime | None = None
    until: datetime | None = None

    def window(self) -> tuple[datetime, datetime]:
        """The selection as a half-open UTC range [since, until)."""
        if self.since is not None and self.until is not None:
            return self.since, self.until
        return midnight(self.start), midnight(self.end + timedelta(days=1))

    def to_store(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "providers": list(self.providers),
            "models": list(self.models),
            "apps": list(self.apps),
            "preset": self.preset,
            "since": self.since and self.since.isoformat(),
            "until": self.until and self.until.isoformat(),
        }

    @classmethod
    def from_store(cls, data: dict[str, Any]) -> Filters:
        since, until = data.get("since"), data.get("until")
        return cls(
            start=date.fromisoformat(data["start"][:10]),
            end=date.fromisoformat(data["end"][:10]),
            providers=tuple(data.get("providers") or ()),
            models=tuple(data.get("models") or ()),
            apps=tuple(data.get("apps") or ()),
            preset=data.get("preset") or CUSTOM,
            since=datetime.fromisoformat(since) if since else None,
            until=datetime.fromisoformat(until) if until else None,
        )


def midnight(day: date) -> datetime:
    """The UTC start of `day`."""
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """What the filter controls offer, taken from the data."""

    first_day: date | None
    last_day: date | None
    providers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()

    def default_filters(self, range_days: int = DEFAULT_RANGE_DAYS) -> Filters:
        """The last `range_days` days that have data (today when there is none)."""
        last = self.last_day or date.today()
        first = self.first_day or last
        return Filters(start=max(first, last - timedelta(days=range_days - 1)), end=last)


def _where(filters: Filters) -> tuple[str, dict[str, Any]]:
    clauses = ["period_start BETWEEN $start AND $end"]
    params: dict[str, Any] = {"start": filters.start, "end": filters.end}
    for column, values in (
        ("provider", filters.providers),
        ("model", filters.models),
        ("app", filters.apps),
    ):
        if values:
            clauses.append(f"list_contains(${column}s, {column})")
            params[f"{column}s"] = list(values)
    return " AND ".join(clauses), params


def filter_options(warehouse: Warehouse) -> FilterOptions:
    row = warehouse.query_df(FILTER_OPTIONS_SQL).row(0, named=True)
    return FilterOptions(
        first_day=row["first_day"],
        last_day=row["last_day"],
        providers=tuple(row["providers"] or ()),
        models=tuple(row["models"] or ()),
        apps=tuple(row["apps"] or ()),
    )


def totals(warehouse: Warehouse, filters: Filters) -> dict[str, Any]:
    """Summed counts and ratios over the whole selection, as one dict."""
    where, params = _where(filters)
    return warehouse.query_df(TOTALS_SQL.format(where=where), params).row(0, named=True)


def daily_series(warehouse: Warehouse, filters: Filters, split: Split = "all") -> pl.DataFrame:
    """Per day and per series (`split` column, or one series named "all"): counts and ratios."""
    where, params = _where(filters)
    return warehouse.query_df(DAILY_SERIES_SQL.format(where=where), {**params, "split": split})
