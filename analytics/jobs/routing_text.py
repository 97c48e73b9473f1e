"""The SQL of `routing_pools`' explanations: why a provider is in or out (`reason`) and why a
pool is flagged (`pool_reason`), plus the Wilson bound the uptime floor is judged on.

The expressions read the working columns of `analytics.jobs.routing.ROUTING_POOLS_INSERT_SQL`
(`uptime_upper`, `below_uptime_floor`, `waived`, the pool counts, ...)."""

from __future__ import annotations


def _pct(x: str) -> str:
    return f"printf('%.2f%%', 100 * {x})"


# Upper end of the 95% Wilson score interval of uptime over n = ok + provider errors: a
# provider is below the floor only when even that is below it, so a few unlucky failures in
# a small sample (99.5% uptime measured as 98.5% over 300 requests) do not flap the pool.
_Z = 1.959964
_Z2 = _Z**2


def uptime_upper_sql(n: str) -> str:
    return f"""(
        uptime + {_Z2} / (2 * {n})
        + {_Z} * sqrt(uptime * (1 - uptime) / {n} + {_Z2} / (4 * {n} * {n}))
    ) / (1 + {_Z2} / {n}
    )"""


_UPTIME_FLOOR_SQL = (
    f"'uptime ' || {_pct('uptime')} || ' < ' || {_pct('$routing_min_uptime')}"
    f" || ' (95% upper bound ' || {_pct('uptime_upper')} || ')'"
)

_VALIDITY_FLOOR_SQL = (
    f"'tool-call validity ' || {_pct('tool_call_validity')} || ' < '"
    f" || {_pct('$routing_min_tool_validity')}"
)

_BEHIND_SQL = (
    f"'uptime ' || {_pct('uptime')} || ' clearly below best peer ' || best_peer || ' at '"
    f" || {_pct('best_peer_uptime')} || printf(' (h=%.2f, ', uptime_vs_best_h)"
    " || CASE WHEN uptime_vs_best_q < 0.001 THEN 'q<0.001'"
    " ELSE printf('q=%.3f', uptime_vs_best_q) END || ')'"
)

# Empty exactly when the provider is in. Below a floor the floor is named (it already keeps
# the provider out); in a pool whose floors are waived, the relative shortfall is.
EXCLUSIONS_SQL = f"""concat_ws('; ',
        CASE WHEN requests < $routing_min_requests
            THEN printf('too little traffic: %d requests < %d', requests, $routing_min_requests)
        END,
        CASE WHEN uptime IS NULL THEN 'no uptime data (no ok request nor provider error)'
             WHEN below_uptime_floor AND NOT waived THEN {_UPTIME_FLOOR_SQL}
             WHEN behind_peers THEN {_BEHIND_SQL}
        END,
        CASE WHEN divergent THEN printf('divergent in %d of %d weeks: ', divergent_weeks,
            tested_weeks) || last_divergent_reason END,
        CASE WHEN below_validity_floor AND NOT waived THEN {_VALIDITY_FLOOR_SQL} END)"""

RANK_REASON_SQL = f"""printf('rank %d: uptime ', rank) || {_pct("uptime")} || CASE
        WHEN p50_ttft_ms IS NOT NULL THEN printf(', p50 TTFT %.0f ms', p50_ttft_ms)
        WHEN p50_latency_ms IS NOT NULL
        THEN printf(', p50 latency %.0f ms (no TTFT reported)', p50_latency_ms)
        ELSE ', no latency reported' END || CASE
        WHEN waived AND (misses_uptime_floor OR below_validity_floor)
        THEN '; kept below the floor: ' || concat_ws('; ',
            CASE WHEN misses_uptime_floor
                THEN 'uptime ' || {_pct("uptime")} || ' < ' || {_pct("$routing_min_uptime")} END,
            CASE WHEN below_validity_floor THEN {_VALIDITY_FLOOR_SQL} END)
        ELSE '' END"""


def _count_sql(count: str, text: str) -> str:
    return f"CASE WHEN {count} > 0 THEN printf('%d {text}', {count}) END"


def _floor_count_sql(count: str, floor: str, name: str) -> str:
    return (
        f"CASE WHEN {count} > 0 THEN printf('%d below the ', {count})"
        f" || {_pct(floor)} || ' {name} floor' END"
    )


# NULL for a healthy pool.
POOL_REASON_SQL = f"""CASE
        WHEN candidates = 0 THEN 'no provider to route to: ' || concat_ws(', ',
            {_count_sql("thin_providers", "with too little traffic")},
            {_count_sql("unmeasured_providers", "without uptime data")},
            {_count_sql("divergent_providers", "divergent")})
        WHEN waived THEN 'no provider meets every floor (' || concat_ws(', ',
            {_floor_count_sql("below_uptime_providers", "$routing_min_uptime", "uptime")},
            {
    _floor_count_sql("below_validity_providers", "$routing_min_tool_validity", "tool-call validity")
}) || printf('); kept the best %d by relative uptime', candidates)
        END"""
