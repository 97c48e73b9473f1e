"""`gatewatch routing export` as a user runs it, on a database filled with generated traffic:
without a server (the CLI opens the file read-only) and through a running `serve`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sample_data.truths import TRUTHS
from tests.integration.planted_warehouse import planted_warehouse
from tests.integration.server import run_cli, start_serve
from warehouse.db import Warehouse

MODEL = TRUTHS.divergent_model

# The planted divergent provider is ignored; its peers are ranked, fireworks first (the
# sample catalogue makes it 10 % faster than together, at equal uptime).
OPENROUTER = {
    "model": MODEL,
    "provider": {
        "order": ["fireworks", "together"],
        "ignore": ["deepinfra"],
        "allow_fallbacks": True,
    },
}
LITELLM = {
    "model_list": [
        {
            "model_name": MODEL,
            "litellm_params": {
                "model": "fireworks_ai/accounts/fireworks/models/qwen3-coder-480b-a35b-instruct",
                "order": 1,
            },
        },
        {
            "model_name": MODEL,
            "litellm_params": {
                "model": "together_ai/Qwen/Qwen3-Coder-480B-A35B-Instruct",
                "order": 2,
            },
        },
    ]
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "gatewatch.duckdb"
    planted_warehouse(path, days=42, seed=1, per_day=1500)
    return path


def export(db: Path, *args: str) -> object:
    return json.loads(run_cli("routing", "export", *args, db=db).stdout)


def test_openrouter_and_litellm_without_a_server(db: Path, tmp_path: Path) -> None:
    assert export(db, "--format", "openrouter", "--model", MODEL) == OPENROUTER
    assert export(db, "--format", "litellm", "--model", MODEL) == LITELLM
    every = export(db, "--format", "openrouter")
    assert OPENROUTER in every and len(every) == 7
    out = tmp_path / "litellm.json"
    run_cli("routing", "export", "--format", "litellm", "--out", str(out), db=db)
    listed = json.loads(out.read_text())["model_list"]
    assert [d for d in listed if d["model_name"] == MODEL] == LITELLM["model_list"]


@pytest.mark.integration
def test_through_a_running_serve(db: Path) -> None:
    served = start_serve(db)
    try:
        assert export(db, "--format", "openrouter", "--model", MODEL) == OPENROUTER
    finally:
        served.stop()


def test_errors_are_one_line(db: Path, tmp_path: Path) -> None:
    unknown = run_cli(
        "routing", "export", "--format", "openrouter", "--model", "x/y", db=db, check=False
    )
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: no routing pool for model 'x/y' (known: ")
    empty = tmp_path / "empty.duckdb"
    Warehouse.open(empty).close()
    result = run_cli("routing", "export", "--format", "litellm", db=empty, check=False)
    assert result.returncode == 1
    assert result.stderr == "error: routing_pools is empty: run `gatewatch jobs run` first\n"
