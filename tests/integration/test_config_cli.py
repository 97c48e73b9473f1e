"""`gatewatch config show` and the alias file applied by `gatewatch ingest`, as a user runs
them (subprocesses against a real DuckDB file)."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.integration.server import run_cli

ALIASES = """
[providers]
"Acme Gateway" = "acme"
[models]
"prod-chat" = "openai/gpt-4.1"
[apps]
"billing-svc-prod" = "billing"
[tiers]
"acme/*" = "frontier"
[analytics]
sla_target = 0.995
"""


def test_ingest_applies_the_alias_file_and_config_show_lists_it(tmp_path: Path) -> None:
    config = tmp_path / "aliases.toml"
    config.write_text(ALIASES)
    logs = tmp_path / "requests.jsonl"
    logs.write_bytes(
        orjson.dumps(
            {
                "request_id": "r1",
                "started_at": "2026-11-02T10:00:00Z",
                "provider": "Acme Gateway",
                "model": "prod-chat",
                "app": "billing-svc-prod",
            }
        )
    )
    db = tmp_path / "g.duckdb"

    run_cli("--config", str(config), "ingest", str(logs), db=db)
    rows = run_cli(
        "sql", "SELECT provider, model, app FROM requests", "--format", "json", db=db
    ).stdout
    assert orjson.loads(rows) == {"provider": "acme", "model": "openai/gpt-4.1", "app": "billing"}

    shown = run_cli("--config", str(config), "config", "show", "--format", "csv", db=db).stdout
    lines = shown.splitlines()
    assert lines[:4] == [
        "section,key,value,origin",
        f"providers,Acme Gateway,acme,{config}",
        f"models,prod-chat,openai/gpt-4.1,{config}",
        f"apps,billing-svc-prod,billing,{config}",
    ]
    assert f"tiers,acme/*,frontier,{config}" in lines
    assert f"analytics,sla_target,0.995,{config}" in lines
    assert "analytics,divergence_alpha,0.01,default" in lines
    builtin = run_cli("config", "show", "--builtin", "--format", "csv", db=db).stdout
    assert "providers,aws.bedrock,amazon-bedrock,built-in" in builtin.splitlines()


def test_a_broken_alias_file_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "aliases.toml"
    config.write_text("[models]\nprod = 'GPT 4'\n")
    result = run_cli("--config", str(config), "config", "show", db=tmp_path / "g.db", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {config}: [models] 'prod': 'GPT 4' is not a model id like 'openai/gpt-4o' "
        "(lower-case vendor/name)"
    )
