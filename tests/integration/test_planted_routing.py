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
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from analytics.report.render import render_markdown
from analytics.report.weekly import build_weekly_report
from analytics.settings import AnalyticsSettings
from sample_data.generator import outage_day_index
from sample_data.truths import TRUTHS
from tests.integration.planted_warehouse import END, planted_warehouse
from tests.integration.server import run_cli

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


# Every provider of every model fails 2% of its requests (below the 99% uptime floor).
UNIFORM_ERRORS = replace(TRUTHS, baseline_provider_error_rate=0.02)


@pytest.fixture(scope="module")
def uniform_errors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("uniform") / "planted.duckdb"
    planted_warehouse(path, days=28, seed=1, per_day=PER_DAY, truths=UNIFORM_ERRORS)
    return path


def test_uniform_errors_keep_full_pools_flagged_degraded(uniform_errors: Path) -> None:
    pools: dict[str, list[dict[str, Any]]] = {}
    for row in query(uniform_errors, "SELECT * FROM routing_pools ORDER BY model, provider"):
        pools.setdefault(row["model"], []).append(row)
    assert len(pools) == 7
    for model, pool in pools.items():
        kept = [r for r in pool if r["included"]]
        out = [r for r in pool if not r["included"]]
        # The planted divergent provider stays out; every other provider is kept.
        assert [r["provider"] for r in out] == (
            [TRUTHS.divergent_provider] if model == TRUTHS.divergent_model else []
        )
        assert all(r["uptime"] < 0.99 and not r["behind_peers"] for r in kept)
        assert {(r["pool_degraded"], r["pool_reason"]) for r in pool} == {
            (
                True,
                f"no provider meets every floor ({len(kept)} below the 99.00% uptime floor); "
                f"kept the best {len(kept)} by relative uptime",
            )
        }


def test_degraded_pools_reach_the_export_and_the_report(uniform_errors: Path) -> None:
    model = TRUTHS.divergent_model
    reason = (
        "no provider meets every floor (2 below the 99.00% uptime floor); "
        "kept the best 2 by relative uptime"
    )
    fragment = json.loads(
        run_cli(
            "routing", "export", "--format", "openrouter", "--model", model, db=uniform_errors
        ).stdout
    )
    assert fragment["gatewatch_degraded"] == reason
    assert sorted(fragment["provider"]["order"]) == sorted(TRUTHS.divergent_peers)
    assert fragment["provider"]["ignore"] == [TRUTHS.divergent_provider]
    litellm = json.loads(
        run_cli(
            "routing", "export", "--format", "litellm", "--model", model, db=uniform_errors
        ).stdout
    )
    assert [d["model_info"] for d in litellm["model_list"]] == [
        {"metadata": f"gatewatch: degraded pool: {reason}"}
    ] * 2
    with duckdb.connect(str(uniform_errors), read_only=True) as con:
        report = build_weekly_report(
            con, END - dt.timedelta(days=6), generated_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
        )
    assert report.routing.filter(pl.col("model") == model)["degraded"].to_list() == [reason]
    markdown = render_markdown(report)
    assert "Degraded pools (no provider passes every rule):" in markdown
    assert f"- **{model}**: {reason}" in markdown
