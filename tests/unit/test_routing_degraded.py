"""`routing_pools` judging providers against their peers, on planted traffic: a pool where
every provider misses a floor keeps the best ones and says it is degraded; a divergent or a
clearly less reliable provider is left out while its peers stay; an empty pool says why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analytics.jobs.routing import ROUTING_POOLS_JOB
from analytics.jobs.runner import run_job_list
from analytics.routing_export import export
from analytics.settings import AnalyticsSettings
from tests.unit.test_routing_jobs import MODEL, answers, divergence_week, failures
from tests.unit.test_stats_jobs import insert, rows
from warehouse.db import Warehouse
from warehouse.migrations import MIGRATIONS, applied_migrations


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    wh = Warehouse.open(":memory:")
    yield wh.connection
    wh.close()


def provider(name: str, ok: int, failed: int, ttft: float, **fields: Any) -> list[dict[str, Any]]:
    return answers(name, ok, ttft=ttft, **fields) + failures(name, failed)


def pools(
    con: duckdb.DuckDBPyConnection,
    records: list[dict[str, Any]],
    divergent: tuple[str, ...] = (),
    **settings: Any,
) -> dict[str, dict[str, Any]]:
    insert(con, records)
    for name in divergent:
        week = divergence_week(name, "2025-03-24", True, "tool-call rate 10.0% vs 31.0% on peers")
        marks = ", ".join("?" for _ in week)
        con.execute(
            f"INSERT INTO provider_divergence ({', '.join(week)}) VALUES ({marks})",
            list(week.values()),
        )
    run_job_list(con, [ROUTING_POOLS_JOB], settings=AnalyticsSettings(**settings))
    table = rows(con, "SELECT * FROM routing_pools ORDER BY rank NULLS LAST, provider")
    return {r["provider"]: r for r in table}


def summary(pool: dict[str, dict[str, Any]]) -> list[tuple[str, int | None]]:
    return [(name, r["rank"]) for name, r in pool.items()]


def test_uniform_errors_keep_the_full_pool_flagged_degraded(
    con: duckdb.DuckDBPyConnection,
) -> None:
    pool = pools(
        con,
        provider("fireworks", 980, 20, ttft=400.0)
        + provider("together", 980, 20, ttft=350.0)
        + provider("sambanova", 980, 20, ttft=500.0),
    )
    assert summary(pool) == [("together", 1), ("fireworks", 2), ("sambanova", 3)]
    reason = "no provider meets every floor (3 below the 99.00% uptime floor); kept the best 3"
    assert {(r["pool_degraded"], r["pool_reason"]) for r in pool.values()} == {
        (True, reason + " by relative uptime")
    }
    assert pool["together"]["reason"] == (
        "rank 1: uptime 98.00%, p50 TTFT 350 ms; kept below the floor: uptime 98.00% < 99.00%"
    )
    assert not any(r["behind_peers"] for r in pool.values())
    assert export(list(pool.values()), "openrouter", MODEL) == {
        "model": MODEL,
        "provider": {
            "order": ["together", "fireworks", "sambanova"],
            "ignore": [],
            "allow_fallbacks": True,
        },
        "gatewatch_degraded": reason + " by relative uptime",
    }


def test_a_divergent_provider_is_left_out_and_its_peers_kept(
    con: duckdb.DuckDBPyConnection,
) -> None:
    pool = pools(
        con,
        provider("fireworks", 1000, 0, ttft=400.0)
        + provider("together", 999, 1, ttft=350.0)
        + provider("deepinfra", 1000, 0, ttft=100.0),
        divergent=("deepinfra",),
    )
    assert summary(pool) == [("together", 1), ("fireworks", 2), ("deepinfra", None)]
    assert pool["deepinfra"]["reason"] == (
        "divergent in 1 of 1 weeks: tool-call rate 10.0% vs 31.0% on peers"
    )
    assert {(r["pool_degraded"], r["pool_reason"]) for r in pool.values()} == {(False, None)}


def test_a_divergent_provider_stays_out_of_a_degraded_pool(
    con: duckdb.DuckDBPyConnection,
) -> None:
    pool = pools(
        con,
        provider("fireworks", 980, 20, ttft=400.0)
        + provider("together", 980, 20, ttft=350.0)
        + provider("deepinfra", 1000, 0, ttft=100.0),
        divergent=("deepinfra",),
    )
    assert summary(pool) == [("together", 1), ("fireworks", 2), ("deepinfra", None)]
    assert pool["fireworks"]["pool_reason"] == (
        "no provider meets every floor (2 below the 99.00% uptime floor); "
        "kept the best 2 by relative uptime"
    )


def test_a_clearly_less_reliable_provider_is_left_out(con: duckdb.DuckDBPyConnection) -> None:
    # Above a lowered floor, so only the comparison with its peers leaves groq out.
    pool = pools(
        con,
        provider("fireworks", 1000, 0, ttft=400.0)
        + provider("together", 999, 1, ttft=350.0)
        + provider("groq", 970, 30, ttft=100.0),
        routing_min_uptime=0.9,
    )
    assert summary(pool) == [("together", 1), ("fireworks", 2), ("groq", None)]
    groq = pool["groq"]
    assert groq["reason"] == (
        "uptime 97.00% clearly below best peer fireworks at 100.00% (h=-0.35, q<0.001)"
    )
    assert (groq["behind_peers"], groq["best_peer"], groq["best_peer_uptime"]) == (
        True,
        "fireworks",
        1.0,
    )
    assert groq["uptime_vs_best_h"] == pytest.approx(-0.348, abs=0.001)
    assert pool["fireworks"]["best_peer"] == "together"
    assert {(r["pool_degraded"], r["pool_reason"]) for r in pool.values()} == {(False, None)}


def test_a_degraded_pool_keeps_only_the_best(con: duckdb.DuckDBPyConnection) -> None:
    pool = pools(
        con,
        provider("fireworks", 980, 20, ttft=400.0)
        + provider("together", 980, 20, ttft=350.0)
        + provider("sambanova", 981, 19, ttft=500.0)
        + provider("groq", 900, 100, ttft=100.0),
    )
    assert summary(pool) == [("together", 1), ("fireworks", 2), ("sambanova", 3), ("groq", None)]
    assert pool["groq"]["reason"] == (
        "uptime 90.00% clearly below best peer sambanova at 98.10% (h=-0.37, q<0.001)"
    )
    assert pool["groq"]["pool_reason"] == (
        "no provider meets every floor (4 below the 99.00% uptime floor); "
        "kept the best 3 by relative uptime"
    )


def test_tool_call_validity_floor_is_waived_alike(con: duckdb.DuckDBPyConnection) -> None:
    checked = {"tool_calls_valid": 9, "tool_calls_invalid_json": 1}
    pool = pools(
        con,
        provider("fireworks", 200, 0, ttft=400.0, **checked)
        + provider("together", 200, 0, ttft=350.0, **checked),
    )
    assert summary(pool) == [("together", 1), ("fireworks", 2)]
    assert pool["together"]["reason"] == (
        "rank 1: uptime 100.00%, p50 TTFT 350 ms; kept below the floor: "
        "tool-call validity 90.00% < 95.00%"
    )
    assert pool["together"]["pool_reason"] == (
        "no provider meets every floor (2 below the 95.00% tool-call validity floor); "
        "kept the best 2 by relative uptime"
    )


def test_an_empty_pool_says_why(con: duckdb.DuckDBPyConnection) -> None:
    pool = pools(
        con,
        provider("cerebras", 20, 0, ttft=50.0)
        + provider("deepinfra", 200, 0, ttft=100.0)
        + provider("nebius", 150, 0, ttft=100.0, status="error", error_type="client_error"),
        divergent=("deepinfra",),
    )
    assert summary(pool) == [("cerebras", None), ("deepinfra", None), ("nebius", None)]
    assert {(r["pool_degraded"], r["pool_reason"]) for r in pool.values()} == {
        (
            True,
            "no provider to route to: 1 with too little traffic, 1 without uptime data, "
            "1 divergent",
        )
    }
    assert export(list(pool.values()), "litellm") == {"model_list": []}


def test_equal_providers_a_few_failures_apart_are_judged_alike(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # Both measured below 99%; only google-vertex's 95% upper bound reaches it. Neither meets
    # the floor, so neither is left out by it.
    pool = pools(
        con,
        provider("google-vertex", 1133, 18, ttft=400.0)
        + provider("google-ai-studio", 1118, 22, ttft=350.0),
    )
    assert summary(pool) == [("google-ai-studio", 1), ("google-vertex", 2)]
    assert pool["google-vertex"]["reason"] == (
        "rank 2: uptime 98.44%, p50 TTFT 400 ms; kept below the floor: uptime 98.44% < 99.00%"
    )
    assert pool["google-vertex"]["pool_reason"] == (
        "no provider meets every floor (2 below the 99.00% uptime floor); "
        "kept the best 2 by relative uptime"
    )


def test_a_warehouse_from_before_the_flag_gains_it(tmp_path: Path) -> None:
    """Every migration but `m007_routing_pool_degraded` applied: opening the file adds the
    columns, and the job fills them."""
    path = tmp_path / "legacy.duckdb"
    with duckdb.connect(str(path)) as legacy:
        for migration in MIGRATIONS:
            if migration.__name__ != "m007_routing_pool_degraded":
                migration(legacy)
        applied_migrations(legacy)  # creates the bookkeeping table
        legacy.executemany(
            "INSERT INTO _gatewatch_migrations (name) VALUES (?)",
            [[m.__name__] for m in MIGRATIONS if m.__name__ != "m007_routing_pool_degraded"],
        )
    wh = Warehouse.open(path)
    try:
        pool = pools(wh.connection, provider("fireworks", 980, 20, ttft=400.0))
    finally:
        wh.close()
    assert pool["fireworks"]["pool_degraded"] is True
    assert pool["fireworks"]["included"] is True
