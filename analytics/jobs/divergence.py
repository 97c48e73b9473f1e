"""`provider_divergence`: does a provider serve the same model differently from its peers?

Per ISO week, model and provider, the provider's behaviour is compared with the same model on
all its other providers pooled (the peers): tool-call rate and error rate by a two-proportion
z-test, the finish-reason mix by a chi-square test of the 2×K table. Every p-value of a week is
adjusted with Benjamini–Hochberg over all the week's tests (all models, providers and the three
tests), and a cell is `divergent` when one of its tests is both significant (q < alpha) and
large enough (Cohen's h or w at least the minimum effect). Definitions and thresholds:
`docs/schema.md` and `analytics.settings.AnalyticsSettings`.
"""

from __future__ import annotations

from datetime import timedelta

from analytics.jobs.runner import PeriodJob, touched_requests_sql
from analytics.jobs.significance import (
    bh_inputs_sql,
    bh_q_sql,
    chi2_sf_sql,
    cohens_h_sql,
    normal_two_sided_p_sql,
    two_proportion_z_sql,
)
from analytics.jobs.stats import WEEK_PERIOD_SQL
from warehouse.analytics_migrations import PROVIDER_DIVERGENCE_COLUMNS

# Finish reasons of ok answers compared between a provider and its peers; any other value
# (including NULL) counts as `other`.
FINISH_CATEGORIES = ("stop", "length", "tool_calls", "content_filter", "other")
_NAMED_FINISH = FINISH_CATEGORIES[:-1]

# Chi-square needs expected counts of about 5 or more (Cochran's rule): categories below that
# in either row are pooled into one `rare` bucket, which is dropped if still too small.
MIN_EXPECTED_COUNT = 5

_CELL_KEYS = "period_start, model, provider"
_PEER_WINDOW = "PARTITION BY period_start, model"


def _finish_count_sql(category: str) -> str:
    if category == "other":
        named = ", ".join(f"'{c}'" for c in _NAMED_FINISH)
        match = f"(finish_reason IS NULL OR finish_reason NOT IN ({named}))"
    else:
        match = f"finish_reason = '{category}'"
    return f"count(*) FILTER (WHERE status = 'ok' AND {match}) AS n_{category}"


# Counts that are pooled over the other providers of the model as `peer_<name>`.
_POOLED = (
    "requests",
    "error_requests",
    "ok_requests",
    *(f"n_{c}" for c in FINISH_CATEGORIES),
    "output_tokens",
    "output_token_requests",
    "reasoning_tokens",
    "reasoning_output_tokens",
)


def _rate(numerator: str, denominator: str) -> str:
    return f"CAST({numerator} AS DOUBLE) / NULLIF({denominator}, 0)"


def _side_metrics_sql(prefix: str) -> str:
    """The compared metrics of one side: the cell (`prefix` '') or its peers ('peer_')."""
    p = prefix
    shares = ",\n        ".join(
        f"{_rate(f'{p}n_{c}', f'{p}ok_requests')} AS {p}share_{c}" for c in FINISH_CATEGORIES
    )
    return f"""
        {_rate(f"{p}n_tool_calls", f"{p}ok_requests")} AS {p}tool_call_rate,
        {_rate(f"{p}error_requests", f"{p}requests")} AS {p}error_rate,
        {_rate(f"{p}reasoning_tokens", f"{p}reasoning_output_tokens")} AS {p}reasoning_share,
        {_rate(f"{p}output_tokens", f"{p}output_token_requests")} AS {p}mean_output_tokens,
        {shares}"""


def _proportion_test_sql(name: str, x1: str, n1: str, x2: str, n2: str) -> str:
    z = two_proportion_z_sql(f"CAST({x1} AS DOUBLE)", n1, f"CAST({x2} AS DOUBLE)", n2)
    # A pooled rate of 0 or 1 (z NULL) means both sides agree exactly: p = 1.
    p = f"coalesce(least(1.0, {normal_two_sided_p_sql(z)}), 1.0)"
    return f"""
        {name} - peer_{name} AS {name}_diff,
        {cohens_h_sql(name, f"peer_{name}")} AS {name}_h,
        {p} AS {name}_p"""


