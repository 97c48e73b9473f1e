"""Error-budget burn-rate rules, multi-window as in the Google SRE workbook (chapter
"Alerting on SLOs"): the budget is `1 - sla_target` of the eligible requests; the burn rate of
a window is its provider-error rate over that budget (1× spends the budget exactly over the
SLA period). A key fires when, for some window pair, both the long and the short window burn
at least `factor`×: the long window makes it significant, the short one makes it current, so
the alert resolves minutes after recovery instead of hours.

Read straight from `requests` (eligible = ok or a provider error, SPEC §4), over windows that
end at the evaluation time, so they are exact to the request rather than to a bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import duckdb

from analytics.jobs.request_classes import PROVIDER_ERROR_SQL
from analytics.settings import AnalyticsSettings
from gatewatch.alerts.conditions import Condition, subject
from gatewatch.alerts.rules import AlertRule, BurnWindow, minutes_text

BUDGET_PERIOD_DAYS = 30  # the SLA period a burn rate's budget share is told against


def _spans(rule: AlertRule) -> list[float]:
    """Every window length of the rule, longest first (so `$start_0` bounds the scan)."""
    return sorted({m for w in rule.windows for m in (w.long_minutes, w.short_minutes)})[::-1]


def burn_sql(rule: AlertRule) -> str:
    per_model = rule.per == "provider_model"
    counts = ",\n    ".join(
        f"count(*) FILTER (WHERE started_at >= $start_{i}) AS eligible_{i},\n    "
        f"count(*) FILTER (WHERE started_at >= $start_{i} AND {PROVIDER_ERROR_SQL}) "
        f"AS errors_{i}"
        for i in range(len(_spans(rule)))
    )
    model = "coalesce(model, 'unknown')" if per_model else "CAST(NULL AS VARCHAR)"
    return f"""
SELECT coalesce(provider, 'unknown') AS provider, {model} AS model,
    {counts}
FROM requests
WHERE started_at >= $start_0 AND started_at < $now
  AND (status = 'ok' OR {PROVIDER_ERROR_SQL})
GROUP BY ALL
ORDER BY ALL
"""


def conditions(
    con: duckdb.DuckDBPyConnection,
    rule: AlertRule,
    settings: AnalyticsSettings,
    now: datetime,
) -> list[Condition]:
    spans = _spans(rule)
    params: dict[str, Any] = {"now": now}
    params.update({f"start_{i}": now - timedelta(minutes=m) for i, m in enumerate(spans)})
    cursor = con.execute(burn_sql(rule), params)
    budget = 1.0 - settings.sla_target
    found = []
    for row in cursor.fetchall():
        provider, model, *counts = row
        # window minutes → (eligible requests, provider errors)
        by_span = {m: (counts[2 * i], counts[2 * i + 1]) for i, m in enumerate(spans)}
        firing = [
            (window, burns)
            for window in rule.windows
            if (burns := _burns(window, by_span, budget, rule.min_requests)) is not None
        ]
        if not firing:
            continue
        what = subject(provider, model)
        details = {
            "subject": what,
            "provider": provider,
            "model": model,
            "sla_target": settings.sla_target,
            "windows": [_window_details(w, by_span, budget) for w in rule.windows],
        }
        found.append(
            Condition(
                key=f"{provider}|{model or '*'}",
                active=True,
                fired_summary=_text(what, firing, settings.sla_target),
                details=details,
            )
        )
    return found


def _burn(eligible: int, errors: int, budget: float) -> float | None:
    return errors / eligible / budget if eligible else None


def _burns(
    window: BurnWindow,
    by_span: Mapping[float, tuple[int, int]],
    budget: float,
    min_requests: int,
) -> tuple[float, float] | None:
    """(long, short) burn rates when the pair fires, else None."""
    long_eligible, long_errors = by_span[window.long_minutes]
    if long_eligible < min_requests:
        return None
    long_burn = _burn(long_eligible, long_errors, budget)
    short_burn = _burn(*by_span[window.short_minutes], budget)
    if long_burn is None or short_burn is None:
        return None
    if long_burn >= window.factor and short_burn >= window.factor:
        return long_burn, short_burn
    return None


def _window_details(
    window: BurnWindow, by_span: Mapping[float, tuple[int, int]], budget: float
) -> dict[str, Any]:
    long_eligible, long_errors = by_span[window.long_minutes]
    short_eligible, short_errors = by_span[window.short_minutes]
    return {
        "long_minutes": window.long_minutes,
        "short_minutes": window.short_minutes,
        "factor": window.factor,
        "long_eligible_requests": long_eligible,
        "long_provider_errors": long_errors,
        "long_burn_rate": _burn(long_eligible, long_errors, budget),
        "short_eligible_requests": short_eligible,
        "short_provider_errors": short_errors,
        "short_burn_rate": _burn(short_eligible, short_errors, budget),
    }


def _text(what: str, firing: list[tuple[BurnWindow, tuple[float, float]]], sla: float) -> str:
    parts = []
    for window, (long_burn, short_burn) in firing:
        long, short = minutes_text(window.long_minutes), minutes_text(window.short_minutes)
        spent = long_burn * window.long_minutes / (BUDGET_PERIOD_DAYS * 24 * 60)
        parts.append(
            f"{long_burn:.1f}× over {long} and {short_burn:.1f}× over {short} "
            f"(alert at {window.factor:g}×; {spent:.0%} of a {BUDGET_PERIOD_DAYS}-day budget "
            f"spent in {long})"
        )
    return f"{what}: error budget of the {sla * 100:g}% SLA burning at " + "; ".join(parts)
