"""Where the estimate is shown: the Model mix page's spend by tier, the weekly report's tier
table and the request explorer's "Est. cost" column, on planted requests with hand-worked
costs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from analytics.jobs import run_jobs
from analytics.prices import Price
from analytics.report.weekly import build_weekly_report
from analytics.settings import AnalyticsSettings
from dashboard.data import Filters
from dashboard.data_model_mix import spend_totals, tier_spend_daily
from dashboard.data_requests import RequestQuery, export_rows, request_page
from dashboard.explorer_table import COLUMNS
from tests.unit.test_stats_jobs import insert, req
from warehouse.db import Warehouse

W46, W47 = date(2026, 11, 9), date(2026, 11, 16)
M = 1_000_000
# v/small at 1 / 2 per million on any provider (a "small" tier by config); Sonnet 4.5 keeps
# its built-in price (frontier) but most of its requests report a cost.
SETTINGS = AnalyticsSettings(
    prices=(Price("v/small", 1.0, 2.0),), tier_rules=(("v/small", "small"),)
)
SONNET = "anthropic/claude-sonnet-4.5"


def at(day: date, hour: int = 12) -> str:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat()


def planted() -> list[dict[str, Any]]:
    small = {"provider": "p", "model": "v/small", "app": "chat"}
    sonnet = {"provider": "anthropic", "model": SONNET, "app": "agent"}
    return [
        # W46: small 2 × (1 M in, 1 M out) = 2 × 3.00; Sonnet reports 4.00
        *(req(at(W46), input_tokens=M, output_tokens=M, **small) for _ in range(2)),
        req(at(W46), input_tokens=M, output_tokens=0, cost_usd=4.0, **sonnet),
        # W47 Monday: small 1 M in = 1.00; Sonnet reports 5.00 and 2.00, and one without a
        # cost is estimated from 1 M input at 3.00; one small request has no token counts
        req(at(W47), request_id="small-1", input_tokens=M, output_tokens=0, **small),
        req(at(W47), request_id="small-unpriced", **small),
        req(at(W47), request_id="sonnet-reported", input_tokens=M, cost_usd=5.0, **sonnet),
        req(at(W47, 13), input_tokens=M, output_tokens=0, cost_usd=2.0, **sonnet),
        req(at(W47, 14), request_id="sonnet-est", input_tokens=M, output_tokens=0, **sonnet),
    ]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    wh = Warehouse.open(Path(tmp_path_factory.mktemp("spend")) / "spend.duckdb")
    insert(wh.connection, planted())
    run_jobs(wh.connection, settings=SETTINGS)
    yield wh
    wh.close()


def test_report_tier_table_shows_spend_share_and_its_estimated_part(
    warehouse: Warehouse,
) -> None:
    report = build_weekly_report(
        warehouse.connection, W47, generated_at=datetime(2026, 11, 23, tzinfo=UTC)
    )
    tiers = {row["tier"]: row for row in report.tier_mix.to_dicts()}
    # W47: small 1.00 (estimated), frontier 5 + 2 reported + 3 estimated = 10.00
    assert tiers["small"]["spend_usd"] == pytest.approx(1.0)
    assert tiers["frontier"]["spend_usd"] == pytest.approx(10.0)
    assert tiers["small"]["spend_share"] == pytest.approx(1 / 11)
    assert tiers["frontier"]["spend_share"] == pytest.approx(10 / 11)
    assert tiers["small"]["estimated_spend_share"] == pytest.approx(1.0)
    assert tiers["frontier"]["estimated_spend_share"] == pytest.approx(0.3)
    # W46: small 6.00 of 10.00
    assert tiers["small"]["last_spend_share"] == pytest.approx(0.6)
    assert tiers["frontier"]["last_spend_share"] == pytest.approx(0.4)


def test_model_mix_spend_totals_follow_the_filters(warehouse: Warehouse) -> None:
    week = Filters(start=W47, end=W47 + timedelta(days=6))
    got = spend_totals(warehouse, week)
    assert got["spend_usd"] == pytest.approx(11.0)
    assert got["frontier_share_spend"] == pytest.approx(10 / 11)
    assert got["estimated_share"] == pytest.approx(4 / 11)
    assert got["unpriced_requests"] == 1
    chat = spend_totals(warehouse, Filters(start=W47, end=W47, apps=("chat",)))
    assert (chat["spend_usd"], chat["frontier_share_spend"]) == (pytest.approx(1.0), 0.0)
    nothing = spend_totals(warehouse, Filters(start=date(2026, 1, 1), end=date(2026, 1, 2)))
    assert nothing["spend_usd"] == 0 and nothing["frontier_share_spend"] is None


def test_model_mix_tier_spend_per_day(warehouse: Warehouse) -> None:
    got = tier_spend_daily(warehouse, Filters(start=W46, end=W47))
    shares = {(r["period_start"], r["tier"]): r["share_spend"] for r in got.to_dicts()}
    assert shares == {
        (W46, "frontier"): pytest.approx(0.4),
        (W46, "small"): pytest.approx(0.6),
        (W47, "frontier"): pytest.approx(10 / 11),
        (W47, "small"): pytest.approx(1 / 11),
    }


def test_explorer_shows_the_estimate_beside_the_reported_cost(warehouse: Warehouse) -> None:
    query = RequestQuery(filters=Filters(start=W47, end=W47), sort="estimated_cost_usd")
    page = {r["request_id"]: r for r in request_page(warehouse, query).to_dicts()}
    assert page["sonnet-est"]["cost_usd"] is None
    assert page["sonnet-est"]["estimated_cost_usd"] == pytest.approx(3.0)
    assert page["sonnet-reported"]["cost_usd"] == 5.0
    assert page["sonnet-reported"]["estimated_cost_usd"] is None  # no output count
    assert page["small-unpriced"]["estimated_cost_usd"] is None
    labels = [c.label for c in COLUMNS]
    assert labels.index("Est. cost") == labels.index("Cost") + 1
    rendered = {c.label: c.render(page["sonnet-est"]) for c in COLUMNS}
    assert (rendered["Cost"], rendered["Est. cost"]) == ("—", "$3.000000")
    assert "estimated_cost_usd" in export_rows(warehouse, query).columns
