"""Every test runs isolated from the user's files: its own working folder and database."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GATEWATCH_DB", str(tmp_path / "gatewatch.duckdb"))
    for name in ("GATEWATCH_INGEST_PORT", "GATEWATCH_DASHBOARD_PORT", "GATEWATCH_JOBS_EVERY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path
