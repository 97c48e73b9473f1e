"""The `[retention]` section: defaults, whole days, and every mistake refused with the field
named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatewatch.errors import GatewatchError
from gatewatch.user_config import load_user_config
from warehouse.retention_settings import RetentionSettings


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "gatewatch.toml"
    path.write_text(text)
    return load_user_config(str(path))


def test_defaults_keep_90_days_of_requests(tmp_path: Path) -> None:
    assert _load(tmp_path, "").retention == RetentionSettings()
    assert RetentionSettings().requests_days == 90


def test_settings_are_read_and_zero_keeps_forever(tmp_path: Path) -> None:
    user = _load(tmp_path, "[retention]\nrequests_days = 0\ntool_spans_days = 30\n")
    assert (user.retention.requests_days, user.retention.tool_spans_days) == (0, 30)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[retention]\nrequest_days = 30", "unknown setting(s) request_days"),
        ("[retention]\nrequests_days = 30.5", "requests_days: expected a whole number"),
        ("[retention]\nrequests_days = true", "requests_days: expected a whole number"),
        ("[retention]\ntool_spans_days = -1", "tool_spans_days: -1 is not at least 0"),
        ("[retention]\ndelete_batch_rows = 10", "delete_batch_rows: 10 is not at least 1000"),
        ("retention = 30", "[retention] must be a table"),
        ("[retention]\nrequests_days = 14", "requests_days: 14 is shorter than [analytics]"),
        (
            "[analytics]\nrouting_window_days = 60\n[retention]\nrequests_days = 45",
            "routing_window_days (60)",
        ),
    ],
)
def test_mistakes_are_refused_with_the_field_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(GatewatchError, match="retention") as error:
        _load(tmp_path, text)
    assert message in str(error.value)
