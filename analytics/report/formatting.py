"""How report numbers read: one place for every renderer (HTML, Markdown)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def percent(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def count(value: float | None) -> str:
    if value is None:
        return "–"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:,.0f}"


def dollars(value: float | None) -> str:
    if value is None:
        return "–"
    return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4f}"


def change(value: float | None, kind: str) -> str:
    """Rates change in percentage points, counts in percent; always signed."""
    if value is None:
        return "–"
    points = round(value * 100, 1) or 0.0  # never "-0.0"
    return f"{points:+.1f} pp" if kind == "rate" else f"{points:+.1f}%"


def value(number: float | None, kind: str) -> str:
    return percent(number) if kind == "rate" else count(number)


def day(value: date) -> str:
    return f"{value:%a %Y-%m-%d}"


def moment(value: datetime | None) -> str:
    return "–" if value is None else f"{value.astimezone(UTC):%a %Y-%m-%d %H:%M}"


def sla(attained: bool | None, target: float | None) -> str:
    if attained is None or target is None:
        return "–"
    return f"{'met' if attained else 'missed'} ({target * 100:g}%)"


FILTERS = {
    "percent": percent,
    "count": count,
    "dollars": dollars,
    "change": change,
    "value": value,
    "day": day,
    "moment": moment,
    "sla": sla,
}
