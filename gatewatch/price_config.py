"""The config file's `[[prices]]`: token prices for the estimated cost, checked field by field.

    [[prices]]
    model = "openai/gpt-4o"        # canonical model id
    provider = "azure"             # optional: only on this provider (else on any provider)
    input = 2.50                   # USD per million uncached input tokens
    cached = 1.25                  # optional: cache-read input (default: the input price)
    cache_write = 3.125            # optional: cache-write input (default: the input price)
    output = 10.00                 # USD per million output tokens
    reasoning = 10.00              # optional: reasoning output (default: the output price)
    valid_from = 2025-01-01        # optional, inclusive: a date (UTC midnight) or a datetime
    valid_until = 2026-01-01       # optional, exclusive

Two entries of the same model and provider must not overlap in time. See
`analytics.prices` for how a request finds its price.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from analytics.prices import Price, first_overlap
from gatewatch.errors import GatewatchError

# The spellings the `[models]` and `[providers]` values must have (canonical ids and slugs).
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._:-]*$")
_PROVIDER_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

_PRICE_FIELDS = ("input", "cached", "cache_write", "output", "reasoning")
_REQUIRED = ("model", "input", "output")
_FIELDS = ("model", "provider", *_PRICE_FIELDS, "valid_from", "valid_until")


def parse_prices(document: dict[str, Any], path: Path) -> tuple[Price, ...]:
    entries = document.get("prices", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise GatewatchError(
            f"{path}: prices must be an array of tables: [[prices]] with model, input, output"
        )
    prices = tuple(
        _price(entry, f"{path}: [[prices]] #{n}", path) for n, entry in enumerate(entries, 1)
    )
    overlap = first_overlap(prices)
    if overlap is not None:
        earlier, later = overlap
        raise GatewatchError(
            f"{path}: [[prices]] {earlier.model} on {earlier.provider or 'any provider'}: two "
            f"entries overlap in time (one valid until {_moment(earlier.valid_until)}, the "
            f"next from {_moment(later.valid_from)}); set the earlier one's valid_until to "
            "the later one's valid_from"
        )
    return prices


def _price(entry: dict[str, Any], where: str, path: Path) -> Price:
    model = entry.get("model")
    if isinstance(model, str):
        where = f"{where} ({model})"
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise GatewatchError(
            f"{where}: unknown field(s) {', '.join(unknown)}; expected {', '.join(_FIELDS)}"
        )
    missing = [name for name in _REQUIRED if name not in entry]
    if missing:
        raise GatewatchError(f"{where}: missing {', '.join(missing)}")
    if not isinstance(model, str) or not _MODEL_ID.match(model):
        raise GatewatchError(
            f"{where}: model {model!r} is not a canonical model id like 'openai/gpt-4o' "
            "(lower-case vendor/name, as stored in requests.model)"
        )
    provider = entry.get("provider")
    if provider is not None and (
        not isinstance(provider, str) or not _PROVIDER_SLUG.match(provider)
    ):
        raise GatewatchError(
            f"{where}: provider {provider!r} is not a provider slug like 'azure' "
            "(lower-case letters, digits, '-', '.', '_')"
        )
    amounts = {name: _amount(entry[name], name, where) for name in _PRICE_FIELDS if name in entry}
    valid_from = _instant(entry.get("valid_from"), "valid_from", where)
    valid_until = _instant(entry.get("valid_until"), "valid_until", where)
    if valid_from is not None and valid_until is not None and valid_from >= valid_until:
        raise GatewatchError(f"{where}: valid_from must be before valid_until")
    return Price(
        model=model,
        provider=provider,
        valid_from=valid_from,
        valid_until=valid_until,
        input=amounts["input"],
        output=amounts["output"],
        cached=amounts.get("cached"),
        cache_write=amounts.get("cache_write"),
        reasoning=amounts.get("reasoning"),
    )


def _amount(value: object, name: str, where: str) -> float:
    # bool is an int subclass: `true` is not a price.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GatewatchError(f"{where}: {name} must be a number (USD per million tokens)")
    if not math.isfinite(value) or value < 0:
        raise GatewatchError(f"{where}: {name} {value!r} must be a finite number >= 0")
    return float(value)


def _instant(value: object, name: str, where: str) -> datetime | None:
    """A TOML date (midnight UTC), datetime (UTC when it has no offset) or ISO string of either."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = (
                datetime.fromisoformat(value)
                if "T" in value or " " in value
                else date.fromisoformat(value)
            )
        except ValueError:
            raise GatewatchError(
                f"{where}: {name} {value!r} is not a date (2025-06-10) or datetime "
                "(2025-06-10T00:00:00Z)"
            ) from None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    raise GatewatchError(f"{where}: {name} must be a date (2025-06-10) or a datetime")


def _moment(moment: datetime | None) -> str:
    return "always" if moment is None else moment.isoformat()


def describe_price(price: Price) -> tuple[str, str]:
    """(key, value) of a price as `gatewatch config show` lists it."""
    key = f"{price.model} on {price.provider or 'any provider'}"
    if price.valid_from or price.valid_until:
        key += f" [{_moment(price.valid_from)} .. {_moment(price.valid_until)})"
    parts = [("input", price.input), ("cached", price.cached), ("cache_write", price.cache_write)]
    parts += [("output", price.output), ("reasoning", price.reasoning)]
    value = ", ".join(f"{name} {amount:g}" for name, amount in parts if amount is not None)
    return key, f"{value} USD per million tokens"
