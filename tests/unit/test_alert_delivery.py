"""Delivering alerts to a real local receiver: the webhook's JSON and Slack's text, retries on
a flaky receiver, a broken or dead one, the record in `alert_events` that makes a restart
resend nothing, the serve hook that never holds up the jobs, and `gatewatch alerts test`."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analytics.jobs import run_jobs
from analytics.settings import AnalyticsSettings
from gatewatch.alerts.deliver import Deliverer, RetryPolicy
from gatewatch.alerts.rules import AlertRule, parse_rules
from gatewatch.alerts.service import AlertHook, deliver, evaluate
from gatewatch.alerts.state import MAX_FAILED_ROUNDS
from gatewatch.cli import cli
from gatewatch.errors import GatewatchError
from gatewatch.jobs import JobRunner
from tests.alert_receiver import Receiver, alert_receiver
from tests.unit.test_alert_conditions import burst, insert, utc
from warehouse.db import Warehouse

FAST = RetryPolicy(attempts=3, backoff_seconds=(0.01,), timeout_seconds=5.0)
NOW = utc("10:30")
KEY = "openai|*|2025-03-05T10:00:00Z"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with alert_receiver() as r:
        yield r


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    """A file with one open incident: openai failing since 10:00."""
    wh = Warehouse.open(tmp_path / "alerts.duckdb")
    insert(wh.connection, burst("10:00", "openai", 0, 12))
    run_jobs(wh.connection)
    yield wh
    wh.close()


def incident_rule(receiver: Receiver, **targets: Any) -> AlertRule:
    (rule,) = parse_rules(
        [
            {
                "name": "down",
                "kind": "incident",
                "webhook": {"url": f"{receiver.url}/hook"},
                "slack": {"url": f"{receiver.url}/slack"},
                **targets,
            }
        ]
    )
    return rule


def round_at(wh: Warehouse, rule: AlertRule, policy: RetryPolicy = FAST) -> list[tuple]:
    """One evaluation and delivery round; the outcomes as (state, target, status, attempts)."""
    deliverer = Deliverer(policy)
    try:
        alerts = evaluate(wh.connection, [rule], AnalyticsSettings(), NOW)
        done = deliver(wh.connection, alerts, deliverer, clock=lambda: NOW)
    finally:
        deliverer.close()
    return [(a.state, a.target.kind, o.status, o.attempts) for a, o in done]


def events(wh: Warehouse) -> list[tuple]:
    return wh.connection.execute(
        "SELECT state, target, status, attempts, http_status FROM alert_events ORDER BY rowid"
    ).fetchall()


def test_webhook_json_slack_text_and_a_log_line(
    warehouse: Warehouse, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    assert round_at(warehouse, incident_rule(receiver)) == [
        ("fired", "log", "sent", 1),
        ("fired", "webhook", "sent", 1),
        ("fired", "slack", "sent", 1),
    ]
    (hook,) = receiver.received("/hook")
    assert hook["source"] == "gatewatch"
    assert (hook["rule"], hook["kind"], hook["key"], hook["state"]) == (
        "down",
        "incident",
        KEY,
        "fired",
    )
    assert hook["details"]["failed_requests"] == 12
    assert hook["details"]["top_error_type"] == "overloaded"
    (slack,) = receiver.received("/slack")
    assert set(slack) == {"text"}
    assert slack["text"].startswith(":red_circle: *gatewatch down* (fired): openai: incident since")
    assert f"alert down fired [{KEY}]: openai: incident since" in caplog.text
    stored = warehouse.connection.execute(
        "SELECT payload->>'summary', payload->'details'->>'provider' FROM alert_events "
        "WHERE target = 'webhook'"
    ).fetchall()
    assert stored == [(hook["summary"], "openai")]


def test_a_flaky_receiver_is_retried_with_backoff(warehouse: Warehouse, receiver: Receiver) -> None:
    receiver.fail("/hook", 503, times=2)
    receiver.fail("/slack", 429, times=1)
    assert round_at(warehouse, incident_rule(receiver)) == [
        ("fired", "log", "sent", 1),
        ("fired", "webhook", "sent", 3),
        ("fired", "slack", "sent", 2),
    ]
    assert receiver.requests == {"/hook": 3, "/slack": 2}
    assert len(receiver.received("/hook")) == 1


def test_a_broken_receiver_is_given_up_on_after_bounded_rounds(
    warehouse: Warehouse, receiver: Receiver
) -> None:
    receiver.fail("/hook", 404, times=1000)  # a final answer: not retried within the round
    rule = incident_rule(receiver)
    first = round_at(warehouse, rule)
    assert first == [
        ("fired", "log", "sent", 1),
        ("fired", "webhook", "failed", 1),
        ("fired", "slack", "sent", 1),
    ]
    for _ in range(MAX_FAILED_ROUNDS + 2):
        round_at(warehouse, rule)
    # Tried again at the next rounds (the receiver may be back), then given up on.
    assert receiver.requests["/hook"] == MAX_FAILED_ROUNDS
    assert [e for e in events(warehouse) if e[1] == "webhook"] == [
        ("fired", "webhook", "failed", 1, 404)
    ] * MAX_FAILED_ROUNDS
    assert len(receiver.received("/slack")) == 1


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_dead_receiver_costs_one_message_per_round_and_is_sent_later(
    warehouse: Warehouse, receiver: Receiver
) -> None:
    insert(warehouse.connection, burst("10:00", "azure", 0, 12))
    run_jobs(warehouse.connection)
    dead = closed_port_url()
    rule = incident_rule(receiver, webhook={"url": dead})
    started = time.monotonic()
    outcomes = round_at(warehouse, rule)
    assert time.monotonic() - started < 5
    # The first message fails after every attempt; the second is not tried against it.
    assert [o for o in outcomes if o[1] == "webhook"] == [("fired", "webhook", "failed", 3)]
    texts = [b["text"] for b in receiver.received("/slack")]
    assert [provider in " ".join(texts) for provider in ("azure:", "openai:")] == [True, True]
    # The receiver is back at the next round: both are delivered, nothing twice elsewhere.
    with alert_receiver() as back:
        rule = incident_rule(receiver, webhook={"url": f"{back.url}/hook"})
        assert [o[1:] for o in round_at(warehouse, rule)] == [("webhook", "sent", 1)] * 2
        assert len(back.received("/hook")) == 2
    assert len(receiver.received("/slack")) == 2


def test_a_restart_resends_nothing(tmp_path: Path, receiver: Receiver) -> None:
    path = tmp_path / "restart.duckdb"
    rule = incident_rule(receiver)
    wh = Warehouse.open(path)
    insert(wh.connection, burst("10:00", "openai", 0, 12))
    run_jobs(wh.connection)
    assert len(round_at(wh, rule)) == 3
    wh.close()
    wh = Warehouse.open(path)
    try:
        assert round_at(wh, rule) == []
        insert(wh.connection, [*burst("10:20", "openai", 5, 0), *burst("10:25", "openai", 5, 0)])
        insert(wh.connection, burst("10:30", "openai", 5, 0))
        run_jobs(wh.connection)
        assert [o[0] for o in round_at(wh, rule)] == ["resolved"] * 3
    finally:
        wh.close()
    assert receiver.states("/hook") == [("fired", KEY), ("resolved", KEY)]


def test_the_serve_hook_delivers_after_a_run_without_holding_up_the_jobs(
    tmp_path: Path, receiver: Receiver
) -> None:
    wh = Warehouse.open(tmp_path / "hook.duckdb")
    try:
        insert(wh.connection, burst("10:00", "openai", 0, 12))
        receiver.fail("/hook", 503, times=1)
        slow = RetryPolicy(attempts=2, backoff_seconds=(3.0,), timeout_seconds=5.0)
        hook = AlertHook(
            [incident_rule(receiver)],
            AnalyticsSettings(),
            lambda: wh.connection.cursor(),
            clock=lambda: NOW,
            policy=slow,
        )
        jobs = JobRunner(wh, publish=False, after_run=[hook])
        jobs.run()
        assert not hook.wait(timeout=0)  # the run is over; delivery waits out its backoff
        jobs.run()  # meanwhile: evaluation is skipped, nothing is planned twice
        assert hook.wait(timeout=30)
        assert len(receiver.received("/hook")) == 1
        jobs.run()
        assert hook.wait(timeout=30)
        assert len(receiver.received("/hook")) == 1  # told once, however many runs
        assert [e[2] for e in events(wh)] == ["sent"] * 3
    finally:
        wh.close()


def test_alerts_test_sends_a_sample_to_every_target(tmp_path: Path, receiver: Receiver) -> None:
    config = tmp_path / "gatewatch.toml"
    config.write_text(
        f"""
