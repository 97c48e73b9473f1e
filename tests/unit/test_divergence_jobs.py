"""`provider_divergence` on tiny hand-made traffic with exact answers, and the SQL statistics
(normal and chi-square survival functions, Benjamini–Hochberg) against reference values."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from analytics.jobs import run_jobs
from analytics.jobs.significance import (
    bh_inputs_sql,
    bh_q_sql,
    chi2_sf_sql,
    normal_two_sided_p_sql,
)
from analytics.settings import AnalyticsSettings
from tests.unit.test_stats_jobs import INGESTED_LATER, err, insert, only, req, rows
from warehouse.db import Warehouse

SETTINGS = AnalyticsSettings(divergence_min_ok_requests=50)
MONDAY = "2025-03-03"
WEDNESDAY = "2025-03-05T12:00:00+00:00"
NEXT_WEDNESDAY = "2025-03-12T12:00:00+00:00"
MODEL = "qwen/qwen3-coder"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    wh = Warehouse.open(":memory:")
    yield wh.connection
    wh.close()


def scalar(con: duckdb.DuckDBPyConnection, expression: str) -> float:
    return con.execute(f"SELECT {expression}").fetchone()[0]


@pytest.mark.parametrize("z", [0.0, 0.5, 1.0, 1.959964, 3.0, 5.0, 8.0])
def test_normal_p_value_matches_erfc(con: duckdb.DuckDBPyConnection, z: float) -> None:
    expected = math.erfc(z / math.sqrt(2))
    assert scalar(con, normal_two_sided_p_sql(str(z))) == pytest.approx(expected, rel=2e-7)


# Textbook 95 % critical values of the chi-square distribution (df 1–4) give p = 0.05; the
# last two rows are scipy.stats.chi2.sf(20, 4) = 4.99399227e-4, chi2.sf(0.5, 3) = 0.91889141.
@pytest.mark.parametrize(
    ("x", "df", "p"),
    [
        (3.841459, 1, 0.05),
        (5.991465, 2, 0.05),
        (7.814728, 3, 0.05),
        (9.487729, 4, 0.05),
        (20.0, 4, 4.99399227e-4),
        (0.5, 3, 0.91889141),
    ],
)
def test_chi_square_survival(con: duckdb.DuckDBPyConnection, x: float, df: int, p: float) -> None:
    assert scalar(con, chi2_sf_sql(str(x), str(df), 4)) == pytest.approx(p, rel=1e-6)


def test_benjamini_hochberg_on_a_known_vector(con: duckdb.DuckDBPyConnection) -> None:
    # Sorted 0.005 0.01 0.03 0.04 0.04 0.9 (m = 6): m·p/j = 0.03 0.03 0.06 0.06 0.048 0.9,
    # running minimum from the top = 0.03 0.03 0.048 0.048 0.048 0.9 (as R's
    # p.adjust(..., "BH")); a NULL p is no test (NULL q, not counted in m).
    p = [0.01, 0.04, 0.03, 0.005, 0.04, 0.9, None]
    con.execute("CREATE TEMP TABLE ps (i INTEGER, fam INTEGER, p DOUBLE)")
    con.executemany("INSERT INTO ps VALUES (?, 1, ?)", list(enumerate(p)))
    got = con.execute(
        f"SELECT {bh_q_sql('p', 'fam')} AS q FROM "
        f"(SELECT *, {bh_inputs_sql('p', 'fam')} FROM ps) ORDER BY i"
    ).fetchall()
    assert [r[0] for r in got[:-1]] == pytest.approx([0.03, 0.048, 0.048, 0.03, 0.048, 0.9])
    assert got[-1][0] is None


def traffic(
    provider: str, ok: int, tool_calls: int, *, errors: int = 0, at: str = WEDNESDAY, **extra: Any
) -> list[dict[str, Any]]:
    answers = [
        req(at, provider=provider, model=MODEL, output_tokens=100, **extra)
        for _ in range(ok - tool_calls)
    ]
    answers += [
        req(at, provider=provider, model=MODEL, finish_reason="tool_calls", output_tokens=50)
        for _ in range(tool_calls)
    ]
    answers += [err(at, "server_error", provider=provider, model=MODEL) for _ in range(errors)]
    return answers


def planted(con: duckdb.DuckDBPyConnection) -> None:
    """One provider calls tools a third as often as its two peers."""
    insert(
        con,
        traffic("deepinfra", 100, 10)
        + traffic("together", 100, 30)
        + traffic("fireworks", 100, 30),
    )


def divergence(con: duckdb.DuckDBPyConnection, provider: str) -> dict[str, Any]:
    return only(con, "SELECT * FROM provider_divergence WHERE provider = ?", [provider])


def test_divergent_provider_exact_statistics(con: duckdb.DuckDBPyConnection) -> None:
    planted(con)
    run_jobs(con, settings=SETTINGS)
    row = divergence(con, "deepinfra")
    # deepinfra 10/100 against peers 60/200: pooled 70/300.
    pooled = 70 / 300
    z = (0.1 - 0.3) / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 200))
    p = math.erfc(abs(z) / math.sqrt(2))
    assert str(row["period_start"]) == MONDAY
    assert (row["peer_providers"], row["comparable_peers"]) == (2, 2)
    assert (row["requests"], row["ok_requests"], row["peer_ok_requests"]) == (100, 100, 200)
    assert (row["tool_call_rate"], row["peer_tool_call_rate"]) == pytest.approx((0.1, 0.3))
    assert row["tool_call_rate_diff"] == pytest.approx(-0.2)
    h = 2 * math.asin(math.sqrt(0.1)) - 2 * math.asin(math.sqrt(0.3))
    assert row["tool_call_rate_h"] == pytest.approx(h)
    assert row["tool_call_rate_p"] == pytest.approx(p, rel=2e-7)
    # Only stop and tool_calls occur: a 2×2 table whose chi-square is z² (df 1, same p).
    assert row["finish_mix_df"] == 1
    assert row["finish_mix_chi2"] == pytest.approx(z * z)
    assert row["finish_mix_p"] == pytest.approx(p, rel=2e-7)
    assert row["finish_mix_w"] == pytest.approx(math.sqrt(z * z / 300))
    # No errors anywhere: nothing to tell apart, p = 1.
    assert (row["error_rate"], row["error_rate_h"], row["error_rate_p"]) == (0.0, 0.0, 1.0)
    # The week's family: 9 tests; deepinfra's two equal p-values rank 1 and 2 → q = 9p/2.
    assert row["tool_call_rate_q"] == pytest.approx(4.5 * p, rel=2e-7)
    assert row["finish_mix_q"] == pytest.approx(4.5 * p, rel=2e-7)
    assert (row["share_stop"], row["share_tool_calls"], row["share_length"]) == (0.9, 0.1, 0.0)
    assert row["peer_share_stop"] == pytest.approx(0.7)
    assert row["mean_output_tokens"] == pytest.approx((90 * 100 + 10 * 50) / 100)
    assert row["reasoning_share"] is None
    assert row["divergent"] is True
    assert row["reason"] == (
        "tool-call rate 10.0% vs 30.0% on peers (h=-0.52, q<0.001); "
        "finish-reason mix differs from peers (w=0.22, q<0.001)"
    )


def test_peers_of_an_outlier_are_not_divergent(con: duckdb.DuckDBPyConnection) -> None:
    planted(con)
    run_jobs(con, settings=SETTINGS)
    row = divergence(con, "together")
    # together 30/100 against 40/200: z = 0.1 / same standard error, q = 9p/6 (ranks 3–6).
    pooled = 70 / 300
    z = 0.1 / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 200))
    p = math.erfc(z / math.sqrt(2))
    assert row["tool_call_rate_p"] == pytest.approx(p, rel=2e-7)
    assert row["tool_call_rate_q"] == pytest.approx(1.5 * p, rel=2e-7)
    # Only one of the two comparable peers (deepinfra) is apart: no majority.
    assert (row["tool_call_rate_apart"], row["finish_mix_apart"]) == (1, 1)
    assert row["divergent"] is False
    assert row["reason"] == "consistent with peers"


def test_majority_rule_keeps_peers_of_an_outlier_in_even_when_significant(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # Ten times the traffic: together vs pooled peers is now significant (h = 0.23) but it
    # only differs from deepinfra, not from fireworks.
    insert(
        con,
        traffic("deepinfra", 1000, 100)
        + traffic("together", 1000, 300)
        + traffic("fireworks", 1000, 300),
    )
    run_jobs(con, settings=SETTINGS)
    together = divergence(con, "together")
    assert together["tool_call_rate_q"] < SETTINGS.divergence_alpha
    assert abs(together["tool_call_rate_h"]) >= SETTINGS.divergence_min_effect_h
    assert together["divergent"] is False
    assert divergence(con, "deepinfra")["divergent"] is True


def test_error_rate_counts_only_when_higher_than_peers(con: duckdb.DuckDBPyConnection) -> None:
    insert(
        con,
        traffic("deepinfra", 100, 20, errors=25)
        + traffic("together", 100, 20, errors=1)
        + traffic("fireworks", 100, 20, errors=1),
    )
    run_jobs(con, settings=SETTINGS)
    failing = divergence(con, "deepinfra")
    assert failing["error_rate"] == pytest.approx(0.2)
    assert failing["peer_error_rate"] == pytest.approx(2 / 202)
    assert failing["divergent"] is True
    assert failing["reason"].startswith("error rate 20.0% vs 1.0% on peers (h=0.73, q<0.001)")
    # The peers fail less than their own peers: a significant difference, not a divergence.
    healthy = divergence(con, "together")
    assert healthy["error_rate_h"] < 0 and healthy["error_rate_q"] < 0.01
    assert healthy["divergent"] is False


def test_cells_without_enough_traffic_or_peers_are_not_tested(
    con: duckdb.DuckDBPyConnection,
) -> None:
    insert(
        con,
        traffic("deepinfra", 100, 10)
        + traffic("together", 49, 10)  # below the minimum: no row, but pooled into peers
        + [req(WEDNESDAY, provider="openai", model="openai/gpt-5") for _ in range(100)],
    )
    run_jobs(con, settings=SETTINGS)
    assert rows(con, "SELECT provider FROM provider_divergence") == []
    # Peers now have 50 ok requests, none of them a comparable peer on its own.
    insert(con, traffic("fireworks", 1, 0, ingested_at=INGESTED_LATER))
    run_jobs(con, settings=SETTINGS)
    (row,) = rows(con, "SELECT * FROM provider_divergence")
    assert (row["provider"], row["peer_ok_requests"], row["comparable_peers"]) == (
        "deepinfra",
        50,
        0,
    )


def test_incremental_equals_full_and_rerun_changes_nothing(
    con: duckdb.DuckDBPyConnection,
) -> None:
    planted(con)
    run_jobs(con, settings=SETTINGS)
    late = traffic("deepinfra", 60, 30, at=NEXT_WEDNESDAY, ingested_at=INGESTED_LATER)
    late += traffic("together", 60, 6, at=NEXT_WEDNESDAY, ingested_at=INGESTED_LATER)
    late += traffic("fireworks", 60, 6, at=NEXT_WEDNESDAY, ingested_at=INGESTED_LATER)
    insert(con, late)
    result = run_jobs(con, settings=SETTINGS)
    assert [str(p) for p in result.job("provider_divergence").periods] == ["2025-03-10"]
    incremental = rows(con, "SELECT * FROM provider_divergence ORDER BY ALL")
    assert run_jobs(con, settings=SETTINGS).job("provider_divergence").periods == ()
    assert rows(con, "SELECT * FROM provider_divergence ORDER BY ALL") == incremental
    run_jobs(con, full=True, settings=SETTINGS)
    assert rows(con, "SELECT * FROM provider_divergence ORDER BY ALL") == incremental
    assert len(incremental) == 6
