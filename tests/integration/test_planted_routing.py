"""Divergence and routing pools on generated traffic, against the planted truths, over
several seeds: the planted divergent provider is flagged and left out of its model's pool,
its peers stay in, and providers without a planted difference are (almost) never flagged.

Rule for "flagged in most weeks": six ISO weeks of 1500 requests a day give the divergent
provider 250–350 ok answers a week, all above the testing minimum. The planted factor halves
its tool-call rate, so the effect grows with the planted rising trend: it must be flagged in
at least 4 of the 6 weeks, and in every week where its peers call tools at 35 % or more
(Cohen's h ≥ 0.3 there).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analytics.settings import AnalyticsSettings
from sample_data.generator import outage_day_index
from sample_data.truths import TRUTHS
from tests.integration.planted_warehouse import END, planted_warehouse

SEEDS = (1, 2, 3, 4)
DAYS = 42
PER_DAY = 1500
ALPHA = AnalyticsSettings().divergence_alpha


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    paths = {}
    for seed in SEEDS:
        path = tmp_path_factory.mktemp(f"seed{seed}") / "planted.duckdb"
        planted_warehouse(path, days=DAYS, seed=seed, per_day=PER_DAY)
        paths[seed] = path
    return paths


def query(path: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def outage_week() -> dt.date:
    start = END - dt.timedelta(days=DAYS - 1)
    day = start + dt.timedelta(days=outage_day_index(TRUTHS, DAYS))
    return day - dt.timedelta(days=day.weekday())


@pytest.mark.parametrize("seed", SEEDS)
def test_divergent_provider_is_flagged_in_most_weeks(
    warehouses: dict[int, Path], seed: int
) -> None:
    weeks = query(
        warehouses[seed],
        f"""SELECT period_start, divergent, peer_tool_call_rate, tool_call_rate_h
        FROM provider_divergence
        WHERE model = '{TRUTHS.divergent_model}' AND provider = '{TRUTHS.divergent_provider}'
        ORDER BY period_start""",
    )
    assert len(weeks) == DAYS // 7
    assert sum(w["divergent"] for w in weeks) >= 4
    assert all(w["divergent"] for w in weeks if w["peer_tool_call_rate"] >= 0.35)
    assert all(w["tool_call_rate_h"] < 0 for w in weeks)


@pytest.mark.parametrize("seed", SEEDS)
def test_divergent_provider_is_left_out_of_its_pool(warehouses: dict[int, Path], seed: int) -> None:
    pool = {
        r["provider"]: r
        for r in query(
            warehouses[seed],
            f"SELECT * FROM routing_pools WHERE model = '{TRUTHS.divergent_model}'",
        )
    }
    assert set(pool) == {TRUTHS.divergent_provider, *TRUTHS.divergent_peers}
    out = pool[TRUTHS.divergent_provider]
    assert (out["included"], out["rank"], out["divergent"]) == (False, None, True)
    assert out["reason"].startswith("divergent in ")
    assert "tool-call rate" in out["reason"]
    assert sorted(pool[p]["rank"] for p in TRUTHS.divergent_peers) == [1, 2]


def test_false_positive_rate_is_below_alpha(warehouses: dict[int, Path]) -> None:
    """Every tested cell without a planted difference, over all seeds: the planted divergent
    provider, and the outage provider in the outage week (a planted error-rate difference),
    are left out of the count."""
    tested = flagged = 0
    for path in warehouses.values():
        cells = query(
            path,
            f"""SELECT divergent FROM provider_divergence
            WHERE NOT (model = '{TRUTHS.divergent_model}'
                       AND provider = '{TRUTHS.divergent_provider}')
              AND NOT (provider = '{TRUTHS.outage_provider}'
                       AND period_start = DATE '{outage_week()}')""",
        )
        tested += len(cells)
        flagged += sum(c["divergent"] for c in cells)
    assert tested > 300
    assert flagged / tested <= ALPHA, f"{flagged} of {tested} cells flagged"
