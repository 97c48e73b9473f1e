"""The global filters as a URL query string, and the time-range presets.

Every page writes its filters into the address bar, so a copied URL opens the same view:

    ?range=24h&provider=openai&provider=anthropic&refresh=1m
    ?range=custom&start=2026-02-02&end=2026-02-06          whole UTC days, inclusive
    ?range=custom&from=2026-02-03T09:00:00Z&to=2026-02-03T10:00:00Z   half-open window

Presets end now (UTC, to the second) and are recomputed on every auto-refresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlencode

from dashboard.data import CUSTOM, Filters

PRESETS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
PRESET_LABELS = {"1h": "1 h", "24h": "24 h", "7d": "7 d", "30d": "30 d", CUSTOM: "Custom"}

REFRESH_OFF = "off"
# Auto-refresh periods offered, in milliseconds for `dcc.Interval`.
REFRESH_MS = {"30s": 30_000, "1m": 60_000, "5m": 300_000}
REFRESH_LABELS = {REFRESH_OFF: "off", "30s": "30 s", "1m": "1 min", "5m": "5 min"}

_LISTS = (("provider", "providers"), ("model", "models"), ("app", "apps"))
GLOBAL_KEYS = ("range", "start", "end", "from", "to", "refresh", *(k for k, _ in _LISTS))

Query = Mapping[str, list[str]]


def parse_query(search: str | None) -> dict[str, list[str]]:
    """`?a=1&a=2&b=3` → {"a": ["1", "2"], "b": ["3"]}."""
    return parse_qs((search or "").lstrip("?"), keep_blank_values=False)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def with_preset(filters: Filters, preset: str, now: datetime) -> Filters:
    """`filters` over the preset's range ending at `now`; the days are those it touches."""
    since = now - PRESETS[preset]
    return replace(
        filters,
        preset=preset,
        start=since.date(),
        end=(now - timedelta(microseconds=1)).date(),
        since=since,
        until=now,
    )


def with_days(filters: Filters, start: date, end: date) -> Filters:
    """`filters` over whole UTC days, start to end inclusive."""
    return replace(filters, preset=CUSTOM, start=start, end=end, since=None, until=None)


def with_window(filters: Filters, since: datetime, until: datetime) -> Filters:
    """`filters` over the half-open range [since, until), whatever days it touches."""
    return replace(
        filters,
        preset=CUSTOM,
        start=since.date(),
        end=(until - timedelta(microseconds=1)).date(),
        since=since,
        until=until,
    )


def _timestamp(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def filters_from_query(query: Query, current: Filters, now: datetime) -> Filters:
    """The filters a URL names; what it leaves out (or gets wrong) keeps `current`'s value."""
    filters = current
    lists = {field: tuple(query[key]) for key, field in _LISTS if key in query}
    if lists:
        filters = replace(filters, **lists)
    preset = (query.get("range") or [None])[0]
    try:
        if preset in PRESETS:
            return with_preset(filters, preset, now)
        if "from" in query and "to" in query:
            since, until = _timestamp(query["from"][0]), _timestamp(query["to"][0])
            return with_window(filters, since, until) if since < until else filters
        if "start" in query and "end" in query:
            start, end = date.fromisoformat(query["start"][0]), date.fromisoformat(query["end"][0])
            return with_days(filters, start, end) if start <= end else filters
    except ValueError:  # a hand-edited URL with a bad date keeps the current range
        return filters
    return filters


def refresh_from_query(query: Query) -> str | None:
    value = (query.get("refresh") or [None])[0]
    return value if value in REFRESH_MS or value == REFRESH_OFF else None


def filters_query(filters: Filters, refresh: str = REFRESH_OFF) -> list[tuple[str, str]]:
    """The URL query pairs naming `filters` (and the auto-refresh period when it is on)."""
    pairs: list[tuple[str, str]] = [("range", filters.preset)]
    if filters.preset == CUSTOM and filters.since is not None and filters.until is not None:
        pairs += [("from", _iso(filters.since)), ("to", _iso(filters.until))]
    elif filters.preset == CUSTOM:
        pairs += [("start", filters.start.isoformat()), ("end", filters.end.isoformat())]
    for key, field in _LISTS:
        pairs += [(key, value) for value in getattr(filters, field)]
    if refresh in REFRESH_MS:
        pairs.append(("refresh", refresh))
    return pairs


def window_note(filters: Filters) -> str:
    """The selected range in words, shown beside the presets."""
    if filters.since is None or filters.until is None:
        return f"{filters.start:%Y-%m-%d} → {filters.end:%Y-%m-%d}, whole days (UTC)"
    since, until = filters.since, filters.until
    end_format = "%H:%M" if until.date() == since.date() else "%Y-%m-%d %H:%M"
    return f"{since:%Y-%m-%d %H:%M} → {until.strftime(end_format)} UTC"


def encode(pairs: Iterable[tuple[str, str]]) -> str:
    return urlencode(list(pairs))
