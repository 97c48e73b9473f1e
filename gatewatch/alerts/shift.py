"""Shift rules: the tool-call rate or the reasoning share of the last 7 days against the 7
days before, firing while the difference is beyond `sigmas` standard errors.

Both follow the metric definitions of SPEC §4 over ok requests. The tool-call rate is a
proportion: the pooled two-proportion z statistic, as the divergence job uses. The reasoning
share is a ratio of token sums (reasoning / output tokens of the requests that report
reasoning), whose standard error comes from the ratio estimator (delta method):
SE(R) = sqrt(Σ(yᵢ − R·xᵢ)² / (n(n−1))) / x̄, and the two windows' errors add in quadrature.
A side without spread (every request alike) has no standard error, so nothing is tested.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import duckdb

from gatewatch.alerts.conditions import Condition, subject
from gatewatch.alerts.rules import AlertRule

WINDOW = timedelta(days=7)

_SCOPE = {  # rule.per → (provider column, model column)
    "provider_model": ("coalesce(provider, 'unknown')", "coalesce(model, 'unknown')"),
    "provider": ("coalesce(provider, 'unknown')", "CAST(NULL AS VARCHAR)"),
    "model": ("CAST(NULL AS VARCHAR)", "coalesce(model, 'unknown')"),
    "all": ("CAST(NULL AS VARCHAR)", "CAST(NULL AS VARCHAR)"),
}

_MEASURES = {
    "tool_call_rate": (
        "status = 'ok'",
        "count(*) AS n, count(*) FILTER (WHERE finish_reason = 'tool_calls') AS x",
    ),
    "reasoning_share": (
        "status = 'ok' AND reasoning_tokens IS NOT NULL AND output_tokens IS NOT NULL",
        """count(*) AS n,
        sum(CAST(output_tokens AS DOUBLE)) AS sx,
        sum(CAST(reasoning_tokens AS DOUBLE)) AS sy,
        sum(CAST(output_tokens AS DOUBLE) * output_tokens) AS sxx,
        sum(CAST(reasoning_tokens AS DOUBLE) * reasoning_tokens) AS syy,
        sum(CAST(output_tokens AS DOUBLE) * reasoning_tokens) AS sxy""",
    ),
}


def shift_sql(rule: AlertRule) -> str:
    provider, model = _SCOPE[rule.per]
    where, measures = _MEASURES[rule.metric]
    return f"""
SELECT {provider} AS provider, {model} AS model, started_at >= $middle AS recent,
    {measures}
FROM requests
WHERE started_at >= $start AND started_at < $now AND {where}
GROUP BY ALL
ORDER BY ALL
"""


def conditions(con: duckdb.DuckDBPyConnection, rule: AlertRule, now: datetime) -> list[Condition]:
    cursor = con.execute(
        shift_sql(rule), {"start": now - 2 * WINDOW, "middle": now - WINDOW, "now": now}
    )
    names = [d[0] for d in cursor.description]
    sides: dict[tuple[str | None, str | None], dict[bool, dict[str, Any]]] = {}
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        sides.setdefault((record["provider"], record["model"]), {})[record["recent"]] = record
    estimate = _proportion if rule.metric == "tool_call_rate" else _ratio
    found = []
    for (provider, model), by_side in sides.items():
        before, after = by_side.get(False), by_side.get(True)
        if before is None or after is None:
            continue
        if min(before["n"], after["n"]) < rule.min_requests:
            continue
        (value_before, se_before), (value_after, se_after) = estimate(before), estimate(after)
        z = _z(rule, before, after, value_before, value_after, se_before, se_after)
        if z is None or abs(z) < rule.sigmas:
            continue
        what = subject(provider, model)
        details = {
            "subject": what,
            "provider": provider,
            "model": model,
            "metric": rule.metric,
            "previous_7_days": value_before,
            "last_7_days": value_after,
            "previous_requests": before["n"],
            "last_requests": after["n"],
            "standard_errors": z,
            "sigmas": rule.sigmas,
        }
        found.append(
            Condition(
                key=f"{provider or '*'}|{model or '*'}",
                active=True,
                fired_summary=_text(rule, details),
                details=details,
            )
        )
    return found


def _proportion(side: dict[str, Any]) -> tuple[float, float]:
    p = side["x"] / side["n"]
    return p, math.sqrt(p * (1 - p) / side["n"])


def _ratio(side: dict[str, Any]) -> tuple[float, float]:
    n, sx = side["n"], side["sx"]
    if not sx or n < 2:
        return math.nan, 0.0
    r = side["sy"] / sx
    residual = (side["syy"] - 2 * r * side["sxy"] + r * r * side["sxx"]) / (n - 1)
    return r, math.sqrt(max(residual, 0.0) / n) / (sx / n)


def _z(
    rule: AlertRule,
    before: dict[str, Any],
    after: dict[str, Any],
    value_before: float,
    value_after: float,
    se_before: float,
    se_after: float,
) -> float | None:
    if rule.metric == "tool_call_rate":
        pooled = (before["x"] + after["x"]) / (before["n"] + after["n"])
        se = math.sqrt(pooled * (1 - pooled) * (1 / before["n"] + 1 / after["n"]))
    else:
        se = math.hypot(se_before, se_after)
    if se == 0 or math.isnan(value_before) or math.isnan(value_after):
        return None
    return (value_after - value_before) / se


def _text(rule: AlertRule, details: dict[str, Any]) -> str:
    metric = rule.metric.replace("_", " ").replace("tool call", "tool-call")
    change = details["last_7_days"] - details["previous_7_days"]
    return (
        f"{details['subject']}: {metric} {details['last_7_days']:.1%} over the last 7 days "
        f"against {details['previous_7_days']:.1%} the 7 days before ({change * 100:+.1f} "
        f"points, {details['standard_errors']:+.1f} standard errors; "
        f"{details['previous_requests']} and {details['last_requests']} requests)"
    )
