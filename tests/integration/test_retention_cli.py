"""`gatewatch retention run` as a user runs it, and serve's own scheduled retention, on a
planted warehouse whose traffic is all older than the 90 days kept: the dry run says what
would go, serve deletes it on its first run while the daily stats stay as they were, the
command works through serve, and `--compact` (serve stopped) shrinks the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import orjson
import pytest

from tests.integration.planted_warehouse import planted_warehouse
from tests.integration.server import run_cli, start_serve
from warehouse.retention import cutoff

STATS_QUERY = "SELECT * FROM stats_daily ORDER BY ALL"


def _json_rows(db: Path, query: str) -> list[dict]:
    out = run_cli("sql", query, "--format", "json", db=db).stdout
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]


def _local_rows(db: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def test_dry_run_then_serve_deletes_old_rows_and_keeps_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gatewatch.toml"
    config.write_text("[retention]\nrequests_days = 90\ndelete_batch_rows = 2000\n")
    monkeypatch.setenv("GATEWATCH_CONFIG", str(config))
    db = tmp_path / "g.duckdb"
    traffic = planted_warehouse(db, days=14, seed=5, per_day=400)
    total = traffic.requests.num_rows
    stats = _local_rows(db, STATS_QUERY)
    expected_cutoff = cutoff(dt.datetime.now(dt.UTC), 90).date().isoformat()

    dry = run_cli("retention", "run", "--dry-run", db=db).stdout
    assert f"requests: would delete {total:,} row(s) before {expected_cutoff}" in dry
    assert "started 2026-02-16 … 2026-03-01" in dry
    assert _local_rows(db, "SELECT count(*) FROM requests") == [(total,)]

    served = start_serve(db)  # its first jobs run is followed by retention
    try:
        through = run_cli("retention", "run", db=db)
        assert "retention ran in gatewatch serve" in through.stderr
        assert "requests: deleted " in through.stdout
        assert _json_rows(db, "SELECT count(*) AS n FROM requests") == [{"n": 0}]
        refused = run_cli("retention", "run", "--compact", db=db, check=False)
        assert refused.returncode == 1 and "stop serve" in refused.stderr
    finally:
        served.stop()

    size = db.stat().st_size
    compacted = run_cli("retention", "run", "--compact", db=db).stdout
    assert "compacted:" in compacted
    assert db.stat().st_size < size
    assert _local_rows(db, STATS_QUERY) == stats  # the history stays
    assert _local_rows(db, "SELECT count(*) FROM requests") == [(0,)]
