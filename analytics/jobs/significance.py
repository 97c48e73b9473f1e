"""Significance tests written as DuckDB SQL expressions.

DuckDB has no normal or chi-square distribution functions, and the jobs are single SQL
statements run by `analytics.jobs.runner`, so the survival functions are built here from
closed forms instead of pulling in scipy (a large dependency for two functions, and a Python
round trip out of the job's SQL):

- the complementary error function by the Chebyshev fit of Numerical Recipes (Press et al.,
  *Numerical Recipes in C*, 2nd ed., §6.2, `erfcc`), fractional error below 1.2e-7 everywhere,
  which is ample for comparing p-values with a significance level;
- the chi-square survival function for integer degrees of freedom by its finite series
  (Abramowitz & Stegun 26.4.4 and 26.4.5): `exp(-x/2) Σ (x/2)^j / j!` for even df, and
  `erfc(√(x/2)) + √(2x/π) exp(-x/2) Σ x^(j-1) / (1·3·…·(2j-1))` for odd df.

Expressions take SQL operand expressions as strings and repeat them, so pass column names.
"""

from __future__ import annotations

import math

# Numerical Recipes `erfcc` coefficients, innermost last.
_ERFC_COEFFICIENTS = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


def erfc_sql(x: str) -> str:
    """erfc(x) for x ≥ 0 (callers pass an absolute value or a square root)."""
    t = f"(1.0 / (1.0 + 0.5 * ({x})))"
    poly = f"{_ERFC_COEFFICIENTS[-1]}"
    for c in reversed(_ERFC_COEFFICIENTS[:-1]):
        poly = f"{c} + {t} * ({poly})"
    return f"({t} * exp(-({x}) * ({x}) + {poly}))"


def normal_two_sided_p_sql(z: str) -> str:
    """Two-sided p-value of a standard normal statistic: P(|Z| ≥ |z|) = erfc(|z|/√2)."""
    return erfc_sql(f"abs({z}) / sqrt(2.0)")


def _chi2_sf_fixed_df_sql(x: str, df: int) -> str:
    half = f"(({x}) / 2.0)"
    if df % 2 == 0:
        terms = " + ".join(f"pow({half}, {j}) / {math.factorial(j)}" for j in range(df // 2))
        return f"(exp(-{half}) * ({terms}))"
    base = erfc_sql(f"sqrt({half})")
    if df == 1:
        return base
    terms = " + ".join(
        f"pow({x}, {j - 1}) / {math.prod(range(1, 2 * j, 2))}" for j in range(1, (df - 1) // 2 + 1)
    )
    return f"({base} + sqrt(2.0 * ({x}) / pi()) * exp(-{half}) * ({terms}))"


def chi2_sf_sql(x: str, df: str, max_df: int) -> str:
    """P(χ²_df ≥ x) for an integer `df` column in 1..max_df (NULL outside)."""
    arms = " ".join(f"WHEN {k} THEN {_chi2_sf_fixed_df_sql(x, k)}" for k in range(1, max_df + 1))
    return f"(CASE {df} {arms} END)"


def cohens_h_sql(p1: str, p2: str) -> str:
    """Cohen's h effect size of two proportions: 2·asin(√p1) − 2·asin(√p2)."""
    return f"(2.0 * asin(sqrt({p1})) - 2.0 * asin(sqrt({p2})))"


def two_proportion_z_sql(x1: str, n1: str, x2: str, n2: str) -> str:
    """Pooled two-proportion z statistic; NULL when the pooled rate is 0 or 1 (no spread,
    so nothing to test)."""
    pooled = f"(({x1} + {x2}) / ({n1} + {n2}))"
    se = f"sqrt({pooled} * (1.0 - {pooled}) * (1.0 / {n1} + 1.0 / {n2}))"
    return f"(({x1} / {n1} - {x2} / {n2}) / NULLIF({se}, 0.0))"


def bh_inputs_sql(p: str, family: str) -> str:
    """`bh_rank` (ascending rank of `p`, NULLs last) and `bh_m` (non-NULL p-values in the
    family): the columns `bh_q_sql` reads, to select one query level below it."""
    return (
        f"row_number() OVER (PARTITION BY {family} ORDER BY {p} NULLS LAST) AS bh_rank, "
        f"count({p}) OVER (PARTITION BY {family}) AS bh_m"
    )


def bh_q_sql(p: str, family: str) -> str:
    """Benjamini–Hochberg adjusted p-value (q-value) of `p` within `family`.

    q_(i) = min over j ≥ i of m·p_(j)/j, capped at 1, with p sorted ascending (rank j) and m
    the number of non-NULL p-values in the family (`bh_inputs_sql`). Tied p-values get the
    same q whatever order the ranking gave them, because the running minimum runs from the
    largest rank down. NULL p (no test) gives NULL q and does not count in m."""
    # `least` skips NULLs, so the NULL case is spelled out.
    return (
        f"CASE WHEN {p} IS NOT NULL THEN least(1.0, min(bh_m * {p} / bh_rank) "
        f"OVER (PARTITION BY {family} ORDER BY bh_rank DESC "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) END"
    )