[[alerts]]
name = "down"
kind = "incident"
webhook = {{ url = "{receiver.url}/hook" }}
slack = {{ url_env = "GW_TEST_SLACK_URL" }}

[[alerts]]
name = "pools"
kind = "pool_changed"
"""
    )
    env = {"GW_TEST_SLACK_URL": f"{receiver.url}/slack"}
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--config", str(config), "alerts", "test", "--rule", "down"], env=env
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "down\tlog\tsent (1 attempt(s))",
        "down\twebhook\tsent HTTP 200 (1 attempt(s))",
        "down\tslack\tsent HTTP 200 (1 attempt(s))",
    ]
    (sample,) = receiver.received("/hook")
    assert (sample["rule"], sample["state"], sample["details"]["sample"]) == ("down", "test", True)
    assert "delivery works" in receiver.received("/slack")[0]["text"]
    assert not (tmp_path / "gatewatch.duckdb").exists()  # no database needed or made

    receiver.fail("/hook", 500, times=100)
    failed = runner.invoke(cli, ["--config", str(config), "alerts", "test"], env=env)
    assert isinstance(failed.exception, GatewatchError)
    assert str(failed.exception) == "1 of 4 deliveries failed"
    unknown = runner.invoke(cli, ["--config", str(config), "alerts", "test", "--rule", "x"])
    assert str(unknown.exception) == "no alert rule named 'x' (rules: down, pools)"


def test_sent_at_is_the_delivery_time(warehouse: Warehouse, receiver: Receiver) -> None:
    round_at(warehouse, incident_rule(receiver))
    (stamps,) = warehouse.connection.execute(
        "SELECT list(DISTINCT sent_at) FROM alert_events"
    ).fetchall()
    assert stamps[0] == [NOW.astimezone(UTC)]
