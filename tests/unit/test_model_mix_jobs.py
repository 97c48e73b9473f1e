"""`model_tiers`, `model_mix_daily` and `agent_roles_daily` on hand-made traffic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analytics.jobs import run_jobs
from analytics.settings import AnalyticsSettings
from gatewatch.errors import GatewatchError
from gatewatch.user_config import load_user_config
from tests.unit.test_stats_jobs import INGESTED_LATER, insert, req, rows
from warehouse.db import Warehouse

DAY = "2025-03-05T12:00:00+00:00"
NEXT_DAY = "2025-03-06T12:00:00+00:00"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    wh = Warehouse.open(":memory:")
    yield wh.connection
    wh.close()


def calls(model: str, n: int, at: str = DAY, **fields: Any) -> list[dict[str, Any]]:
    usage = {"input_tokens": 10, "output_tokens": 5, **fields}
    return [req(at, model=model, **usage) for _ in range(n)]


def test_default_tiers_config_overrides_and_unclassified(con: duckdb.DuckDBPyConnection) -> None:
    models = [
        "anthropic/claude-opus-4.1",
        "anthropic/claude-haiku-4.5",
        "openai/gpt-5",
        "openai/gpt-5-mini",
        "openai/gpt-4.1-nano",
        "openai/o4-mini",
        "google/gemini-2.5-flash-lite",
        "google/gemini-2.5-pro",
        "meta-llama/llama-3.1-8b-instruct",
        "acme/house-model",
        "qwen/qwen3-coder",
    ]
    insert(con, [r for m in models for r in calls(m, 1)])
    rules = (("ACME/*", "frontier"), ("qwen/*", "local"))
    run_jobs(con, settings=AnalyticsSettings(tier_rules=rules))
    got = {
        r["model"]: (r["tier"], r["origin"], r["pattern"]) for r in rows(con, "FROM model_tiers")
    }
    assert got == {
        "anthropic/claude-opus-4.1": ("frontier", "default", "anthropic/claude-*opus*"),
        "anthropic/claude-haiku-4.5": ("small", "default", "anthropic/claude-*haiku*"),
        "openai/gpt-5": ("frontier", "default", "openai/gpt-5*"),
        "openai/gpt-5-mini": ("small", "default", "openai/gpt-*-mini*"),
        "openai/gpt-4.1-nano": ("small", "default", "openai/gpt-*-nano*"),
        "openai/o4-mini": ("small", "default", "openai/o*-mini*"),
        "google/gemini-2.5-flash-lite": ("small", "default", "google/gemini-*-flash*"),
        "google/gemini-2.5-pro": ("frontier", "default", "google/gemini-*-pro*"),
        "meta-llama/llama-3.1-8b-instruct": ("small", "default", "meta-llama/llama-*-8b*"),
        "acme/house-model": ("frontier", "config", "ACME/*"),
        "qwen/qwen3-coder": ("local", "config", "qwen/*"),
    }
    run_jobs(con)  # without the config rules: defaults again, unknown models unclassified
    assert rows(
        con, "SELECT tier, origin, pattern FROM model_tiers WHERE model = 'acme/house-model'"
    ) == [{"tier": "unclassified", "origin": "default", "pattern": None}]


def test_model_mix_daily_shares(con: duckdb.DuckDBPyConnection) -> None:
    insert(
        con,
        calls("openai/gpt-5", 3)
        + calls("anthropic/claude-sonnet-4.5", 1, input_tokens=50)
        + calls("openai/gpt-5-mini", 4, output_tokens=20)
        + [req(DAY, model="openai/gpt-5-mini", status="error", error_type="timeout")]
        + calls("acme/house-model", 2)
        + calls("openai/gpt-5", 1, at=NEXT_DAY),
    )
    run_jobs(con)
    got = rows(con, "SELECT * FROM model_mix_daily ORDER BY period_start, tier")
    day = [r for r in got if str(r["period_start"]) == "2025-03-05"]
    summary = [
        (
            r["tier"],
            r["models"],
            r["requests"],
            r["ok_requests"],
            r["input_tokens"],
            r["output_tokens"],
        )
        for r in day
    ]
    # Input 10 / output 5 tokens per call unless given; the timeout counts in requests only.
    assert summary == [
        ("frontier", 2, 4, 4, 3 * 10 + 50, 4 * 5),
        ("small", 1, 5, 4, 4 * 10, 4 * 20),
        ("unclassified", 1, 2, 2, 2 * 10, 2 * 5),
    ]
    assert [r["share_requests"] for r in day] == pytest.approx([4 / 11, 5 / 11, 2 / 11])
    assert [r["share_input_tokens"] for r in day] == pytest.approx([80 / 140, 40 / 140, 20 / 140])
    assert [r["share_output_tokens"] for r in day] == pytest.approx([20 / 110, 80 / 110, 10 / 110])
    next_day = [(r["tier"], r["share_requests"]) for r in got if r not in day]
    assert next_day == [("frontier", 1.0)]


def call(trace: str | None, at: str, finish: str = "stop", model: str = "m/big", **fields: Any):
    return req(at, trace_id=trace, span_id=at[-14:-6], model=model, finish_reason=finish, **fields)


def test_agent_roles(con: duckdb.DuckDBPyConnection) -> None:
    insert(
        con,
        [
            # t1: planner asks for tools, two executor calls follow.
            call("t1", "2025-03-05T10:00:00+00:00", "tool_calls"),
            call("t1", "2025-03-05T10:00:05+00:00", "tool_calls", model="m/small"),
            call("t1", "2025-03-05T10:00:09+00:00", model="m/small"),
            # t2: one call only.
            call("t2", "2025-03-05T11:00:00+00:00"),
            # t3: a second call that follows no tool-call answer.
            call("t3", "2025-03-05T12:00:00+00:00"),
            call("t3", "2025-03-05T12:00:03+00:00", model="m/small"),
            # no trace id.
            call(None, "2025-03-05T13:00:00+00:00", model="m/small"),
        ],
    )
    run_jobs(con)
    got = {(r["model"], r["role"]): r["requests"] for r in rows(con, "FROM agent_roles_daily")}
    assert got == {
        ("m/big", "planner"): 2,
        ("m/small", "executor"): 2,
        ("m/big", "single"): 1,
        ("m/small", "single"): 2,
    }
    before = rows(con, "SELECT * FROM agent_roles_daily ORDER BY ALL")
    insert(con, [call("t9", "2025-03-07T10:00:00+00:00", ingested_at=INGESTED_LATER)])
    run_jobs(con)
    run_jobs(con)
    incremental = rows(con, "SELECT * FROM agent_roles_daily ORDER BY ALL")
    assert incremental[: len(before)] == before and len(incremental) == len(before) + 1
    run_jobs(con, full=True)
    assert rows(con, "SELECT * FROM agent_roles_daily ORDER BY ALL") == incremental


def test_tiers_section_of_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "gatewatch.toml"
    path.write_text('[tiers]\n"acme/*" = "frontier"\n"*-mini" = "small"\n', encoding="utf-8")
    assert load_user_config(str(path)).tiers == (("acme/*", "frontier"), ("*-mini", "small"))
    path.write_text('[tiers]\n"acme/*" = "Frontier Tier"\n', encoding="utf-8")
    with pytest.raises(GatewatchError, match="'Frontier Tier' is not a tier name"):
        load_user_config(str(path))
    path.write_text('tiers = "frontier"\n', encoding="utf-8")
    with pytest.raises(GatewatchError, match=r"\[tiers\] must be a table"):
        load_user_config(str(path))
