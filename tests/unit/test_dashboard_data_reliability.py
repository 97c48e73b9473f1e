"""The uptime, provider-comparison and routing page queries on a tiny planted warehouse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from analytics.jobs import run_jobs
from dashboard.data import Filters
from dashboard.data_providers import divergence_models, divergent_cells, provider_comparison
from dashboard.data_reliability import (
    incidents,
    sla_attainment,
    uptime_series,
    uptime_step_minutes,
    uptime_summary,
)
from dashboard.data_routing import routing_export_text, routing_pools
from ingest.record import records_to_table
from tests.planted_reliability import (
    CLAUDE,
    CODER,
    DAY1,
    DAY2,
    LAST_DAY,
    SMALL,
    WEEK1,
    WEEK2,
    planted_traffic,
)
from warehouse.db import Warehouse

UPTIME_DAYS = Filters(start=DAY1, end=DAY2)
WHOLE = Filters(start=DAY1, end=LAST_DAY)
WEEKS = Filters(start=WEEK1, end=LAST_DAY)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    wh = Warehouse.open(tmp_path_factory.mktemp("reliability-data") / "gatewatch.duckdb")
    wh.connection.register("traffic", records_to_table(planted_traffic()))
    wh.connection.execute("INSERT INTO requests BY NAME SELECT * FROM traffic")
    wh.connection.unregister("traffic")
    run_jobs(wh.connection, full=True)
    yield wh
    wh.close()


def _at(day, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _uptime_by_step(warehouse: Warehouse, filters: Filters, provider: str) -> dict:
    df = uptime_series(warehouse, filters).filter(provider=provider)
    return {row["bucket_start"]: row for row in df.iter_rows(named=True)}


@pytest.mark.parametrize(("days", "minutes"), [(1, 15), (7, 15), (8, 60), (31, 60), (32, 1440)])
def test_the_uptime_step_follows_the_length_of_the_range(days: int, minutes: int) -> None:
    filters = Filters(start=DAY1, end=DAY1 + timedelta(days=days - 1))
    assert uptime_step_minutes(filters) == minutes


def test_fifteen_minute_uptime_recomputed_from_counts_with_gaps(warehouse: Warehouse) -> None:
    df = uptime_series(warehouse, UPTIME_DAYS)
    assert sorted(df["provider"].unique()) == ["anthropic", "google-vertex", "openai"]
    assert len(df) == 3 * 2 * 96
    openai = _uptime_by_step(warehouse, UPTIME_DAYS, "openai")
    assert (openai[_at(DAY1, 10)]["requests"], openai[_at(DAY1, 10)]["uptime"]) == (5, 0.8)
    # Client errors only: traffic, but no uptime (a gap, never 100%).
    assert openai[_at(DAY1, 10, 15)]["requests"] == 2
    assert openai[_at(DAY1, 10, 15)]["uptime"] is None
    assert openai[_at(DAY1, 11)]["requests"] == 0
    assert openai[_at(DAY1, 11)]["uptime"] is None
    # Across models: 3 ok of 15 eligible in the 14:00 quarter (the incident's two 5-minute
    # buckets), then nothing.
    anthropic = _uptime_by_step(warehouse, UPTIME_DAYS, "anthropic")
    assert anthropic[_at(DAY1, 14)]["uptime"] == pytest.approx(3 / 15)
    assert anthropic[_at(DAY1, 14, 15)]["uptime"] is None
    assert anthropic[_at(DAY1, 14, 15)]["eligible_requests"] == 0


def test_hourly_and_daily_steps_sum_the_bucket_counts(warehouse: Warehouse) -> None:
    ten_days = Filters(start=DAY1, end=DAY1 + timedelta(days=9))
    hourly = _uptime_by_step(warehouse, ten_days, "anthropic")
    assert len(hourly) == 240
    assert hourly[_at(DAY1, 14)]["eligible_requests"] == 15
    assert hourly[_at(DAY1, 14)]["uptime"] == pytest.approx(3 / 15)
    daily = _uptime_by_step(
        warehouse, Filters(start=DAY2 - timedelta(days=40), end=DAY2), "anthropic"
    )
    assert len(daily) == 41
    assert daily[_at(DAY1, 0)]["uptime"] == pytest.approx(3 / 15)
    assert daily[_at(DAY2, 0)]["uptime"] == 1.0
    assert daily[_at(DAY1 - timedelta(days=1), 0)]["uptime"] is None


def test_the_model_filter_narrows_uptime_to_its_models(warehouse: Warehouse) -> None:
    filters = Filters(start=DAY1, end=DAY2, models=(CLAUDE,))
    df = uptime_series(warehouse, filters)
    assert df["provider"].unique().to_list() == ["anthropic"]
    assert _uptime_by_step(warehouse, filters, "anthropic")[_at(DAY1, 14)]["uptime"] == (
        pytest.approx(1 / 13)
    )


def test_incidents_of_the_provider_or_of_the_selected_models(warehouse: Warehouse) -> None:
    [provider_wide] = incidents(warehouse, WHOLE).to_dicts()
    assert provider_wide["provider"] == "anthropic"
    assert provider_wide["model"] is None
    assert (provider_wide["started_at"], provider_wide["ended_at"]) == (
        _at(DAY1, 14),
        _at(DAY1, 14, 10),
    )
    assert (provider_wide["failed_requests"], provider_wide["eligible_requests"]) == (12, 15)
    assert provider_wide["uptime"] == pytest.approx(0.2)
    assert provider_wide["worst_uptime"] == 0.0
    [claude] = incidents(warehouse, Filters(start=DAY1, end=DAY2, models=(CLAUDE,))).to_dicts()
    assert claude["model"] == CLAUDE
    assert claude["uptime"] == pytest.approx(1 / 13)
    assert incidents(warehouse, Filters(start=DAY1, end=DAY2, providers=("openai",))).is_empty()
    assert incidents(warehouse, Filters(start=DAY2, end=DAY2)).is_empty()


def test_sla_attainment_and_error_budget_over_the_selected_days(warehouse: Warehouse) -> None:
    sla = {row["provider"]: row for row in sla_attainment(warehouse, UPTIME_DAYS).to_dicts()}
    assert list(sla) == ["anthropic", "google-vertex", "openai"]
    anthropic = sla["anthropic"]
    assert (anthropic["eligible_requests"], anthropic["provider_errors"]) == (19, 12)
    assert anthropic["uptime"] == pytest.approx(7 / 19)
    assert anthropic["attained"] is False
    assert anthropic["error_budget_requests"] == pytest.approx(0.019)
    assert anthropic["budget_used"] == pytest.approx(12 / 0.019)
    assert anthropic["budget_remaining"] == pytest.approx(0.019 - 12)
    vertex = sla["google-vertex"]
    assert (vertex["uptime"], vertex["attained"], vertex["budget_used"]) == (1.0, True, 0.0)
    assert sla["openai"]["uptime"] == pytest.approx(7 / 8)
    claude_only = sla_attainment(warehouse, Filters(start=DAY1, end=DAY2, models=(CLAUDE,)))
    assert claude_only["eligible_requests"].to_list() == [17]


def test_uptime_summary_counts_providers_meeting_the_target(warehouse: Warehouse) -> None:
    summary = uptime_summary(
        sla_attainment(warehouse, UPTIME_DAYS), incidents(warehouse, UPTIME_DAYS)
    )
    assert summary == {
        "providers_judged": 3,
        "providers_meeting_sla": 1,
        "sla_target": 0.999,
        "incidents": 1,
        "incident_failed_requests": 12,
        "worst_provider": "anthropic",
        "worst_uptime": pytest.approx(7 / 19),
    }


def test_an_empty_selection_has_no_uptime_rows(warehouse: Warehouse) -> None:
    nobody = Filters(start=DAY1, end=DAY2, providers=("nobody",))
    assert uptime_series(warehouse, nobody).is_empty()
    summary = uptime_summary(sla_attainment(warehouse, nobody), incidents(warehouse, nobody))
    assert (summary["providers_judged"], summary["worst_uptime"]) == (0, None)


def test_models_most_providers_first_over_weeks_overlapping_the_range(
    warehouse: Warehouse,
) -> None:
    models = divergence_models(warehouse, WEEKS)
    assert models.to_dicts() == [
        {"model": CODER, "providers": 3, "requests": 1103},
        {"model": SMALL, "providers": 2, "requests": 200},
    ]
    mid_week = Filters(start=WEEK1 + timedelta(days=3), end=WEEK1 + timedelta(days=3))
    assert divergence_models(warehouse, mid_week)["model"].to_list() == [CODER, SMALL]
    assert divergence_models(warehouse, Filters(start=WEEK2, end=LAST_DAY))["model"].to_list() == [
        CODER
    ]


def test_weeks_are_pooled_by_their_denominators(warehouse: Warehouse) -> None:
    rows = {row["provider"]: row for row in provider_comparison(warehouse, WEEKS, CODER).to_dicts()}
    assert list(rows) == ["deepinfra", "fireworks", "together"]
    deepinfra = rows["deepinfra"]
    assert (deepinfra["weeks"], deepinfra["divergent_weeks"]) == (2, 2)
    # 20 of 200 and 30 of 100 tool calls: 50 of 300, not the mean of 10% and 30%.
    assert deepinfra["tool_call_rate"] == pytest.approx(50 / 300)
    assert deepinfra["peer_tool_call_rate"] == pytest.approx(0.5)
    assert deepinfra["share_stop"] == pytest.approx(250 / 300)
    assert deepinfra["mean_output_tokens"] == pytest.approx(50)
    assert deepinfra["peer_mean_output_tokens"] == pytest.approx(100)
    assert deepinfra["reasoning_share"] == pytest.approx(0.6)
    assert deepinfra["last_divergent_week"] == WEEK2
    assert deepinfra["divergent_reason"].startswith("tool-call rate 30.0% vs 50.0% on peers")
    together = rows["together"]
    assert together["divergent_weeks"] == 0 and together["divergent_reason"] is None
    assert together["error_rate"] == pytest.approx(3 / 403)
    assert together["peer_tool_call_rate"] == pytest.approx(250 / 700)
    assert together["peer_error_rate"] == 0.0
    only = provider_comparison(
        warehouse, Filters(start=WEEK1, end=LAST_DAY, providers=("deepinfra",)), CODER
    )
    assert only["provider"].to_list() == ["deepinfra"]


def test_divergent_cells_newest_first(warehouse: Warehouse) -> None:
    cells = divergent_cells(warehouse, WEEKS)
    assert cells.select("period_start", "model", "provider").rows() == [
        (WEEK2, CODER, "deepinfra"),
        (WEEK1, CODER, "deepinfra"),
    ]
    assert cells["reason"][1].startswith("tool-call rate 10.0% vs 50.0% on peers")
    assert divergent_cells(warehouse, Filters(start=DAY1, end=DAY2)).is_empty()


def test_routing_pools_ranked_then_left_out(warehouse: Warehouse) -> None:
    pools = routing_pools(warehouse, WHOLE)
    assert len(pools) == 9
    coder = pools.filter(model=CODER)
    assert coder.select("provider", "rank").rows() == [
        ("together", 1),
        ("fireworks", 2),
        ("deepinfra", None),
    ]
    assert coder["reason"][2].startswith("divergent in 2 of 2 weeks")
    only = routing_pools(warehouse, Filters(start=DAY1, end=DAY1, providers=("deepinfra",)))
    assert only.select("model", "provider").rows() == [(CODER, "deepinfra")]


def test_routing_export_is_the_cli_output_for_one_model(warehouse: Warehouse) -> None:
    openrouter = json.loads(routing_export_text(warehouse, CODER, "openrouter") or "")
    assert openrouter == {
        "model": CODER,
        "provider": {
            "order": ["together", "fireworks"],
            "ignore": ["deepinfra"],
            "allow_fallbacks": True,
        },
    }
    litellm = json.loads(routing_export_text(warehouse, CODER, "litellm") or "")
    assert [d["litellm_params"] for d in litellm["model_list"]] == [
        {"model": "together_ai/qwen3-coder", "order": 1},
        {"model": "fireworks_ai/qwen3-coder", "order": 2},
    ]
    assert routing_export_text(warehouse, "no/such-model", "openrouter") is None


def test_the_incident_table_lists_the_newest_and_says_how_many_there_are() -> None:
    """A page of hundreds of incident rows froze the browser: the newest 50 are listed."""
    import datetime as dt

    import polars as pl

    from dashboard.incident_table import INCIDENT_ROWS_SHOWN, incidents_panel

    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    rows = pl.DataFrame(
        [
            {
                "provider": "openai",
                "model": None,
                "started_at": start - dt.timedelta(hours=i),
                "ended_at": start - dt.timedelta(hours=i) + dt.timedelta(minutes=20),
                "duration_minutes": 20,
                "requests": 100,
                "eligible_requests": 100,
                "failed_requests": 30,
                "uptime": 0.7,
                "worst_uptime": 0.5,
                "top_error_type": "server_error",
                "top_error_share": 1.0,
                "ongoing": False,
            }
            for i in range(120)
        ]
    )
    note, table = incidents_panel(rows).children
    assert "50 newest of 120 incidents" in note.children
    body = table.children[1].children
    assert len(body) == INCIDENT_ROWS_SHOWN == 50
    assert "2026-03-01 00:00" in str(body[0].children[2].children)  # the newest first
    few = incidents_panel(rows.head(3))
    assert len(few.children[1].children) == 3  # a table alone, no note
