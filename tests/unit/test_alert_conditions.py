"""Each alert rule kind on hand-made traffic with a known answer, delivered to a real local
receiver: burn rate at its exact threshold, shifts at their exact number of standard errors,
the planted divergent provider, a pool change, and an incident that flaps and is still told
once."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pytest

from analytics.jobs import run_jobs
from analytics.settings import AnalyticsSettings
from gatewatch.alerts.deliver import Deliverer, RetryPolicy
from gatewatch.alerts.rules import AlertRule, parse_rules
from gatewatch.alerts.service import deliver, evaluate
from ingest.record import records_to_table
from tests.alert_receiver import Receiver, alert_receiver
from tests.planted_reliability import CODER, WEEK2, planted_traffic
from tests.unit.test_stats_jobs import err, req
from warehouse.db import Warehouse

FAST = RetryPolicy(attempts=3, backoff_seconds=(0.01,), timeout_seconds=5.0)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    wh = Warehouse.open(":memory:")
    yield wh.connection
    wh.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with alert_receiver() as r:
        yield r


def insert(con: duckdb.DuckDBPyConnection, records: list[dict[str, Any]]) -> None:
    """Store the rows as ingested now, so an incremental jobs run picks them up."""
    ingested = int(datetime.now(UTC).timestamp() * 1_000_000)
    records = [{**r, "ingested_at": ingested} for r in records]
    con.register("batch", records_to_table(records))
    con.execute("INSERT INTO requests BY NAME SELECT * FROM batch")
    con.unregister("batch")


def rule(receiver: Receiver, **fields: Any) -> AlertRule:
    (parsed,) = parse_rules([{"webhook": {"url": f"{receiver.url}/{fields['name']}"}, **fields}])
    return parsed


def run_alerts(
    con: duckdb.DuckDBPyConnection,
    rules: list[AlertRule],
    now: datetime,
    settings: AnalyticsSettings | None = None,
) -> None:
    alerts = evaluate(con, rules, settings or AnalyticsSettings(), now)
    deliverer = Deliverer(FAST)
    try:
        deliver(con, alerts, deliverer, clock=lambda: now)
    finally:
        deliverer.close()


def at(clock: str, day: str = "2025-03-05") -> str:
    return f"{day}T{clock}:00+00:00"


def utc(clock: str, day: str = "2025-03-05") -> datetime:
    return datetime.fromisoformat(at(clock, day))


def burst(
    clock: str, provider: str, ok: int, failed: int, error_type: str = "overloaded"
) -> list[dict[str, Any]]:
    return [req(at(clock), provider=provider) for _ in range(ok)] + [
        err(at(clock), error_type, provider=provider) for _ in range(failed)
    ]


def test_burn_rate_fires_at_its_threshold_and_resolves(
    con: duckdb.DuckDBPyConnection, receiver: Receiver
) -> None:
    # SLA 99%: a 1% budget. openai burns 15× over the hour (15 of 100 eligible failed) and 20×
    # over the last 5 minutes (2 of 10): above 14.4× in both. azure burns 14× over the hour:
    # below. Client errors are not eligible; `tiny` has too few requests to be judged.
    insert(con, burst("11:10", "openai", 77, 13) + burst("11:56", "openai", 8, 2))
    insert(con, burst("11:20", "openai", 0, 50, error_type="client_error"))
    insert(con, burst("11:10", "azure", 78, 12) + burst("11:56", "azure", 8, 2))
    insert(con, burst("11:56", "tiny", 0, 5))
    budget = rule(
        receiver,
        name="budget",
        kind="burn_rate",
        windows=[{"long": "1h", "short": "5m", "factor": 14.4}],
    )
    settings = AnalyticsSettings(sla_target=0.99)
    for _ in range(3):  # evaluated after every run: told once
        run_alerts(con, [budget], utc("12:00"), settings)
    (fired,) = receiver.received("/budget")
    assert (fired["state"], fired["key"]) == ("fired", "openai|*")
    (window,) = fired["details"]["windows"]
    assert window["long_burn_rate"] == pytest.approx(15.0)
    assert window["short_burn_rate"] == pytest.approx(20.0)
    assert "15.0× over 1h and 20.0× over 5m" in fired["summary"]
    # Five quiet minutes later the short window has only successes: resolved, once.
    insert(con, burst("12:01", "openai", 10, 0))
    for _ in range(2):
        run_alerts(con, [budget], utc("12:05"), settings)
    assert receiver.states("/budget") == [("fired", "openai|*"), ("resolved", "openai|*")]


def test_tool_call_rate_shift_beyond_n_standard_errors(
    con: duckdb.DuckDBPyConnection, receiver: Receiver
) -> None:
    # 200 of 1000 ok answers end in tool calls the week before, 300 of 1000 the last week:
    # pooled rate 0.25, SE = sqrt(0.25 × 0.75 × 2/1000), z = 0.1 / SE = 5.16.
    def week(day: str, tool_calls: int) -> list[dict[str, Any]]:
        return [
            req(at("12:00", day), finish_reason="tool_calls" if i < tool_calls else "stop")
            for i in range(1000)
        ]

    insert(con, week("2025-03-10", 200) + week("2025-03-17", 300))
    z = 0.1 / math.sqrt(0.25 * 0.75 * 2 / 1000)
    rules = [
        rule(receiver, name=name, kind="shift", metric="tool_call_rate", sigmas=sigmas)
        for name, sigmas in (("under", z - 0.01), ("over", z + 0.01))
    ]
    rules.append(
        rule(receiver, name="thin", kind="shift", metric="tool_call_rate", min_requests=1001)
    )
    for _ in range(2):
        run_alerts(con, rules, utc("00:00", "2025-03-20"))
    (fired,) = receiver.received("/under")
    assert fired["key"] == "openai|openai/gpt-5"
    assert fired["details"]["standard_errors"] == pytest.approx(z)
    assert (fired["details"]["previous_7_days"], fired["details"]["last_7_days"]) == (0.2, 0.3)
    assert receiver.received("/over") == receiver.received("/thin") == []


def test_reasoning_share_shift_uses_the_ratio_estimators_standard_error(
    con: duckdb.DuckDBPyConnection, receiver: Receiver
) -> None:
    # Per request reasoning / output tokens: 20 or 40 of 100 the week before (share 0.3), 30
    # or 50 the last week (0.4); requests without reasoning do not count.
    before = [20, 40] * 100
    after = [30, 50] * 100
    records = [
        req(at("09:00", "2025-03-11"), output_tokens=100, reasoning_tokens=r) for r in before
    ]
    records += [
        req(at("09:00", "2025-03-18"), output_tokens=100, reasoning_tokens=r) for r in after
    ]
    records += [req(at("09:00", "2025-03-18"), output_tokens=100) for _ in range(50)]
    insert(con, records)

    def share_and_se(y: list[int]) -> tuple[float, float]:
        y_arr, x_arr = np.array(y, float), np.full(len(y), 100.0)
        share = y_arr.sum() / x_arr.sum()
        residuals = y_arr - share * x_arr
        return share, residuals.std(ddof=1) / math.sqrt(len(y)) / x_arr.mean()

    (s0, se0), (s1, se1) = share_and_se(before), share_and_se(after)
    z = (s1 - s0) / math.hypot(se0, se1)
    rules = [
        rule(receiver, name=name, kind="shift", metric="reasoning_share", per="all", sigmas=s)
        for name, s in (("under", z - 0.01), ("over", z + 0.01))
    ]
    run_alerts(con, rules, utc("00:00", "2025-03-20"))
    (fired,) = receiver.received("/under")
    assert fired["key"] == "*|*"
    assert fired["details"]["standard_errors"] == pytest.approx(z)
    assert fired["details"]["last_requests"] == 200
    assert receiver.received("/over") == []


@pytest.fixture
def planted(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    insert(con, planted_traffic())
    run_jobs(con, full=True)
    return con


def test_the_planted_divergent_provider_fires_once_and_resolves_once(
    planted: duckdb.DuckDBPyConnection, receiver: Receiver
) -> None:
    divergent = rule(receiver, name="divergent", kind="divergent")
    monday_after = datetime(2026, 3, 23, 8, tzinfo=UTC)
    for days in (0, 1, 2):
        run_alerts(planted, [divergent], monday_after + timedelta(days=days))
    (fired,) = receiver.received("/divergent")
    assert (fired["state"], fired["key"]) == ("fired", f"{CODER}|deepinfra")
    assert "tool-call rate 30.0% vs 50.0%" in fired["summary"]
    # Two weeks on, neither the current nor the last ISO week finds it divergent.
    for _ in range(2):
        run_alerts(planted, [divergent], monday_after + timedelta(days=14))
    assert [state for state, _ in receiver.states("/divergent")] == ["fired", "resolved"]


def test_a_routing_pool_change_is_told_once_and_the_first_pools_are_not(
    planted: duckdb.DuckDBPyConnection, receiver: Receiver
) -> None:
    pools = rule(receiver, name="pools", kind="pool_changed")
    now = datetime(2026, 3, 23, 8, tzinfo=UTC)
    run_alerts(planted, [pools], now)
    assert receiver.received("/pools") == []  # the baseline is recorded, not sent
    baselines = planted.execute(
        "SELECT count(*) FROM alert_events WHERE rule = 'pools' AND state = 'baseline' "
        "AND status = 'recorded'"
    ).fetchall()
    assert baselines == [(2 * 5,)]  # five models, log and webhook
    # A new provider serves CODER as well as its peers: it joins the pool.
    novita = {"provider": "novita", "model": CODER, "output_tokens": 100}
    insert(
        planted,
        [req(f"{WEEK2}T08:00:00+00:00", finish_reason="tool_calls", **novita) for _ in range(100)]
        + [req(f"{WEEK2}T09:00:00+00:00", **novita) for _ in range(100)],
    )
    run_jobs(planted)
    for _ in range(2):
        run_alerts(planted, [pools], now)
    (changed,) = receiver.received("/pools")
    assert (changed["state"], changed["key"]) == ("changed", CODER)
    assert set(changed["details"]["pool"]) == {"together", "fireworks", "novita"}
    assert set(changed["details"]["previous_pool"]) == {"together", "fireworks"}
    assert "(+novita)" in changed["summary"]


def test_a_flapping_incident_is_told_once_opened_and_once_resolved(
    con: duckdb.DuckDBPyConnection, receiver: Receiver
) -> None:
    incident = rule(receiver, name="down", kind="incident")

    def step(records: list[dict[str, Any]], clock: str) -> list[tuple[str, str]]:
        insert(con, records)
        run_jobs(con)
        run_alerts(con, [incident], utc(clock))
        return receiver.states("/down")

    key = "openai|*|2025-03-05T10:00:00Z"
    assert step(burst("10:00", "openai", 0, 12), "10:04") == [("fired", key)]
    # One good bucket: the job's `ongoing` turns false, but the chain may still grow ...
    assert step(burst("10:05", "openai", 5, 0), "10:09") == [("fired", key)]
    # ... and it does: the same incident, not a new one.
    assert step(burst("10:10", "openai", 0, 12), "10:14") == [("fired", key)]
    # Late data moves its first bad bucket earlier: still the same incident.
    assert step(burst("09:55", "openai", 0, 12), "10:14") == [("fired", key)]
    assert step(burst("10:15", "openai", 5, 0), "10:19") == [("fired", key)]
    assert step(burst("10:20", "openai", 5, 0), "10:24") == [("fired", key)]
    # A third good bucket in a row: it can no longer grow (incident_max_good_buckets = 2).
    resolved = step(burst("10:25", "openai", 5, 0), "10:29")
    assert resolved == [("fired", key), ("resolved", key)]
    assert receiver.received("/down")[1]["details"]["started_at"] == "2025-03-05T09:55:00Z"
    assert step([], "11:00") == resolved


def test_an_incident_over_before_anyone_looked_is_told_opened_then_resolved(
    con: duckdb.DuckDBPyConnection, receiver: Receiver
) -> None:
    insert(con, burst("10:00", "openai", 0, 12) + burst("11:00", "openai", 5, 0))
    insert(con, burst("02:00", "azure", 0, 12) + burst("03:00", "azure", 5, 0))
    run_jobs(con)
    incident = rule(receiver, name="down", kind="incident", lookback_hours=6)
    for _ in range(2):
        run_alerts(con, [incident], utc("12:00"))
    key = "openai|*|2025-03-05T10:00:00Z"
    assert receiver.states("/down") == [("fired", key), ("resolved", key)]  # azure: too old
