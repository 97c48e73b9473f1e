"""Write the weekly report in the requested formats into a folder."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb

from analytics.report.render import render_html, render_markdown, write_csvs, write_pdf
from analytics.report.weekly import build_weekly_report

FORMATS = ("html", "md", "csv", "pdf")


def parse_formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(
            f"unknown report format(s) {', '.join(unknown) or '(none)'}; "
            f"choose from {','.join(FORMATS)}"
        )
    return formats


def write_weekly_report(
    con: duckdb.DuckDBPyConnection,
    week_start: date,
    out_dir: Path,
    formats: Sequence[str],
    *,
    generated_at: datetime,
) -> list[Path]:
    """The files written, in the order of `formats` (the PDF is printed from the HTML)."""
    report = build_weekly_report(con, week_start, generated_at=generated_at)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / report.label
    written: list[Path] = []
    html_path = stem.with_suffix(".html")
    if "html" in formats or "pdf" in formats:
        html_path.write_text(render_html(report), encoding="utf-8")
    for fmt in formats:
        if fmt == "html":
            written.append(html_path)
        elif fmt == "md":
            path = stem.with_suffix(".md")
            path.write_text(render_markdown(report), encoding="utf-8")
            written.append(path)
        elif fmt == "csv":
            written.extend(write_csvs(report, out_dir))
        elif fmt == "pdf":
            path = stem.with_suffix(".pdf")
            write_pdf(html_path, path)
            written.append(path)
    if "html" not in formats and "pdf" in formats:
        html_path.unlink()  # only the PDF's source
    return written
