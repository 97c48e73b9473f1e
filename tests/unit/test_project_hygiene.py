"""The project's public surfaces stay documented, and package arrows point one way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from gatewatch.cli import cli
from warehouse.schema import REQUESTS_COLUMNS, REQUESTS_JOB_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SCHEMA_DOC = (ROOT / "docs" / "schema.md").read_text()


def leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[list[str]]:
    """Every runnable command of the CLI, found in its own command tree."""
    found: list[list[str]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += leaf_commands(command, (*prefix, name))
        else:
            found.append([*prefix, name])
    return found


COMMANDS = leaf_commands(cli)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_and_is_in_the_readme(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert f"`gatewatch {' '.join(command)}" in README


def test_every_requests_column_is_documented() -> None:
    for column in (*REQUESTS_COLUMNS, *REQUESTS_JOB_COLUMNS):
        assert f"| `{column.name}` | {column.sql_type} |" in SCHEMA_DOC


# package → packages it must never import
FORBIDDEN_IMPORTS = {
    "ingest.app": ["analytics", "dashboard", "gatewatch"],
    "warehouse.db": ["ingest", "analytics", "dashboard", "gatewatch"],
    "analytics.jobs": ["ingest", "dashboard", "gatewatch"],
    "dashboard.app": ["ingest", "gatewatch"],
}


@pytest.mark.parametrize("module", sorted(FORBIDDEN_IMPORTS))
def test_package_arrows_point_one_way(module: str) -> None:
    code = (
        f"import sys, {module}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert not set(FORBIDDEN_IMPORTS[module]) & set(loaded)


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gatewatch.cli", "--db", str(tmp_path / "x.duckdb"), "sql", "x"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: no database at")
    assert "Traceback" not in result.stderr
