"""A `WeeklyReport` as self-contained HTML (charts drawn by an inlined plotly.js: no external
URL), Markdown, CSV files and PDF (the HTML printed by headless Chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from plotly.offline import get_plotlyjs

from analytics import figures
from analytics.report.formatting import FILTERS
from analytics.report.weekly import WeeklyReport

CHROMIUM_ENV = "GATEWATCH_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
PDF_TIMEOUT_SECONDS = 120

_ENV = Environment(
    loader=PackageLoader("analytics.report", "templates"),
    autoescape=select_autoescape(["html.j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters.update(FILTERS)


class PdfUnavailable(RuntimeError):
    """No Chromium to print the PDF with."""


def _context(report: WeeklyReport) -> dict[str, object]:
    return {
        "r": report,
        "headline": report.headline.to_dicts(),
        "model_mix": report.model_mix.to_dicts(),
        "movers": report.movers.to_dicts(),
        "providers": report.providers.to_dicts(),
        "tier_mix": report.tier_mix.to_dicts(),
        "incidents": report.incidents.to_dicts(),
        "divergences": report.divergences.to_dicts(),
        "routing": report.routing.to_dicts(),
    }


def render_markdown(report: WeeklyReport) -> str:
    return _ENV.get_template("weekly.md.j2").render(_context(report))


def report_figures(report: WeeklyReport) -> list[tuple[str, go.Figure]]:
    """(element id, figure) of every chart in the report, in reading order."""
    rates = report.daily.unpivot(
        index="day",
        on=["tool_call_rate", "reasoning_share"],
        variable_name="metric",
        value_name="value",
    ).with_columns(
        pl.col("metric").replace(
            {"tool_call_rate": "tool-call rate", "reasoning_share": "reasoning share"}
        )
    )
    return [
        (
            "chart-adoption",
            figures.rate_over_time(
                rates, x="day", y="value", color="metric", title="Adoption, daily"
            ),
        ),
        (
            "chart-volume",
            figures.volume_over_time(report.daily, x="day", y="requests", title="Requests per day"),
        ),
        (
            "chart-uptime",
            figures.rate_over_time(
                report.provider_daily,
                x="day",
                y="uptime",
                color="provider",
                title="Provider uptime, this week",
                y_from_zero=False,
            ),
        ),
    ]


def _figure_json(figure: go.Figure) -> str:
    # Inside a <script> element, "</" must not appear (a model name could contain "</script>").
    return pio.to_json(figure, validate=False).replace("</", "<\\/")


def render_html(report: WeeklyReport) -> str:
    charts = [{"id": id_, "json": _figure_json(fig)} for id_, fig in report_figures(report)]
    return _ENV.get_template("weekly.html.j2").render(
        _context(report), charts=charts, plotly_js=get_plotlyjs()
    )


def write_csvs(report: WeeklyReport, out_dir: Path) -> list[Path]:
    paths = []
    for stem, table in report.tables().items():
        path = out_dir / f"{report.label}-{stem}.csv"
        table.write_csv(path)
        paths.append(path)
    return paths


def chromium_path() -> str:
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser") or DEFAULT_CHROMIUM


def write_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print the HTML with headless Chromium, after its scripts have drawn the charts."""
    chromium = chromium_path()
    if not Path(chromium).exists():
        raise PdfUnavailable(
            f"the PDF needs Chromium, not found at {chromium} "
            f"(install Debian's `chromium` or set {CHROMIUM_ENV})"
        )
    with tempfile.TemporaryDirectory(prefix="gatewatch-chromium-") as profile:
        result = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                "--virtual-time-budget=20000",
                f"--print-to-pdf={pdf_path}",
                html_path.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=PDF_TIMEOUT_SECONDS,
        )
    if result.returncode != 0 or not pdf_path.exists():
        raise PdfUnavailable(f"Chromium could not print the PDF: {result.stderr.strip()[-300:]}")
