"""The user's alias file: validation with the offending key named, and the mappings applied
to what the ingest path stores."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from gatewatch.errors import GatewatchError
from gatewatch.user_config import apply_user_config, load_user_config
from ingest.payloads import prepare_request_logs

ALIASES = """
[providers]
"My Azure Proxy" = "azure"
[models]
"prod-chat" = "openai/gpt-4.1"
[apps]
"billing-svc-prod" = "billing"
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "aliases.toml"
    path.write_text(text)
    return str(path)


def test_missing_default_file_means_builtin_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWATCH_CONFIG", raising=False)
    assert load_user_config().path is None  # tests run in an empty temporary directory


def test_environment_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWATCH_CONFIG", write(tmp_path, ALIASES))
    user = load_user_config()
    assert user.providers == {"My Azure Proxy": "azure"}
    assert user.models == {"prod-chat": "openai/gpt-4.1"}
    assert user.apps == {"billing-svc-prod": "billing"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[provider]\nx = 'y'", "unknown section(s) provider"),
        ("providers = 3", "[providers] must be a table"),
        ("[providers]\nAcme = ''", "[providers] 'Acme': the value must be a non-empty string"),
        ("[providers]\nAcme = 'Acme Inc'", "[providers] 'Acme': 'Acme Inc' is not a provider slug"),
        ("[models]\nprod = 'gpt-4.1'", "[models] 'prod': 'gpt-4.1' is not a model id"),
        ("[apps]\nsvc = 7", "[apps] 'svc': the value must be a non-empty string"),
        ("[models\n", "not valid TOML"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(GatewatchError, match=re.escape(message)):
        load_user_config(write(tmp_path, text))


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(GatewatchError, match="does not exist"):
        load_user_config(str(tmp_path / "absent.toml"))


@pytest.mark.usefixtures("restore_alias_tables")
def test_mappings_reach_the_stored_rows(tmp_path: Path) -> None:
    apply_user_config(load_user_config(write(tmp_path, ALIASES)))
    records = [
        {
            "request_id": f"r{i}",
            "started_at": "2026-11-02T10:00:00Z",
            "provider": provider,
            "model": model,
            "app": app,
        }
        for i, (provider, model, app) in enumerate(
            [
                ("my azure proxy", "PROD-CHAT", "billing-svc-prod"),
                ("openai", "gpt-4o", "search"),
                ("openai", "gpt-4o", None),
            ]
        )
    ]
    body = b"\n".join(orjson.dumps(r) for r in records)
    table = prepare_request_logs(body).table
    assert table.select(["provider", "model", "app"]).to_pylist() == [
        {"provider": "azure", "model": "openai/gpt-4.1", "app": "billing"},
        {"provider": "openai", "model": "openai/gpt-4o", "app": "search"},
        {"provider": "openai", "model": "openai/gpt-4o", "app": None},
    ]