def _chi2_p_sql() -> str:
    p = chi2_sf_sql("chi2", "df", len(FINISH_CATEGORIES) - 1)
    return f"least(1.0, {p})"


def _percent(x: str) -> str:
    return f"printf('%.1f%%', 100 * {x})"


def _q_text(q: str) -> str:
    return f"CASE WHEN {q} < 0.001 THEN 'q<0.001' ELSE printf('q=%.3f', {q}) END"


def _rate_reason_sql(name: str, label: str) -> str:
    return (
        f"'{label} ' || {_percent(name)} || ' vs ' || {_percent(f'peer_{name}')}"
        f" || ' on peers (h=' || printf('%.2f', {name}_h) || ', ' || {_q_text(f'{name}_q')}"
        " || ')'"
    )


_MIX_REASON_SQL = (
    "'finish-reason mix differs from peers (w=' || printf('%.2f', finish_mix_w) || ', '"
    f" || {_q_text('finish_mix_q')} || ')'"
)

_TESTS = ("tool_call_rate", "error_rate", "finish_mix")


def _pair_mix_w_sql(a: str, b: str) -> str:
    """Cohen's w of the 2×K finish-reason table of two providers, from their shares:
    w² = χ²/N = f_a·f_b·Σ_k (s_ak − s_bk)² / P_k, with f the two sides' fractions of N and
    P_k the pooled share of category k (categories neither side has are skipped)."""
    n, m = f"{a}.ok_requests", f"{b}.ok_requests"
    terms = " + ".join(
        f"coalesce(pow({a}.share_{c} - {b}.share_{c}, 2)"
        f" / NULLIF(({a}.n_{c} + {b}.n_{c}) / ({n} + {m}), 0), 0)"
        for c in FINISH_CATEGORIES
    )
    return f"sqrt(({n} * {m}) / pow({n} + {m}, 2) * ({terms}))"


def majority(apart: str) -> str:
    """More than half of the comparable peers (own traffic above the minimum) are at least
    the minimum effect apart in the same direction; with none comparable, the pooled test
    alone decides."""
    return f"(comparable_peers = 0 OR 2 * {apart} > comparable_peers)"


