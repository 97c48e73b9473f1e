"""Alerts on the planted outage of the sample traffic, replayed as it would arrive: the rows
of each quarter hour are stored, the jobs run, the rules are evaluated (twice) at that time and
their messages delivered to a real local receiver. The outage (anthropic, 13:00–16:30 UTC, 85% of
its requests failing) opens exactly one incident alert and one burn-rate alert, each resolved
exactly once after it ends; nothing else fires."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from analytics.jobs import run_jobs
from analytics.settings import AnalyticsSettings
from gatewatch.alerts.deliver import Deliverer, RetryPolicy
from gatewatch.alerts.rules import parse_rules
from gatewatch.alerts.service import deliver, evaluate
from sample_data.generator import generate, outage_day_index
from sample_data.truths import TRUTHS
from tests.alert_receiver import Receiver, alert_receiver
from warehouse.db import Warehouse

DAYS = 4
END = date(2026, 3, 1)
REQUESTS_PER_DAY = 3000  # as in test_planted_uptime: every edge of the outage is observable
STEP = timedelta(minutes=15)
# The planted baseline fails 0.5% of requests at the provider, five times a 99.9% budget:
# a 99% target keeps the baseline inside its budget, so only the outage burns it.
SETTINGS = AnalyticsSettings(sla_target=0.99)
TOLERANCE = timedelta(minutes=30)


def outage_window() -> tuple[datetime, datetime]:
    day = END - timedelta(days=DAYS - 1) + timedelta(days=outage_day_index(TRUTHS, DAYS))
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return (
        midnight + timedelta(minutes=TRUTHS.outage_start_minute),
        midnight + timedelta(minutes=TRUTHS.outage_end_minute),
    )


def store(wh: Warehouse, rows: pa.Table, since: datetime, until: datetime) -> None:
    """The rows that started in [since, until), as ingested now (for the incremental jobs)."""
    started = rows["started_at"]
    chunk = rows.filter(
        pc.and_(pc.greater_equal(started, pa.scalar(since)), pc.less(started, pa.scalar(until)))
    )
    stamp = pa.array([datetime.now(UTC)] * len(chunk), pa.timestamp("us", tz="UTC"))
    chunk = chunk.set_column(chunk.schema.get_field_index("ingested_at"), "ingested_at", stamp)
    wh.connection.register("chunk", chunk)
    wh.connection.execute("INSERT INTO requests BY NAME SELECT * FROM chunk")
    wh.connection.unregister("chunk")


@pytest.fixture(scope="module")
def replay() -> Iterator[tuple[Receiver, dict[str, list[datetime]]]]:
    """Replay the outage in 15-minute steps, from half an hour before it to 75 minutes after,
    then the rest of the day at once; per rule, when each message arrived."""
    rows = generate(DAYS, end=END, seed=1, requests_per_day=REQUESTS_PER_DAY).requests
    start, end = outage_window()
    with alert_receiver() as receiver:
        rules = parse_rules(
            [
                {"name": name, "kind": kind, "webhook": {"url": f"{receiver.url}/{name}"}}
                for name, kind in (("down", "incident"), ("budget", "burn_rate"))
            ]
        )
        arrivals: dict[str, list[datetime]] = {"down": [], "budget": []}
        wh = Warehouse.open(":memory:")
        deliverer = Deliverer(RetryPolicy(attempts=1))
        try:
            now = start - timedelta(minutes=30)
            store(wh, rows, datetime(2000, 1, 1, tzinfo=UTC), now)
            run_jobs(wh.connection, full=True, settings=SETTINGS)
            while now < end + timedelta(hours=5):
                step = STEP if now < end + timedelta(minutes=75) else timedelta(hours=4)
                store(wh, rows, now, now + step)
                now += step
                run_jobs(wh.connection, settings=SETTINGS)
                for _ in range(2):
                    alerts = evaluate(wh.connection, rules, SETTINGS, now)
                    deliver(wh.connection, alerts, deliverer, clock=lambda at=now: at)
                for name in arrivals:
                    arrivals[name] += [now] * (
                        len(receiver.received(f"/{name}")) - len(arrivals[name])
                    )
            yield receiver, arrivals
        finally:
            deliverer.close()
            wh.close()


def test_the_outage_opens_one_incident_alert_and_resolves_it_once(
    replay: tuple[Receiver, dict[str, list[datetime]]],
) -> None:
    receiver, arrivals = replay
    start, end = outage_window()
    (opened, resolved) = receiver.received("/down")
    assert (opened["state"], resolved["state"]) == ("fired", "resolved")
    assert opened["key"] == resolved["key"]
    assert opened["details"]["provider"] == TRUTHS.outage_provider
    assert opened["details"]["model"] is None
    started_at = datetime.fromisoformat(opened["details"]["started_at"])
    ended_at = datetime.fromisoformat(resolved["details"]["ended_at"])
    assert abs(started_at - start) <= timedelta(minutes=15)
    assert abs(ended_at - end) <= timedelta(minutes=15)
    assert resolved["details"]["top_error_type"] == "overloaded"
    told_open, told_over = arrivals["down"]
    assert start < told_open <= start + TOLERANCE
    assert end < told_over <= end + TOLERANCE


def test_the_outage_burns_the_error_budget_once(
    replay: tuple[Receiver, dict[str, list[datetime]]],
) -> None:
    receiver, arrivals = replay
    start, end = outage_window()
    assert receiver.states("/budget") == [
        ("fired", f"{TRUTHS.outage_provider}|*"),
        ("resolved", f"{TRUTHS.outage_provider}|*"),
    ]
    fired = receiver.received("/budget")[0]
    burns = [w["long_burn_rate"] for w in fired["details"]["windows"]]
    assert max(burns) > 14.4  # 85% failing is 85× a 1% budget, diluted by the long window
    told_fired, told_resolved = arrivals["budget"]
    assert start < told_fired <= start + TOLERANCE
    # The 30-minute window clears half an hour after recovery, the 5-minute one sooner.
    assert end < told_resolved <= end + TOLERANCE + timedelta(minutes=10)
