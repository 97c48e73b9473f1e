"""Rules on the routing tables: a provider newly divergent from its peers
(`provider_divergence`), and a routing pool that changed (`routing_pools`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import duckdb

from gatewatch.alerts.conditions import Condition, Told, subject

# A provider is divergent while its current or last ISO week was found divergent: a week in
# progress may not have enough requests to be tested yet, and the last one still speaks.
DIVERGENT_SQL = """
SELECT model, provider, period_start, reason, requests, peer_providers
FROM provider_divergence
WHERE period_start >= $since AND divergent
QUALIFY row_number() OVER (PARTITION BY model, provider ORDER BY period_start DESC) = 1
ORDER BY model, provider
"""

POOLS_SQL = """
SELECT model,
    coalesce(list(provider ORDER BY rank) FILTER (WHERE included), []) AS pool,
    bool_or(pool_degraded) AS degraded,
    any_value(pool_reason) AS pool_reason
FROM routing_pools
GROUP BY model
ORDER BY model
"""


def divergent_conditions(con: duckdb.DuckDBPyConnection, now: datetime) -> list[Condition]:
    today = now.date()
    since = today - timedelta(days=today.weekday() + 7)  # Monday of last ISO week
    found = []
    for model, provider, week, reason, requests, peers in con.execute(
        DIVERGENT_SQL, {"since": since}
    ).fetchall():
        what = subject(provider, model)
        details = {
            "subject": what,
            "provider": provider,
            "model": model,
            "week": week.isoformat(),
            "reason": reason,
            "requests": requests,
            "peer_providers": peers,
        }
        found.append(
            Condition(
                key=f"{model}|{provider}",
                active=True,
                fired_summary=(
                    f"{provider} serves {model} unlike its {peers} peer provider(s), week of "
                    f"{week.isoformat()}: {reason}"
                ),
                details=details,
            )
        )
    return found


def pool_conditions(
    con: duckdb.DuckDBPyConnection, previous: Mapping[str, Told]
) -> list[Condition]:
    """Every model's pool now; a model told before and gone from `routing_pools` (no traffic
    in the routing window) has an empty pool."""
    found = {}
    for model, pool, degraded, pool_reason in con.execute(POOLS_SQL).fetchall():
        found[model] = _pool_condition(model, list(pool), bool(degraded), pool_reason)
    for model in previous:
        if model not in found:
            found[model] = _pool_condition(model, [], False, "no traffic in the routing window")
    return list(found.values())


def _pool_condition(
    model: str, pool: list[str], degraded: bool, pool_reason: str | None
) -> Condition:
    details = {
        "subject": model,
        "model": model,
        "pool": pool,
        "pool_degraded": degraded,
        "pool_reason": pool_reason,
        "fingerprint": ",".join(sorted(pool)),
    }
    return Condition(
        key=model,
        active=True,
        fired_summary=f"{model}: routing pool {_pool_text(pool)}",
        details=details,
        fingerprint=details["fingerprint"],
    )


def _pool_text(pool: list[str]) -> str:
    return ", ".join(pool) if pool else "(empty)"


def change_summary(before: Mapping[str, object], after: Condition) -> str:
    """How a pool changed: who joined, who left, the pool now."""
    old = set(before.get("pool") or [])  # type: ignore[arg-type]
    new = list(after.details["pool"])
    moves = [f"+{p}" for p in new if p not in old] + [f"−{p}" for p in sorted(old - set(new))]
    text = f"{after.details['model']}: routing pool changed ({' '.join(moves)}), now "
    text += _pool_text(new)
    if after.details["pool_degraded"] and after.details["pool_reason"]:
        text += f"; degraded: {after.details['pool_reason']}"
    return text