def _insert_sql() -> str:
    counts = ",\n        ".join(_finish_count_sql(c) for c in FINISH_CATEGORIES)
    peers = ",\n        ".join(f"sum({c}) OVER peers - {c} AS peer_{c}" for c in _POOLED)
    category_list = ", ".join(f"'{c}'" for c in FINISH_CATEGORIES)
    cell_counts = ", ".join(f"n_{c}" for c in FINISH_CATEGORIES)
    peer_counts = ", ".join(f"peer_n_{c}" for c in FINISH_CATEGORIES)
    expected = "(c + p) * least(n, m) / (n + m)"
    # Expected counts of the kept 2×K table, recomputed from its own margins.
    e_cell = "((c + p) * kept_n / NULLIF(kept_n + kept_m, 0))"
    e_peer = "((c + p) * kept_m / NULLIF(kept_n + kept_m, 0))"
    tests = "\n        UNION ALL ".join(
        f"SELECT {_CELL_KEYS}, '{t}' AS test, {t}_p AS p FROM measured" for t in _TESTS
    )
    pair_tool_h = cohens_h_sql("cell.tool_call_rate", "other.tool_call_rate")
    pair_error_h = cohens_h_sql("cell.error_rate", "other.error_rate")
    pair_mix_w = _pair_mix_w_sql("cell", "other")
    stored = ", ".join(
        name for name, _ in PROVIDER_DIVERGENCE_COLUMNS if name not in ("divergent", "reason")
    )
    q_columns = ",\n        ".join(f"max(q) FILTER (WHERE test = '{t}') AS {t}_q" for t in _TESTS)
    return f"""
INSERT INTO provider_divergence BY NAME
WITH cells AS (
    SELECT period_start,
        coalesce(model, 'unknown') AS model,
        coalesce(provider, 'unknown') AS provider,
        count(*) AS requests,
        count(*) FILTER (WHERE status = 'error') AS error_requests,
        count(*) FILTER (WHERE status = 'ok') AS ok_requests,
        {counts},
        coalesce(sum(output_tokens) FILTER (WHERE status = 'ok'), 0) AS output_tokens,
        count(output_tokens) FILTER (WHERE status = 'ok') AS output_token_requests,
        coalesce(sum(reasoning_tokens)
            FILTER (WHERE status = 'ok' AND reasoning_tokens IS NOT NULL), 0) AS reasoning_tokens,
        coalesce(sum(output_tokens)
            FILTER (WHERE status = 'ok' AND reasoning_tokens IS NOT NULL), 0)
            AS reasoning_output_tokens
    FROM ({touched_requests_sql(WEEK_PERIOD_SQL)}) AS touched
    GROUP BY ALL
),
pooled AS (
    SELECT *,
        CAST(count(*) OVER peers - 1 AS INTEGER) AS peer_providers,
        {peers}
    FROM cells
    WINDOW peers AS ({_PEER_WINDOW})
),
own AS (
    SELECT *, {_side_metrics_sql("")}
    FROM pooled
    WHERE ok_requests >= $divergence_min_ok_requests
),
tested AS (
    SELECT * FROM own WHERE peer_ok_requests >= $divergence_min_ok_requests
),
mix_long AS (
    SELECT {_CELL_KEYS}, ok_requests AS n, peer_ok_requests AS m,
        unnest([{category_list}]) AS category,
        unnest([{cell_counts}]) AS c,
        unnest([{peer_counts}]) AS p
    FROM tested
),
mix_buckets AS (
    SELECT {_CELL_KEYS}, n, m,
        CASE WHEN {expected} >= {MIN_EXPECTED_COUNT} THEN category ELSE 'rare' END AS bucket,
        sum(c) AS c, sum(p) AS p
    FROM mix_long
    GROUP BY ALL
),
mix_kept AS (
    SELECT *,
        sum(c) OVER cell AS kept_n,
        sum(p) OVER cell AS kept_m
    FROM mix_buckets
    WHERE {expected} >= {MIN_EXPECTED_COUNT}
    WINDOW cell AS (PARTITION BY {_CELL_KEYS})
),
mix AS (
    SELECT {_CELL_KEYS},
        -- in bucket order: a sum of doubles depends on the order of its terms
        sum(pow(c - {e_cell}, 2) / {e_cell} + pow(p - {e_peer}, 2) / {e_peer} ORDER BY bucket)
            AS chi2,
        CAST(count(*) - 1 AS INTEGER) AS df,
        any_value(kept_n + kept_m) AS total
    FROM mix_kept
    GROUP BY ALL
),
sides AS (
    SELECT *, {_side_metrics_sql("peer_")}
    FROM tested
),
measured AS (
    SELECT sides.*,
        {
        _proportion_test_sql(
            "tool_call_rate", "n_tool_calls", "ok_requests", "peer_n_tool_calls", "peer_ok_requests"
        )
    },
        {
        _proportion_test_sql(
            "error_rate", "error_requests", "requests", "peer_error_requests", "peer_requests"
        )
    },
        CASE WHEN mix.df >= 1 THEN mix.chi2 END AS finish_mix_chi2,
        CASE WHEN mix.df >= 1 THEN mix.df END AS finish_mix_df,
        CASE WHEN mix.df >= 1 THEN sqrt(mix.chi2 / mix.total) END AS finish_mix_w,
        CASE WHEN mix.df >= 1 THEN {_chi2_p_sql()} END AS finish_mix_p
    FROM sides LEFT JOIN mix USING ({_CELL_KEYS})
),
tests AS (
    {tests}
),
ranked AS (
    SELECT *, {bh_inputs_sql("p", "period_start")} FROM tests
),
adjusted AS (
    SELECT {_CELL_KEYS},
        {q_columns}
    FROM (SELECT *, {bh_q_sql("p", "period_start")} AS q FROM ranked)
    GROUP BY ALL
),
pairs AS (
    SELECT {", ".join(f"cell.{k}" for k in _CELL_KEYS.split(", "))},
        CAST(count(*) AS INTEGER) AS comparable_peers,
        CAST(count(*) FILTER (WHERE abs({pair_tool_h}) >= $divergence_min_effect_h
            AND sign({pair_tool_h}) = sign(cell.tool_call_rate_h)) AS INTEGER)
            AS tool_call_rate_apart,
        CAST(count(*) FILTER (WHERE {pair_error_h} >= $divergence_min_effect_h) AS INTEGER)
            AS error_rate_apart,
        CAST(count(*) FILTER (WHERE {pair_mix_w} >= $divergence_min_effect_w) AS INTEGER)
            AS finish_mix_apart
    FROM measured AS cell
    JOIN own AS other
      ON other.period_start = cell.period_start AND other.model = cell.model
     AND other.provider <> cell.provider
    GROUP BY ALL
),
flagged AS (
    SELECT measured.*, adjusted.* EXCLUDE ({_CELL_KEYS}),
        coalesce(pairs.comparable_peers, 0) AS comparable_peers,
        coalesce(pairs.tool_call_rate_apart, 0) AS tool_call_rate_apart,
        coalesce(pairs.error_rate_apart, 0) AS error_rate_apart,
        coalesce(pairs.finish_mix_apart, 0) AS finish_mix_apart
    FROM measured
    JOIN adjusted USING ({_CELL_KEYS})
    LEFT JOIN pairs USING ({_CELL_KEYS})
),
decided AS (
    SELECT *,
        coalesce(tool_call_rate_q < $divergence_alpha
            AND abs(tool_call_rate_h) >= $divergence_min_effect_h
            AND {majority("tool_call_rate_apart")}, false) AS tool_call_divergent,
        -- Only failing more than the peers is a divergence to route around.
        coalesce(error_rate_q < $divergence_alpha
            AND error_rate_h >= $divergence_min_effect_h
            AND {majority("error_rate_apart")}, false) AS error_divergent,
        coalesce(finish_mix_q < $divergence_alpha
            AND finish_mix_w >= $divergence_min_effect_w
            AND {majority("finish_mix_apart")}, false) AS mix_divergent
    FROM flagged
)
SELECT {stored},
    tool_call_divergent OR error_divergent OR mix_divergent AS divergent,
    coalesce(nullif(concat_ws('; ',
        CASE WHEN tool_call_divergent THEN {_rate_reason_sql("tool_call_rate", "tool-call rate")}
        END,
        CASE WHEN error_divergent THEN {_rate_reason_sql("error_rate", "error rate")} END,
        CASE WHEN mix_divergent THEN {_MIX_REASON_SQL} END), ''),
        'consistent with peers') AS reason
FROM decided
"""


DIVERGENCE_INSERT_SQL = _insert_sql()

DIVERGENCE_JOB = PeriodJob(
    name="provider_divergence",
    table="provider_divergence",
    period_sql=WEEK_PERIOD_SQL,
    period_span=timedelta(days=7),
    insert_sql=DIVERGENCE_INSERT_SQL,
    settings=(
        "divergence_min_ok_requests",
        "divergence_alpha",
        "divergence_min_effect_h",
        "divergence_min_effect_w",
    ),
)
