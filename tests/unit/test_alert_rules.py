"""`[[alerts]]` in the config file: every rule kind read with its defaults, every bad field
named in the error, webhook URLs from the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gatewatch.alerts.rules import SRE_WINDOWS, BurnWindow, RuleError, Target
from gatewatch.errors import GatewatchError
from gatewatch.user_config import load_user_config

RULES = """
[[alerts]]
name = "provider-down"
kind = "incident"
slack = { url_env = "GW_TEST_SLACK" }
webhook = { url = "http://127.0.0.1:9/hook" }

[[alerts]]
name = "budget"
kind = "burn_rate"
per = "provider_model"
windows = [{ long = "2h", short = "10m", factor = 10 }]

[[alerts]]
name = "tools"
kind = "shift"
metric = "tool_call_rate"
sigmas = 4

[[alerts]]
name = "divergent"
kind = "divergent"

[[alerts]]
name = "pools"
kind = "pool_changed"
"""


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "gatewatch.toml"
    path.write_text(text)
    return load_user_config(str(path))


def test_rules_are_read_with_their_defaults(tmp_path: Path) -> None:
    down, budget, tools, divergent, pools = load(tmp_path, RULES).alerts
    assert (down.name, down.kind, down.per, down.lookback_hours) == (
        "provider-down",
        "incident",
        "provider",
        24.0,
    )
    assert down.targets == (
        Target("log"),
        Target("webhook", url="http://127.0.0.1:9/hook"),
        Target("slack", url_env="GW_TEST_SLACK"),
    )
    assert budget.windows == (BurnWindow(120, 10, 10.0),)
    assert (budget.per, budget.min_requests) == ("provider_model", 10)
    assert (tools.metric, tools.sigmas, tools.per, tools.min_requests) == (
        "tool_call_rate",
        4.0,
        "provider_model",
        100,
    )
    assert divergent.targets == pools.targets == (Target("log"),)
    assert load(tmp_path, "[[alerts]]\nname = 'b'\nkind = 'burn_rate'").alerts[0].windows == (
        SRE_WINDOWS
    )
    assert load(tmp_path, "").alerts == ()


def test_a_url_from_the_environment_is_read_when_delivering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = load(tmp_path, RULES).alerts[0].targets[2]
    monkeypatch.delenv("GW_TEST_SLACK", raising=False)
    with pytest.raises(RuleError, match="environment variable GW_TEST_SLACK is not set"):
        slack.resolve_url()
    monkeypatch.setenv("GW_TEST_SLACK", "https://hooks.slack.com/services/T/B/x")
    assert slack.resolve_url() == "https://hooks.slack.com/services/T/B/x"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("alerts = 3", "alerts: use [[alerts]] tables"),
        ("[[alerts]]\nname = 'a'", "alerts[0].kind: missing"),
        ("[[alerts]]\nname = 'a'\nkind = 'foo'", "alerts[0].kind: unknown kind 'foo'"),
        ("[[alerts]]\nkind = 'incident'", "alerts[0].name: missing"),
        ("[[alerts]]\nname = 'a b'\nkind = 'incident'", "alerts[0].name: 'a b'"),
        (
            "[[alerts]]\nname = 'a'\nkind = 'incident'\n[[alerts]]\nname = 'a'\nkind = 'divergent'",
            "alerts[1].name: 'a' is used by alerts[0] too",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'divergent'\nsigmas = 3",
            "alerts[0].sigmas: unknown field for kind 'divergent'",
        ),
        ("[[alerts]]\nname = 'a'\nkind = 'incident'\nper = 'model'", "alerts[0].per: 'model'"),
        (
            "[[alerts]]\nname = 'a'\nkind = 'incident'\nlookback_hours = -1",
            "alerts[0].lookback_hours: -1 is not at least 0",
        ),
        ("[[alerts]]\nname = 'a'\nkind = 'shift'", "alerts[0].metric: missing"),
        (
            "[[alerts]]\nname = 'a'\nkind = 'shift'\nmetric = 'latency'",
            "alerts[0].metric: 'latency' is not one of tool_call_rate, reasoning_share",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'shift'\nmetric = 'tool_call_rate'\nsigmas = 0",
            "alerts[0].sigmas: 0 is not above 0",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'shift'\nmetric = 'tool_call_rate'\nmin_requests = 1.5",
            "alerts[0].min_requests: expected a whole number",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'burn_rate'\nwindows = [{ long = '5m', short = '1h', "
            "factor = 2 }]",
            "alerts[0].windows[0].short: must be shorter than long",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'burn_rate'\nwindows = [{ long = '1h', short = '5m' }]",
            "alerts[0].windows[0].factor: missing",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'burn_rate'\nwindows = [{ long = 'soon', short = '5m', "
            "factor = 2 }]",
            "alerts[0].windows[0].long: not a duration: 'soon'",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'incident'\nwebhook = { url = 'ftp://x' }",
            "alerts[0].webhook.url: 'ftp://x' is not an http(s) URL",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'incident'\nslack = { url = 'https://x', "
            "url_env = 'X' }",
            "alerts[0].slack: give exactly one of url and url_env",
        ),
        (
            "[[alerts]]\nname = 'a'\nkind = 'incident'\nslack = { url_env = 'not a name' }",
            "alerts[0].slack.url_env: 'not a name' is not an environment variable name",
        ),
    ],
)
def test_bad_rules_name_the_field(tmp_path: Path, rules: str, message: str) -> None:
    with pytest.raises(GatewatchError, match=re.escape(message)):
        load(tmp_path, rules)
