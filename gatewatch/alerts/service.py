"""Alerts inside `serve`: evaluated after each batch-job run on the fresh tables, delivered
on a thread of their own.

Evaluation is a few small queries, done in the jobs' after-run hook. Delivery can wait on a
slow or dead receiver (bounded retries), so it runs on its own thread and never holds the
jobs lock; while one delivery round is still running, the next evaluation is skipped rather
than queued, which is what keeps a message from being planned twice. A target that failed a
message is skipped for the rest of the round (a dead receiver costs one message's retries per
round), and its messages are planned again at the next evaluation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import duckdb

from analytics.settings import AnalyticsSettings
from gatewatch.alerts.conditions import rule_conditions
from gatewatch.alerts.deliver import DEFAULT_POLICY, Deliverer, Outcome, RetryPolicy
from gatewatch.alerts.messages import Alert
from gatewatch.alerts.plan import plan
from gatewatch.alerts.rules import AlertRule, RuleError, Target
from gatewatch.alerts.state import latest_by_key, record, told_states

log = logging.getLogger("gatewatch.alerts")

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def evaluate(
    con: duckdb.DuckDBPyConnection,
    rules: Sequence[AlertRule],
    settings: AnalyticsSettings,
    now: datetime,
) -> list[Alert]:
    """Every message due at `now`; a rule that fails to evaluate is logged and skipped."""
    alerts: list[Alert] = []
    for rule in rules:
        try:
            told = told_states(con, rule.name)
            found = rule_conditions(con, rule, settings, now, latest_by_key(told))
            alerts += plan(rule, found, told, now)
        except Exception:  # one broken rule must not silence the others
            log.exception("alert rule %s could not be evaluated", rule.name)
    return alerts


def deliver(
    con: duckdb.DuckDBPyConnection,
    alerts: Sequence[Alert],
    deliverer: Deliverer,
    *,
    stopping: Callable[[], bool] = lambda: False,
    clock: Clock = _utc_now,
) -> list[tuple[Alert, Outcome]]:
    """Send in order and record each outcome; a target that failed is skipped for the rest
    of the round (unrecorded: the next evaluation plans those messages again)."""
    done: list[tuple[Alert, Outcome]] = []
    down: set[Target] = set()
    for alert in alerts:
        if stopping():
            break
        if alert.target in down:
            continue
        outcome = deliverer.send(alert)
        record(con, alert, outcome, clock())
        done.append((alert, outcome))
        if outcome.status == "failed":
            down.add(alert.target)
            log.warning(
                "alert %s to %s failed after %d attempt(s): %s",
                alert.rule,
                alert.target.kind,
                outcome.attempts,
                outcome.error,
            )
    return done


class AlertHook:
    """The JobRunner after-run hook of `serve`."""

    def __init__(
        self,
        rules: Sequence[AlertRule],
        settings: AnalyticsSettings,
        cursor: Callable[[], duckdb.DuckDBPyConnection],
        *,
        clock: Clock = _utc_now,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self.rules = tuple(rules)
        self._settings = settings
        self._cursor = cursor  # a new cursor for the delivery thread's writes
        self._clock = clock
        self._policy = policy
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, con: duckdb.DuckDBPyConnection) -> None:
        if self._thread is not None and self._thread.is_alive():
            log.warning("alerts: the last delivery round is still running; evaluating next run")
            return
        alerts = evaluate(con, self.rules, self._settings, self._clock())
        if not alerts:
            return
        self._thread = threading.Thread(
            target=self._deliver, args=(alerts,), name="gatewatch-alerts", daemon=True
        )
        self._thread.start()

    def _deliver(self, alerts: list[Alert]) -> None:
        deliverer = Deliverer(self._policy, wait=self._stop.wait)
        cursor = self._cursor()
        try:
            deliver(cursor, alerts, deliverer, stopping=self._stop.is_set, clock=self._clock)
        except Exception:  # the next evaluation plans what was not recorded
            log.exception("alerts: delivery round failed")
        finally:
            cursor.close()
            deliverer.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running delivery round; True when none is left running."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Cut backoffs short; messages not yet sent are sent after the restart."""
        self._stop.set()
        self.wait(timeout)

    def unset_environment(self) -> list[str]:
        """`rule: target: problem` for every URL whose environment variable is not set."""
        problems = []
        for rule in self.rules:
            for target in rule.targets:
                if target.url_env is None:
                    continue
                try:
                    target.resolve_url()
                except RuleError as e:
                    problems.append(f"{rule.name}: {target.kind}: {e}")
        return problems
