"""The weekly report's numbers on planted traffic, and every format against golden files."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from analytics.jobs import run_jobs
from analytics.report.export import parse_formats, write_weekly_report
from analytics.report.formatting import change
from analytics.report.formatting import count as fmt_count
from analytics.report.weekly import build_weekly_report, last_complete_week, parse_week
from gatewatch.weekly_reports import WeeklyReportSchedule
from ingest.record import Record, records_to_table
from sample_data.generator import generate
from warehouse.db import Warehouse

GOLDEN = Path(__file__).parent.parent / "golden" / "weekly"
UPDATE_GOLDEN = os.environ.get("GATEWATCH_UPDATE_GOLDEN") == "1"
W46, W47 = date(2026, 11, 9), date(2026, 11, 16)
GENERATED_AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def load(warehouse: Warehouse, table: pa.Table) -> None:
    warehouse.connection.register("traffic", table)
    warehouse.connection.execute("INSERT INTO requests BY NAME SELECT * FROM traffic")
    warehouse.connection.unregister("traffic")
    run_jobs(warehouse.connection, full=True)


def requests_on(day: date, n: int, ids: count, **fields: object) -> list[Record]:
    started = int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1e6)
    return [
        {"request_id": f"r{next(ids)}", "started_at": started + i, "ingested_at": 0, **fields}
        for i in range(n)
    ]


def planted(ids: count) -> list[Record]:
    """W46: 40 ok on model a (8 tool calls), 10 ok on b, 2 provider errors on p1.
    W47: 60 ok on a (30 tool calls), 40 ok on b (10 tool calls), 0 errors."""
    ok = {"status": "ok", "output_tokens": 10, "reasoning_tokens": 5}
    a = {"provider": "p1", "model": "v/a", **ok}
    b = {"provider": "p2", "model": "v/b", **ok}
    error = {"provider": "p1", "model": "v/a", "status": "error", "error_type": "overloaded"}
    return [
        *requests_on(W46, 8, ids, **a, finish_reason="tool_calls"),
        *requests_on(W46 + timedelta(days=1), 32, ids, **a, finish_reason="stop"),
        *requests_on(W46, 10, ids, **b, finish_reason="stop"),
        *requests_on(W46, 2, ids, **error, finish_reason="error"),
        *requests_on(W47, 30, ids, **a, finish_reason="tool_calls"),
        *requests_on(W47 + timedelta(days=6), 30, ids, **a, finish_reason="stop"),
        *requests_on(W47, 10, ids, **b, finish_reason="tool_calls"),
        *requests_on(W47, 30, ids, **b, finish_reason="stop"),
    ]


@pytest.fixture
def planted_report(tmp_path: Path):  # type: ignore[no-untyped-def]
    warehouse = Warehouse.open(tmp_path / "planted.duckdb")
    load(warehouse, records_to_table(planted(count())))
    yield build_weekly_report(warehouse.connection, W47, generated_at=GENERATED_AT)
    warehouse.close()


def test_headline_numbers_and_week_over_week_change(planted_report) -> None:  # type: ignore[no-untyped-def]
    rows = {r["metric"]: r for r in planted_report.headline.to_dicts()}
    assert rows["Requests"]["this_week"] == 100
    assert rows["Requests"]["last_week"] == 52
    assert rows["Requests"]["change"] == pytest.approx(100 / 52 - 1)
    assert rows["Tool-call rate"]["this_week"] == pytest.approx(40 / 100)
    assert rows["Tool-call rate"]["last_week"] == pytest.approx(8 / 50)
    assert rows["Tool-call rate"]["change"] == pytest.approx(0.40 - 0.16)  # points, not percent
    assert rows["Reasoning share of output tokens"]["this_week"] == pytest.approx(0.5)
    assert rows["Uptime (all providers)"]["this_week"] == 1.0
    assert rows["Uptime (all providers)"]["last_week"] == pytest.approx(50 / 52)
    assert planted_report.has_traffic


def test_model_mix_movers_and_providers(planted_report) -> None:  # type: ignore[no-untyped-def]
    assert planted_report.model_mix.to_dicts() == [
        {"model": "v/a", "requests": 60, "share": 0.6, "last_share": 42 / 52,
         "share_change": pytest.approx(0.6 - 42 / 52)},
        {"model": "v/b", "requests": 40, "share": 0.4, "last_share": 10 / 52,
         "share_change": pytest.approx(0.4 - 10 / 52)},
    ]  # fmt: skip
    movers = planted_report.movers.to_dicts()
    assert [(m["what"], m["name"]) for m in movers] == [
        ("share of requests", "v/a"),
        ("share of requests", "v/b"),
    ]  # no tool-call-rate movers: b had fewer than 50 requests last week
    providers = {p["provider"]: p for p in planted_report.providers.to_dicts()}
    assert providers["p1"]["uptime"] == 1.0
    assert providers["p1"]["last_uptime"] == pytest.approx(40 / 42)
    assert providers["p2"]["requests"] == 40


def test_a_week_without_traffic_says_so(tmp_path: Path) -> None:
    warehouse = Warehouse.open(tmp_path / "empty.duckdb")
    report = build_weekly_report(warehouse.connection, W47, generated_at=GENERATED_AT)
    warehouse.close()
    assert not report.has_traffic
    from analytics.report.render import render_markdown

    assert "No requests were recorded in this week." in render_markdown(report)


def test_weeks_and_formats_parse_strictly() -> None:
    assert parse_week("2026-W47") == W47
    assert parse_week("2026-w01") == date(2025, 12, 29)
    assert last_complete_week(date(2026, 11, 23)) == W47  # a Monday
    assert last_complete_week(date(2026, 11, 29)) == W47  # the Sunday after
    with pytest.raises(ValueError, match="not an ISO week: '2026-47'"):
        parse_week("2026-47")
    assert parse_formats("md, csv") == ["md", "csv"]
    with pytest.raises(ValueError, match="unknown report format"):
        parse_formats("html,docx")
    assert change(-0.0004, "rate") == "+0.0 pp"
    assert (fmt_count(1234567), fmt_count(999)) == ("1.2M", "999")


# --- golden files on a fixed generated sample ----------------------------------------------

PLOTLY_BUNDLE = re.compile(r"<script>/\*\*\n\* plotly\.js v[\s\S]*?</script>")


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    traffic = generate(21, end=date(2026, 11, 22), seed=7, requests_per_day=300).requests
    stamped = traffic.set_column(
        traffic.schema.get_field_index("ingested_at"),
        "ingested_at",
        pc.cast(traffic["started_at"], traffic.schema.field("ingested_at").type),
    )
    warehouse = Warehouse.open(path)
    load(warehouse, stamped)
    warehouse.close()
    return path


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def test_markdown_csv_and_html_match_golden_files(sample_db: Path, tmp_path: Path) -> None:
    warehouse = Warehouse.open(sample_db)
    paths = write_weekly_report(
        warehouse.connection, W47, tmp_path, ["html", "md", "csv"], generated_at=GENERATED_AT
    )
    warehouse.close()
    assert [p.name for p in paths][:2] == ["2026-W47.html", "2026-W47.md"]
    for path in paths[1:]:
        check_golden(path.name, path.read_text(encoding="utf-8"))
    html = paths[0].read_text(encoding="utf-8")
    assert len(PLOTLY_BUNDLE.findall(html)) == 1, "plotly.js must be inlined exactly once"
    check_golden("2026-W47.html", PLOTLY_BUNDLE.sub("<script>/* plotly.js */</script>", html))


def test_serve_writes_last_weeks_report_once(sample_db: Path, tmp_path: Path) -> None:
    schedule = WeeklyReportSchedule(
        tmp_path, clock=lambda: datetime(2026, 11, 23, 0, 5, tzinfo=UTC)
    )
    warehouse = Warehouse.open(sample_db)
    try:
        first = schedule(warehouse.connection)
        again = schedule(warehouse.connection)
    finally:
        warehouse.close()
    assert {p.name for p in first} >= {"2026-W47.html", "2026-W47.md", "2026-W47-headline.csv"}
    assert again == []


def test_the_planted_outage_and_divergent_provider_reach_the_report(tmp_path: Path) -> None:
    traffic = generate(14, end=date(2026, 11, 22), seed=3, requests_per_day=3000)
    truths = traffic.truths
    stamped = traffic.requests.set_column(
        traffic.requests.schema.get_field_index("ingested_at"),
        "ingested_at",
        pc.cast(traffic.requests["started_at"], pa.timestamp("us", tz="UTC")),
    )
    warehouse = Warehouse.open(tmp_path / "planted.duckdb")
    load(warehouse, stamped)
    [(outage_day,)] = warehouse.connection.execute(
        "SELECT CAST(min(started_at) AS DATE) FROM requests WHERE error_type = 'overloaded'"
    ).fetchall()
    week = outage_day - timedelta(days=outage_day.weekday())
    report = build_weekly_report(warehouse.connection, week, generated_at=GENERATED_AT)
    warehouse.close()

    [incident] = report.incidents.to_dicts()
    assert incident["provider"] == truths.outage_provider
    start = datetime.combine(outage_day, datetime.min.time(), UTC) + timedelta(
        minutes=truths.outage_start_minute
    )
    assert abs(incident["started_at"] - start) <= timedelta(minutes=15)
    divergent = report.divergences.select("model", "provider").rows()
    assert (truths.divergent_model, truths.divergent_provider) in divergent
    from analytics.report.render import render_markdown

    markdown = render_markdown(report)
    assert f"| {truths.outage_provider} | {start:%a %Y-%m-%d} 1" in markdown
    assert f"| {truths.divergent_model} | {truths.divergent_provider} | tool-call rate" in markdown
