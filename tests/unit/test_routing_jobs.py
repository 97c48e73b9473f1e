"""`routing_pools` on hand-made traffic: every exclusion rule, the score and rank order, the
window, and the exports built from the table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from analytics.jobs.routing import ROUTING_POOLS_JOB
from analytics.jobs.runner import run_job_list
from analytics.routing_export import ExportError, export
from analytics.settings import AnalyticsSettings
from tests.unit.test_stats_jobs import err, insert, req, rows
from warehouse.db import Warehouse

MODEL = "qwen/qwen3-coder"
DAY = "2025-03-28T12:00:00+00:00"
OLD_DAY = "2025-02-01T12:00:00+00:00"  # more than 28 days before DAY: outside the window


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    wh = Warehouse.open(":memory:")
    yield wh.connection
    wh.close()


def answers(provider: str, n: int, *, ttft: float | None, **fields: Any) -> list[dict[str, Any]]:
    timing = {"duration_ms": 1400.0, "ttft_ms": ttft, "output_tokens": 100}
    return [{**req(DAY, provider=provider, model=MODEL, **timing), **fields} for _ in range(n)]


def failures(provider: str, n: int) -> list[dict[str, Any]]:
    return [err(DAY, "rate_limit", provider=provider, model=MODEL) for _ in range(n)]


def divergence_week(provider: str, week: str, divergent: bool, reason: str) -> dict[str, Any]:
    return {
        "period_start": week,
        "model": MODEL,
        "provider": provider,
        "peer_providers": 2,
        "requests": 100,
        "ok_requests": 100,
        "peer_requests": 200,
        "peer_ok_requests": 200,
        "comparable_peers": 2,
        "tool_call_rate_apart": 2,
        "error_rate_apart": 0,
        "finish_mix_apart": 0,
        "divergent": divergent,
        "reason": reason,
    }


def build(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    insert(
        con,
        answers("fireworks", 200, ttft=400.0, model_raw="accounts/fireworks/qwen3-coder")
        + answers("together", 198, ttft=350.0, model_raw="Qwen/Qwen3-Coder")
        + failures("together", 2)  # uptime exactly 99 %: at the floor, kept
        + answers("groq", 188, ttft=100.0)
        + failures("groq", 12)  # uptime 94 %: below the floor even at its 95% upper bound
        + answers("sambanova", 196, ttft=500.0)
        + failures("sambanova", 4)  # 98 % over 200: not surely below 99 %, kept
        + answers("cerebras", 20, ttft=50.0)  # too little traffic
        + answers("nebius", 200, ttft=200.0, tool_calls_valid=9, tool_calls_invalid_json=1)
        + answers("nebius", 1, ttft=200.0, status="error", error_type="client_error")
        + answers("deepinfra", 200, ttft=None)
        + answers("deepinfra", 500, ttft=10.0, started_at=None)  # no period: not counted
        + [req(OLD_DAY, provider="fireworks", model=MODEL) for _ in range(50)],
    )
    weeks = [
        divergence_week("deepinfra", "2025-03-10", True, "tool-call rate 9.0% vs 30.0% on peers"),
        divergence_week("deepinfra", "2025-03-17", False, "consistent with peers"),
        divergence_week("deepinfra", "2025-03-24", True, "tool-call rate 10.0% vs 31.0% on peers"),
        divergence_week("fireworks", "2025-03-24", False, "consistent with peers"),
        divergence_week("fireworks", "2025-03-17", True, "old news"),
        divergence_week("fireworks", "2025-03-10", False, "consistent with peers"),
        divergence_week("together", "2025-02-10", True, "before the window"),
    ]
    for week in weeks:
        names = ", ".join(week)
        marks = ", ".join("?" for _ in week)
        con.execute(
            f"INSERT INTO provider_divergence ({names}) VALUES ({marks})", list(week.values())
        )
    run_job_list(con, [ROUTING_POOLS_JOB], settings=AnalyticsSettings())
    return rows(con, "SELECT * FROM routing_pools ORDER BY rank NULLS LAST, provider")


def test_rules_rank_and_reasons(con: duckdb.DuckDBPyConnection) -> None:
    pools = build(con)
    summary = [(r["provider"], r["included"], r["rank"], r["reason"]) for r in pools]
    assert summary == [
        ("fireworks", True, 1, "rank 1: uptime 100.00%, p50 TTFT 400 ms"),
        ("together", True, 2, "rank 2: uptime 99.00%, p50 TTFT 350 ms"),
        ("sambanova", True, 3, "rank 3: uptime 98.00%, p50 TTFT 500 ms"),
        ("cerebras", False, None, "too little traffic: 20 requests < 100"),
        (
            "deepinfra",
            False,
            None,
            "divergent in 2 of 3 weeks: tool-call rate 10.0% vs 31.0% on peers",
        ),
        ("groq", False, None, "uptime 94.00% < 99.00% (95% upper bound 96.53%)"),
        ("nebius", False, None, "tool-call validity 90.00% < 95.00%"),
    ]


def test_measures_over_the_window(con: duckdb.DuckDBPyConnection) -> None:
    by_provider = {r["provider"]: r for r in build(con)}
    fireworks = by_provider["fireworks"]
    # The 50 requests of OLD_DAY are outside the 28-day window.
    assert (fireworks["requests"], fireworks["ok_requests"]) == (200, 200)
    assert fireworks["provider_model"] == "accounts/fireworks/qwen3-coder"
    assert (fireworks["tested_weeks"], fireworks["divergent_weeks"]) == (3, 1)
    assert fireworks["divergent"] is False
    assert fireworks["p50_latency_ms"] == 1400.0
    assert fireworks["output_tokens_per_s"] == pytest.approx(100 * 1000 / (1400 - 400))
    assert fireworks["score_ms"] == 400.0
    assert fireworks["tool_call_rate"] == 0.0
    assert (fireworks["tool_calls_checked"], fireworks["tool_call_validity"]) == (0, None)
    together = by_provider["together"]
    assert together["uptime"] == pytest.approx(0.99)
    # Failure penalty: 1 % of 10 s on top of the median TTFT.
    assert together["score_ms"] == pytest.approx(350 + 0.01 * 10_000)
    assert together["tested_weeks"] == 0  # its only divergent week is before the window
    nebius = by_provider["nebius"]
    assert (nebius["requests"], nebius["uptime"]) == (201, 1.0)  # a client error is not downtime
    assert (nebius["tool_calls_checked"], nebius["tool_call_validity"]) == (2000, 0.9)
    deepinfra = by_provider["deepinfra"]
    assert deepinfra["requests"] == 200  # rows without started_at are in no window
    assert (deepinfra["p50_ttft_ms"], deepinfra["output_tokens_per_s"]) == (None, None)
    assert deepinfra["score_ms"] == 1400.0  # no TTFT reported: median latency instead
    assert str(fireworks["window_end"]) == "2025-03-28 12:00:00+00:00"


def test_rebuild_is_idempotent(con: duckdb.DuckDBPyConnection) -> None:
    first = build(con)
    run_job_list(con, [ROUTING_POOLS_JOB], settings=AnalyticsSettings())
    assert rows(con, "SELECT * FROM routing_pools ORDER BY rank NULLS LAST, provider") == first


def test_exports(con: duckdb.DuckDBPyConnection) -> None:
    build(con)
    table = rows(con, "SELECT model, provider, provider_model, included, rank FROM routing_pools")
    assert export(table, "openrouter", MODEL) == {
        "model": MODEL,
        "provider": {
            "order": ["fireworks", "together", "sambanova"],
            "ignore": ["cerebras", "deepinfra", "groq", "nebius"],
            "allow_fallbacks": True,
        },
    }
    assert export(table, "litellm") == {
        "model_list": [
            {
                "model_name": MODEL,
                "litellm_params": {
                    "model": "fireworks_ai/accounts/fireworks/qwen3-coder",
                    "order": 1,
                },
            },
            {
                "model_name": MODEL,
                "litellm_params": {"model": "together_ai/Qwen/Qwen3-Coder", "order": 2},
            },
            {
                "model_name": MODEL,
                "litellm_params": {"model": "sambanova/qwen3-coder", "order": 3},
            },
        ]
    }
    with pytest.raises(ExportError, match="no routing pool for model 'openai/gpt-5'"):
        export(table, "openrouter", "openai/gpt-5")
    with pytest.raises(ExportError, match="run `gatewatch jobs run` first"):
        export([], "litellm")
