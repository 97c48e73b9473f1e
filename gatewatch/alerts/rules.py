"""Alert rules as configured in `[[alerts]]`, each field checked with an error that names it
(`alerts[2].kind: unknown kind 'foo' ...`).

    [[alerts]]
    name = "provider-down"                 # unique; how alert_events names the rule
    kind = "incident"                      # see KINDS
    slack = { url_env = "SLACK_WEBHOOK" }  # Slack incoming webhook (url or url_env)
    webhook = { url = "https://ops.example.com/hooks/gatewatch" }  # JSON POST

Every rule also writes a log line. A URL may come from the environment (`url_env`), read at
delivery time, so secrets stay out of the file and a missing variable fails only delivery.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from gatewatch.config import parse_duration

KINDS = ("incident", "burn_rate", "shift", "divergent", "pool_changed")
METRICS = ("tool_call_rate", "reasoning_share")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_COMMON_FIELDS = ("name", "kind", "slack", "webhook")
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "incident": ("per", "lookback_hours"),
    "burn_rate": ("per", "windows", "min_requests"),
    "shift": ("metric", "sigmas", "per", "min_requests"),
    "divergent": (),
    "pool_changed": (),
}
# What a rule's keys are: one provider, one provider and model, one model, or all traffic.
_PER: dict[str, tuple[str, ...]] = {
    "incident": ("provider", "provider_model"),
    "burn_rate": ("provider", "provider_model"),
    "shift": ("provider_model", "provider", "model", "all"),
}
_DEFAULT_MIN_REQUESTS = {"burn_rate": 10, "shift": 100}


class RuleError(ValueError):
    """A config error, worded for the user, naming the field."""


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # "log", "webhook" or "slack"; also the target's name in alert_events
    url: str | None = None
    url_env: str | None = None

    def resolve_url(self) -> str:
        """The URL to post to; raises RuleError when its environment variable is unset."""
        if self.url is not None:
            return self.url
        value = os.environ.get(self.url_env or "", "")
        if not value:
            raise RuleError(f"environment variable {self.url_env} is not set")
        return value


LOG_TARGET = Target("log")


@dataclass(frozen=True, slots=True)
class BurnWindow:
    """Fire when the error budget burns at `factor`× the sustainable rate over both windows."""

    long_minutes: float
    short_minutes: float
    factor: float

    @property
    def label(self) -> str:
        return f"{minutes_text(self.long_minutes)}/{minutes_text(self.short_minutes)}"


# The Google SRE workbook's page-worthy pairs: 2% of a 30-day budget spent in an hour
# (14.4×), 5% in six hours (6×); the short window lets an alert resolve soon after recovery.
SRE_WINDOWS = (BurnWindow(60, 5, 14.4), BurnWindow(360, 30, 6.0))


@dataclass(frozen=True, slots=True)
class AlertRule:
    name: str
    kind: str
    targets: tuple[Target, ...] = (LOG_TARGET,)
    per: str = "provider"
    lookback_hours: float = 24.0  # incident: how far back a finished, untold incident is told
    windows: tuple[BurnWindow, ...] = SRE_WINDOWS
    min_requests: int = 0  # burn_rate: eligible in the long window; shift: in each week
    metric: str = ""  # shift
    sigmas: float = 3.0  # shift


def minutes_text(minutes: float) -> str:
    if minutes % 60 == 0:
        return f"{int(minutes // 60)}h"
    return f"{minutes:g}m"


def parse_rules(value: object) -> tuple[AlertRule, ...]:
    """The `alerts` array of the config document."""
    if not isinstance(value, list):
        raise RuleError("alerts: use [[alerts]] tables, one per rule")
    rules: list[AlertRule] = []
    for index, table in enumerate(value):
        where = f"alerts[{index}]"
        if not isinstance(table, dict):
            raise RuleError(f"{where}: must be a table")
        rule = _rule(table, where)
        for earlier, other in enumerate(rules):
            if other.name == rule.name:
                raise RuleError(f"{where}.name: {rule.name!r} is used by alerts[{earlier}] too")
        rules.append(rule)
    return tuple(rules)


def _rule(table: Mapping[str, object], where: str) -> AlertRule:
    kind = table.get("kind")
    if kind is None:
        raise RuleError(f"{where}.kind: missing (one of {', '.join(KINDS)})")
    if kind not in KINDS:
        raise RuleError(f"{where}.kind: unknown kind {kind!r} (expected {', '.join(KINDS)})")
    allowed = (*_COMMON_FIELDS, *_KIND_FIELDS[kind])
    for field_name in table:
        if field_name not in allowed:
            raise RuleError(
                f"{where}.{field_name}: unknown field for kind {kind!r} "
                f"(expected {', '.join(allowed)})"
            )
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise RuleError(
            f"{where}.name: {'missing' if name is None else repr(name)} "
            "(a name of letters, digits, '-', '_', '.' is required)"
        )
    targets = [LOG_TARGET]
    for target_kind in ("webhook", "slack"):
        if target_kind in table:
            targets.append(_target(target_kind, table[target_kind], f"{where}.{target_kind}"))
    fields: dict[str, object] = {"name": name, "kind": kind, "targets": tuple(targets)}
    if kind in _PER:
        fields["per"] = _choice(table, "per", _PER[kind], where)
    if kind in _DEFAULT_MIN_REQUESTS:
        fields["min_requests"] = _number(
            table, "min_requests", where, _DEFAULT_MIN_REQUESTS[kind], whole=True, low=1
        )
    if kind == "incident":
        fields["lookback_hours"] = _number(table, "lookback_hours", where, 24.0, low=0)
    if kind == "burn_rate":
        fields["windows"] = _windows(table.get("windows"), f"{where}.windows")
    if kind == "shift":
        if "metric" not in table:
            raise RuleError(f"{where}.metric: missing (one of {', '.join(METRICS)})")
        fields["metric"] = _choice(table, "metric", METRICS, where)
        fields["sigmas"] = _number(table, "sigmas", where, 3.0, low=0, exclusive=True)
    return AlertRule(**fields)  # type: ignore[arg-type]


def _target(kind: str, value: object, where: str) -> Target:
    if not isinstance(value, dict):
        raise RuleError(f'{where}: must be a table like {{ url = "https://..." }}')
    unknown = sorted(set(value) - {"url", "url_env"})
    if unknown:
        raise RuleError(f"{where}.{unknown[0]}: unknown field (expected url or url_env)")
    url, url_env = value.get("url"), value.get("url_env")
    if (url is None) == (url_env is None):
        raise RuleError(f"{where}: give exactly one of url and url_env")
    if url is not None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise RuleError(f"{where}.url: {url!r} is not an http(s) URL")
        return Target(kind, url=url)
    if not isinstance(url_env, str) or not _ENV_NAME.match(url_env):
        raise RuleError(f"{where}.url_env: {url_env!r} is not an environment variable name")
    return Target(kind, url_env=url_env)


def _choice(table: Mapping[str, object], name: str, allowed: tuple[str, ...], where: str) -> str:
    value = table.get(name, allowed[0])
    if value not in allowed:
        raise RuleError(f"{where}.{name}: {value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _number(
    table: Mapping[str, object],
    name: str,
    where: str,
    default: float,
    *,
    whole: bool = False,
    low: float,
    exclusive: bool = False,
) -> float:
    value = table.get(name, default)
    # bool is an int subclass: `true` is not a number here.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleError(f"{where}.{name}: expected a number, got {value!r}")
    if whole and not float(value).is_integer():
        raise RuleError(f"{where}.{name}: expected a whole number, got {value!r}")
    if value < low or (exclusive and value == low):
        bound = f"above {low:g}" if exclusive else f"at least {low:g}"
        raise RuleError(f"{where}.{name}: {value!r} is not {bound}")
    return int(value) if whole else float(value)


def _windows(value: object, where: str) -> tuple[BurnWindow, ...]:
    if value is None:
        return SRE_WINDOWS
    if not isinstance(value, list) or not value:
        raise RuleError(
            f'{where}: a list like [{{ long = "1h", short = "5m", factor = 14.4 }}, ...]'
        )
    windows = []
    for index, item in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise RuleError(f'{at}: must be a table like {{ long = "1h", short = "5m", ... }}')
        unknown = sorted(set(item) - {"long", "short", "factor"})
        if unknown:
            raise RuleError(f"{at}.{unknown[0]}: unknown field (expected long, short, factor)")
        long_minutes = _duration_minutes(item.get("long"), f"{at}.long")
        short_minutes = _duration_minutes(item.get("short"), f"{at}.short")
        if short_minutes >= long_minutes:
            raise RuleError(f"{at}.short: must be shorter than long")
        if "factor" not in item:
            raise RuleError(f"{at}.factor: missing (e.g. 14.4)")
        factor = _number(item, "factor", at, 0.0, low=0, exclusive=True)
        windows.append(BurnWindow(long_minutes, short_minutes, factor))
    return tuple(windows)


def _duration_minutes(value: object, where: str) -> float:
    if not isinstance(value, str):
        raise RuleError(f"{where}: a duration like '5m' or '1h' is required")
    try:
        seconds = parse_duration(value)
    except ValueError as e:
        raise RuleError(f"{where}: {e}") from e
    if seconds < 60:
        raise RuleError(f"{where}: {value!r} is shorter than a minute")
    return seconds / 60
