"""The config file's `[[prices]]`: parsed into prices the jobs use, every mistake refused with
the entry and the field named."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from analytics.prices import Price
from gatewatch.cli import cli
from gatewatch.errors import GatewatchError
from gatewatch.user_config import analytics_values, load_user_config

PRICES = """
[[prices]]
model = "openai/gpt-4o"
input = 2.5
cached = 1.25
output = 10
reasoning = 12
valid_until = 2025-06-01

[[prices]]
model = "openai/gpt-4o"
input = 2
output = 8
valid_from = 2025-06-01

[[prices]]
model = "openai/gpt-4o"
provider = "azure"
input = 3
cache_write = 3.75
output = 11
valid_from = 2025-03-01T12:00:00+02:00
valid_until = "2025-09-01"
"""


def load(tmp_path: Path, text: str) -> tuple[Price, ...]:
    path = tmp_path / "gatewatch.toml"
    path.write_text(text)
    user = load_user_config(str(path))
    assert user.analytics.prices == user.prices  # the jobs get what the file says
    return user.prices


def test_prices_are_read_in_file_order(tmp_path: Path) -> None:
    june = datetime(2025, 6, 1, tzinfo=UTC)
    assert load(tmp_path, PRICES) == (
        Price("openai/gpt-4o", 2.5, 10.0, cached=1.25, reasoning=12.0, valid_until=june),
        Price("openai/gpt-4o", 2.0, 8.0, valid_from=june),
        Price(
            "openai/gpt-4o",
            3.0,
            11.0,
            cache_write=3.75,
            provider="azure",
            valid_from=datetime(2025, 3, 1, 12, tzinfo=timezone(timedelta(hours=2))),
            valid_until=datetime(2025, 9, 1, tzinfo=UTC),
        ),
    )


def test_no_prices_section_means_defaults_only(tmp_path: Path) -> None:
    assert load(tmp_path, '[tiers]\n"acme/*" = "frontier"\n') == ()


def test_prices_are_not_listed_as_numeric_settings(tmp_path: Path) -> None:
    path = tmp_path / "gatewatch.toml"
    path.write_text(PRICES)
    names = [name for name, _, _ in analytics_values(load_user_config(str(path)).analytics)]
    assert "prices" not in names and "sla_target" in names


ENTRY = '[[prices]]\nmodel = "v/m"\ninput = 1\noutput = 2\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[prices]\nmodel = "v/m"\n', "prices must be an array of tables"),
        ('[[prices]]\nmodel = "v/m"\noutput = 2\n', "[[prices]] #1 (v/m): missing input"),
        ("[[prices]]\ninput = 1\noutput = 2\n", "[[prices]] #1: missing model"),
        (ENTRY + "colour = 1\n", "[[prices]] #1 (v/m): unknown field(s) colour"),
        (ENTRY.replace('"v/m"', '"GPT-4o"'), "model 'GPT-4o' is not a canonical model id"),
        (ENTRY + 'provider = "My Azure"\n', "provider 'My Azure' is not a provider slug"),
        (ENTRY.replace("input = 1", 'input = "1"'), "(v/m): input must be a number"),
        (ENTRY.replace("output = 2", "output = -2"), "(v/m): output -2 must be a finite number"),
        (ENTRY.replace("input = 1", "input = nan"), "(v/m): input nan must be a finite number"),
        (ENTRY + "cached = true\n", "(v/m): cached must be a number"),
        (ENTRY + 'valid_from = "soon"\n', "(v/m): valid_from 'soon' is not a date"),
        (ENTRY + "valid_until = 12\n", "(v/m): valid_until must be a date"),
        (
            ENTRY + "valid_from = 2025-06-01\nvalid_until = 2025-06-01\n",
            "(v/m): valid_from must be before valid_until",
        ),
        (
            ENTRY + "valid_until = 2025-06-02\n" + ENTRY + "valid_from = 2025-06-01\n",
            "v/m on any provider: two entries overlap in time",
        ),
        (ENTRY + ENTRY, "v/m on any provider: two entries overlap in time"),
        (
            ENTRY + 'provider = "x"\n' + ENTRY + 'provider = "x"\n',
            "v/m on x: two entries overlap in time",
        ),
    ],
)
def test_mistakes_name_the_entry_and_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(GatewatchError, match=re.escape(message)):
        load(tmp_path, text)


def test_adjacent_periods_and_other_providers_do_not_overlap(tmp_path: Path) -> None:
    text = (
        ENTRY
        + "valid_until = 2025-06-01\n"
        + ENTRY
        + "valid_from = 2025-06-01\n"
        + ENTRY
        + 'provider = "x"\n'
    )
    assert len(load(tmp_path, text)) == 3


def test_config_show_lists_the_prices_and_the_built_in_ones_still_in_effect(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gatewatch.toml"
    path.write_text(PRICES)
    args = ["--config", str(path), "--db", str(tmp_path / "g.duckdb"), "config", "show"]
    shown = CliRunner().invoke(cli, [*args, "--builtin", "--format", "csv"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert (
        "prices,openai/gpt-4o on azure [2025-03-01T12:00:00+02:00 .. 2025-09-01T00:00:00+00:00),"
        f'"input 3, cache_write 3.75, output 11 USD per million tokens",{path}'
    ) in lines
    assert (
        'prices,openai/gpt-4o-mini on any provider,"input 0.15, cached 0.075, output 0.6 USD '
        'per million tokens",built-in'
    ) in lines
    # the file prices gpt-4o, so none of its built-in rows is in effect
    assert not [line for line in lines if "gpt-4o on any provider" in line and "built-in" in line]
