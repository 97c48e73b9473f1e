"""The weekly report as its readers get it: the HTML opened offline in Chromium (no request
leaves the file, charts drawn, no console errors) and the PDF written by the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from playwright.sync_api import Page, Request

from analytics.report.export import write_weekly_report
from tests.integration.server import run_cli
from warehouse.db import Warehouse

WEEK = date(2026, 2, 2)  # the browser fixture's traffic week (tests/browser/conftest.py)


def test_html_opens_offline_with_its_charts(
    warehouse: Warehouse, page: Page, tmp_path: Path
) -> None:
    paths = write_weekly_report(
        warehouse.connection.cursor(),
        WEEK,
        tmp_path,
        ["html"],
        generated_at=datetime(2026, 2, 9, tzinfo=UTC),
    )
    outside: list[str] = []

    def block_network(request: Request) -> None:
        if not request.url.startswith("file://"):
            outside.append(request.url)

    page.on("request", block_network)
    page.context.route(
        "**/*",
        lambda route: (
            route.abort() if not route.request.url.startswith("file://") else route.continue_()
        ),
    )
    page.goto(paths[0].as_uri())
    page.wait_for_selector("#chart-uptime .main-svg")
    assert page.locator(".js-plotly-plot").count() == 3
    assert page.get_by_text("amazon-bedrock").first.is_visible()
    assert outside == []


def test_cli_writes_a_pdf(warehouse: Warehouse, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    warehouse.connection.execute(f"ATTACH '{db}' AS report_copy")
    warehouse.connection.execute("COPY FROM DATABASE gatewatch TO report_copy")
    warehouse.connection.execute("DETACH report_copy")
    out = tmp_path / "reports"
    result = run_cli(
        "report", "weekly", "--week", "2026-W06", "--out", str(out), "--format", "pdf", db=db
    )
    pdf = out / "2026-W06.pdf"
    assert result.stdout.split() == [str(pdf)]
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert not (out / "2026-W06.html").exists()  # only the PDF was asked for
