"""`gatewatch report weekly` as a user runs it: through a running `serve` (the jobs run there,
the report reads its fresh snapshot) and with no server (the CLI opens the file), with the
same numbers either way."""

from __future__ import annotations

from pathlib import Path

from tests.integration.planted_warehouse import planted_warehouse
from tests.integration.server import run_cli, start_serve

WEEK = "2026-W09"  # the last full week of the planted traffic (ends Sunday 2026-03-01)


def report(db: Path, out: Path) -> str:
    result = run_cli(
        "report", "weekly", "--week", WEEK, "--out", str(out), "--format", "md,csv", db=db
    )
    assert result.stdout.split()[0] == str(out / f"{WEEK}.md")
    assert (out / f"{WEEK}-headline.csv").exists()
    text = (out / f"{WEEK}.md").read_text()
    return "\n".join(line for line in text.splitlines() if not line.startswith("_Generated"))


def test_the_report_is_the_same_through_serve_and_without_it(tmp_path: Path) -> None:
    db = tmp_path / "gatewatch.duckdb"
    traffic = planted_warehouse(db, days=14, seed=2, per_day=300)
    served = start_serve(db)
    try:
        through_serve = report(db, tmp_path / "served")
    finally:
        served.stop()
    standalone = report(db, tmp_path / "standalone")

    assert through_serve == standalone
    assert through_serve.startswith(f"# LLM traffic, week {WEEK} (Mon 2026-02-23 – Sun 2026-03-01)")
    in_week = sum(
        1
        for started in traffic.requests["started_at"].to_pylist()
        if started.date().isoformat() >= "2026-02-23"
    )
    assert f"| Requests | {in_week / 1000:.1f}k |" in through_serve
