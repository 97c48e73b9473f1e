"""Sending one message to one target: a log line, or an HTTP POST with bounded retries.

Retried: connection errors, timeouts, 429 and 5xx, with backoff; another 4xx is the
receiver's final answer. The waits go through `wait`, which returns True when serve is
stopping, so a shutdown never sits out a backoff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import orjson

from gatewatch.alerts.messages import Alert
from gatewatch.alerts.rules import RuleError

log = logging.getLogger("gatewatch.alerts")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    backoff_seconds: tuple[float, ...] = (1.0, 4.0)  # before the 2nd, 3rd... attempt
    timeout_seconds: float = 5.0  # per attempt: connect, send and answer


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # sent, failed, or recorded (a baseline: nothing to send)
    attempts: int
    http_status: int | None = None
    error: str | None = None


def json_bytes(value: object) -> bytes:
    return orjson.dumps(value)  # NaN and inf become null: the body stays valid JSON


class Deliverer:
    def __init__(
        self,
        policy: RetryPolicy = DEFAULT_POLICY,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.policy = policy
        self._wait = wait or threading.Event().wait
        self._http = httpx.Client(timeout=policy.timeout_seconds, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def send(self, alert: Alert) -> Outcome:
        if alert.state == "baseline":
            return Outcome("recorded", 0)
        if alert.target.kind == "log":
            log.warning("%s", alert.log_line())
            return Outcome("sent", 1)
        try:
            url = alert.target.resolve_url()
        except RuleError as e:
            return Outcome("failed", 0, error=str(e))
        body = alert.slack_body() if alert.target.kind == "slack" else alert.payload()
        return self._post(url, json_bytes(body))

    def _post(self, url: str, body: bytes) -> Outcome:
        headers = {"Content-Type": "application/json", "User-Agent": "gatewatch-alerts"}
        error, status = "", None
        for attempt in range(1, self.policy.attempts + 1):
            if attempt > 1:
                backoff = self.policy.backoff_seconds
                if self._wait(backoff[min(attempt - 2, len(backoff) - 1)] if backoff else 0):
                    return Outcome("failed", attempt - 1, status, f"{error} (stopped)")
            try:
                response = self._http.post(url, content=body, headers=headers)
            except httpx.HTTPError as e:
                error, status = f"{type(e).__name__}: {e}", None
                continue
            status = response.status_code
            if response.is_success:
                return Outcome("sent", attempt, status)
            error = f"HTTP {status}: {response.text[:200]}"
            if status != 429 and status < 500:
                return Outcome("failed", attempt, status, error)
        return Outcome("failed", self.policy.attempts, status, error)
