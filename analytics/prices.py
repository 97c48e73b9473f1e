"""Token prices and the price table the estimated-cost job reads (`model_prices`).

A price is in US dollars per million tokens of each kind, for one canonical model, on one
provider or on any provider (`provider` None), valid over the half-open interval
[`valid_from`, `valid_until`) of `started_at` (None: unbounded). A provider's own price wins
over the any-provider price of the same model, so a host that charges differently needs only
its own row.

The table in effect is the config file's `[[prices]]` plus the built-in defaults of
`analytics.default_prices` for every model the config does not price at all: a model priced
in the config uses the config's prices only, never a mix of both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Origin = Literal["config", "default"]


@dataclass(frozen=True, slots=True)
class Price:
    model: str
    input: float  # uncached input
    output: float  # non-reasoning output
    cached: float | None = None  # cache-read input; None: the input price
    cache_write: float | None = None  # cache-write input; None: the input price
    reasoning: float | None = None  # reasoning output; None: the output price
    provider: str | None = None  # None: any provider without a price of its own
    valid_from: datetime | None = None  # inclusive; None: since always
    valid_until: datetime | None = None  # exclusive; None: still valid

    @property
    def key(self) -> tuple[str, str | None]:
        return self.model, self.provider


# Columns of `model_prices`, in order; prices are resolved (no NULL price) before storing.
PRICE_TABLE_COLUMNS: tuple[str, ...] = (
    "model",
    "provider",
    "valid_from",
    "valid_until",
    "input_per_mtok",
    "cached_input_per_mtok",
    "cache_write_per_mtok",
    "output_per_mtok",
    "reasoning_per_mtok",
    "origin",
)

PriceRow = tuple[
    str, str | None, datetime | None, datetime | None, float, float, float, float, float, Origin
]


def price_row(price: Price, origin: Origin) -> PriceRow:
    """The `model_prices` row of `price`, its optional prices filled in."""
    return (
        price.model,
        price.provider,
        price.valid_from,
        price.valid_until,
        float(price.input),
        float(price.input if price.cached is None else price.cached),
        float(price.input if price.cache_write is None else price.cache_write),
        float(price.output),
        float(price.output if price.reasoning is None else price.reasoning),
        origin,
    )


def effective_price_rows(config: Sequence[Price], defaults: Iterable[Price]) -> list[PriceRow]:
    """The config's prices, then the defaults of models the config does not name, sorted
    (a stable order lets the job tell whether the table changed)."""
    configured = {p.model for p in config}
    rows = [price_row(p, "config") for p in config]
    rows += [price_row(p, "default") for p in defaults if p.model not in configured]
    return sorted(rows, key=_sort_key)


def _sort_key(row: PriceRow) -> tuple[object, ...]:
    model, provider, valid_from = row[0], row[1], row[2]
    return (model, provider or "", valid_from.timestamp() if valid_from else float("-inf"))


def first_overlap(prices: Iterable[Price]) -> tuple[Price, Price] | None:
    """Two prices of the same model and provider whose validity intervals overlap, if any
    (a request must find at most one price of each kind)."""
    by_key: dict[tuple[str, str | None], list[Price]] = {}
    for price in prices:
        by_key.setdefault(price.key, []).append(price)
    for group in by_key.values():
        ordered = sorted(group, key=lambda p: _bound(p.valid_from, float("-inf")))
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            if _bound(earlier.valid_until, float("inf")) > _bound(later.valid_from, float("-inf")):
                return earlier, later
    return None


def _bound(moment: datetime | None, unbounded: float) -> float:
    return unbounded if moment is None else moment.timestamp()
