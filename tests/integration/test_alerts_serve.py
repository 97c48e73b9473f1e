"""Alerts end to end in a real `gatewatch serve`: a provider starts failing, `gatewatch jobs
run` (sent to serve) is followed by one message to the webhook and one to Slack; a restarted
serve resends nothing; once the provider recovers, one resolve message each."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from tests.alert_receiver import Receiver, alert_receiver
from tests.integration.server import Served, run_cli, start_serve


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with alert_receiver() as r:
        yield r


def post_requests(served: Served, records: list[dict]) -> None:
    body = b"\n".join(orjson.dumps(r) for r in records)
    response = httpx.post(
        f"{served.ingest_url}/v1/requests",
        content=body,
        headers={"Content-Type": "application/x-ndjson"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def requests_at(at: datetime, n: int, *, failed: bool, prefix: str) -> list[dict]:
    outcome = (
        {"http_status": 529, "error_type": "overloaded_error"}
        if failed
        else {"finish_reason": "stop", "output_tokens": 10}
    )
    return [
        {
            "request_id": f"{prefix}-{i}",
            "started_at": (at + timedelta(seconds=i)).isoformat(),
            "provider": "anthropic",
            "model": "anthropic/claude-sonnet-4.5",
            **outcome,
        }
        for i in range(n)
    ]


def wait_for(receiver: Receiver, path: str, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.received(path)) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def test_serve_tells_an_outage_once_across_a_restart_and_its_end_once(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "gatewatch.toml"
    config.write_text(
        f"""
[[alerts]]
name = "provider-down"
kind = "incident"
webhook = {{ url = "{receiver.url}/hook" }}
slack = {{ url_env = "GW_TEST_SLACK_WEBHOOK" }}
"""
    )
    monkeypatch.setenv("GATEWATCH_CONFIG", str(config))
    monkeypatch.setenv("GW_TEST_SLACK_WEBHOOK", f"{receiver.url}/slack")
    db = tmp_path / "alerts.duckdb"
    now = datetime.now(UTC)
    bucket = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    failing_since = bucket - timedelta(minutes=10)

    served = start_serve(db)
    try:
        assert "alerts     1 rule(s)" in served.log_text()
        post_requests(served, requests_at(failing_since, 12, failed=True, prefix="down"))
        run_cli("jobs", "run", db=db)
        wait_for(receiver, "/slack", 1)
        run_cli("jobs", "run", db=db)
    finally:
        served.stop()
    (opened,) = receiver.received("/hook")
    assert (opened["state"], opened["details"]["provider"]) == ("fired", "anthropic")
    assert opened["details"]["failed_requests"] == 12
    (slack,) = receiver.received("/slack")
    assert "anthropic: incident since" in slack["text"]

    served = start_serve(db)
    try:
        run_cli("jobs", "run", db=db)  # nothing new: told already, before the restart
        for minutes in (5, 10, 15):  # three good buckets after the last bad one
            good = requests_at(
                failing_since + timedelta(minutes=minutes), 5, failed=False, prefix=f"ok{minutes}"
            )
            post_requests(served, good)
        run_cli("jobs", "run", db=db)
        wait_for(receiver, "/slack", 2)
    finally:
        served.stop()
    assert receiver.states("/hook") == [("fired", opened["key"]), ("resolved", opened["key"])]
    assert len(receiver.received("/slack")) == 2
    states = run_cli(
        "sql",
        "SELECT target, state, status FROM alert_events ORDER BY sent_at",
        "--format",
        "csv",
        db=db,
    ).stdout.splitlines()
    assert states == [
        "target,state,status",
        "log,fired,sent",
        "webhook,fired,sent",
        "slack,fired,sent",
        "log,resolved,sent",
        "webhook,resolved,sent",
        "slack,resolved,sent",
    ]
