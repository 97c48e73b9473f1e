"""`requests.estimated_cost_usd`, `model_prices`, `spend_daily` and the spend columns of
`model_mix_daily` on planted requests whose cost is worked out by hand below."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest

from analytics.default_prices import DEFAULT_PRICES
from analytics.jobs import run_jobs
from analytics.prices import Price, first_overlap
from analytics.settings import AnalyticsSettings
from tests.unit.test_stats_jobs import INGESTED_LATER, insert, req, rows
from warehouse.db import Warehouse

FEB, CUT, MAR = (
    "2026-02-10T12:00:00+00:00",
    "2026-03-01T00:00:00+00:00",
    "2026-03-05T12:00:00+00:00",
)
JUST_BEFORE_CUT = "2026-02-28T23:59:59.999999+00:00"
M = 1_000_000  # tokens: one million makes a price per million the cost

PRICES = (
    # any provider: until the cut, every kind priced apart; from the cut, only input/output
    Price(
        "v/m",
        2.0,
        8.0,
        cached=0.5,
        cache_write=2.5,
        reasoning=10.0,
        valid_until=datetime(2026, 3, 1, tzinfo=UTC),
    ),
    Price("v/m", 1.0, 4.0, valid_from=datetime(2026, 3, 1, tzinfo=UTC)),
    # the "cheap" provider's own price, until the cut
    Price("v/m", 0.1, 0.2, provider="cheap", valid_until=datetime(2026, 3, 1, tzinfo=UTC)),
)
SETTINGS = AnalyticsSettings(prices=PRICES, tier_rules=(("v/*", "small"),))

# request id → (fields, expected estimate worked out by hand)
PLANTED: dict[str, tuple[dict[str, Any], float | None]] = {
    # 700k uncached × 2 + 200k cached × 0.5 + 100k written × 2.5 + 30k output × 8
    # + 20k reasoning × 10 = 1.4 + 0.1 + 0.25 + 0.24 + 0.2
    "split": (
        dict(
            at=FEB,
            input_tokens=M,
            cached_input_tokens=200_000,
            cache_write_tokens=100_000,
            output_tokens=50_000,
            reasoning_tokens=20_000,
        ),
        2.19,
    ),
    # the last microsecond before the cut: the old price
    "before-cut": (dict(at=JUST_BEFORE_CUT, input_tokens=M, output_tokens=0), 2.0),
    # at the cut: the new price; reasoning falls back to the output price, 1 + 4
    "at-cut": (dict(at=CUT, input_tokens=M, output_tokens=M, reasoning_tokens=M), 5.0),
    # the provider's own price wins: 500k × 0.1 + 500k cached × 0.1 (no cached price) + 0.2
    "provider": (
        dict(at=FEB, provider="cheap", input_tokens=M, cached_input_tokens=M // 2, output_tokens=M),
        0.3,
    ),
    # the provider's own price has ended: the any-provider price applies
    "provider-ended": (dict(at=MAR, provider="cheap", input_tokens=M, output_tokens=0), 1.0),
    # NULL cached, cache-write and reasoning counts are none of that kind: 2 × 1 + 1 × 4
    "null-parts": (dict(at=MAR, input_tokens=2 * M, output_tokens=M), 6.0),
    # no input count: no estimate (a partial count would understate)
    "null-input": (dict(at=MAR, output_tokens=M), None),
    "null-output": (dict(at=MAR, input_tokens=M), None),
    # the gateway's cost stays; the estimate is still computed, beside it
    "reported": (dict(at=MAR, input_tokens=M, output_tokens=0, cost_usd=9.99), 1.0),
    # a model without any price
    "unpriced": (dict(at=MAR, model="v/other", input_tokens=M, output_tokens=M), None),
    # a model the config does not price: the built-in default (Sonnet 4.5: 3 / 0.3 / 3.75 /
    # 15): 800k × 3 + 100k × 0.3 + 100k × 3.75 + 100k × 15
    "default": (
        dict(
            at=MAR,
            provider="anthropic",
            model="anthropic/claude-sonnet-4.5",
            input_tokens=M,
            cached_input_tokens=100_000,
            cache_write_tokens=100_000,
            output_tokens=100_000,
        ),
        4.305,
    ),
    # more cached than input (inconsistent counts): the uncached rest is 0, not negative
    "over-cached": (
        dict(at=FEB, input_tokens=M, cached_input_tokens=3 * M // 2, output_tokens=0),
        0.75,
    ),
}


def planted(request_id: str, **overrides: Any) -> dict[str, Any]:
    fields = {**PLANTED[request_id][0], **overrides}
    at = fields.pop("at")
    return req(at, request_id=request_id, **{"provider": "p", "model": "v/m", **fields})


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    wh = Warehouse.open(":memory:")
    yield wh.connection
    wh.close()


def estimates(con: duckdb.DuckDBPyConnection) -> dict[str, float | None]:
    return dict(con.execute("SELECT request_id, estimated_cost_usd FROM requests").fetchall())


def test_estimates_match_the_hand_worked_costs(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, [planted(request_id) for request_id in PLANTED])
    result = run_jobs(con, settings=SETTINGS).job("estimated_cost")
    got = estimates(con)
    for request_id, (_, expected) in PLANTED.items():
        if expected is None:
            assert got[request_id] is None, request_id
        else:
            assert got[request_id] == pytest.approx(expected, rel=1e-12), request_id
    assert result.rows_written == sum(1 for _, e in PLANTED.values() if e is not None)
    reported = con.execute("SELECT cost_usd FROM requests WHERE request_id = 'reported'")
    assert reported.fetchall() == [(9.99,)]


def test_price_table_is_the_config_then_the_defaults_of_other_models(
    con: duckdb.DuckDBPyConnection,
) -> None:
    run_jobs(con, settings=AnalyticsSettings(prices=(Price("openai/gpt-5", 1.0, 2.0),)))
    stored = rows(con, "FROM model_prices WHERE model IN ('openai/gpt-5', 'openai/gpt-4o')")
    assert [
        (r["model"], r["origin"], r["input_per_mtok"], r["cached_input_per_mtok"]) for r in stored
    ] == [
        ("openai/gpt-4o", "default", 2.5, 1.25),
        ("openai/gpt-5", "config", 1.0, 1.0),  # no cached price: the input price
    ]
    defaults = con.execute("SELECT count(*) FROM model_prices WHERE origin = 'default'")
    assert defaults.fetchone() == (len(DEFAULT_PRICES) - 1,)


def test_built_in_prices_never_overlap_and_cover_the_sample_models() -> None:
    from sample_data.catalogue import MODELS, RAW_MODEL_NAMES

    assert first_overlap(DEFAULT_PRICES) is None
    priced = {(p.model, p.provider) for p in DEFAULT_PRICES}
    for model, provider in RAW_MODEL_NAMES:
        assert (model, None) in priced or (model, provider) in priced, (model, provider)
    assert set(MODELS) <= {model for model, _ in priced}


def test_incremental_run_estimates_only_new_rows(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, [planted("split")])
    run_jobs(con, settings=SETTINGS)
    # a row estimated by hand: an incremental run with unchanged prices leaves it alone
    con.execute("UPDATE requests SET estimated_cost_usd = 123.0 WHERE request_id = 'split'")
    insert(con, [planted("null-parts", ingested_at=INGESTED_LATER)])
    result = run_jobs(con, settings=SETTINGS).job("estimated_cost")
    assert (result.rows_deleted, result.rows_written) == (0, 1)
    assert estimates(con) == {"split": 123.0, "null-parts": pytest.approx(6.0)}
    assert run_jobs(con, settings=SETTINGS).job("estimated_cost").rows_written == 0


def test_changed_prices_reprice_every_row_and_every_day(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, [planted("split"), planted("null-parts"), planted("reported")])
    run_jobs(con, settings=SETTINGS)
    assert spend(con) == {
        "2026-02-10": (2.19, 2.19, 0.0),
        "2026-03-05": (6.0 + 9.99, 6.0, 9.99),
    }
    doubled = tuple(
        Price(
            p.model,
            p.input * 2,
            p.output * 2,
            provider=p.provider,
            valid_from=p.valid_from,
            valid_until=p.valid_until,
        )
        for p in PRICES
    )
    result = run_jobs(con, settings=AnalyticsSettings(prices=doubled)).job("estimated_cost")
    assert (result.rows_deleted, result.rows_written) == (3, 3)
    # split: 0.7 M × 4 + 0.2 M × 4 + 0.1 M × 4 + 0.05 M × 16 (no reasoning price any more)
    assert estimates(con) == {
        "split": pytest.approx(4.8),
        "null-parts": pytest.approx(12.0),
        "reported": pytest.approx(2.0),
    }
    # spend_daily rebuilt the old days too; the reported cost still wins over the estimate
    assert spend(con) == {
        "2026-02-10": (4.8, 4.8, 0.0),
        "2026-03-05": (12.0 + 9.99, 12.0, 9.99),
    }


def spend(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[float, float, float]]:
    got = con.execute(
        "SELECT CAST(period_start AS VARCHAR), sum(spend_usd), sum(estimated_spend_usd), "
        "sum(reported_spend_usd) FROM spend_daily GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return {day: tuple(pytest.approx(v) for v in values) for day, *values in got}


def test_spend_daily_counts_reported_estimated_and_unpriced(con: duckdb.DuckDBPyConnection) -> None:
    ids = ("null-parts", "null-input", "reported", "unpriced", "default", "provider-ended")
    insert(con, [planted(request_id, app="agent") for request_id in ids])
    run_jobs(con, settings=SETTINGS)
    got = {
        (r["provider"], r["model"]): r
        for r in rows(con, "FROM spend_daily WHERE period_start = '2026-03-05'")
    }
    p = got[("p", "v/m")]
    assert (p["requests"], p["reported_requests"], p["estimated_requests"]) == (3, 1, 1)
    assert p["reported_spend_usd"] == pytest.approx(9.99)
    assert p["estimated_spend_usd"] == pytest.approx(6.0)  # not the reported row's estimate
    assert p["spend_usd"] == pytest.approx(15.99)
    unpriced = got[("p", "v/other")]
    assert (unpriced["estimated_requests"], unpriced["spend_usd"]) == (0, 0.0)
    assert got[("cheap", "v/m")]["spend_usd"] == pytest.approx(1.0)
    assert got[("anthropic", "anthropic/claude-sonnet-4.5")]["app"] == "agent"


def test_model_mix_daily_spend_share_by_tier(con: duckdb.DuckDBPyConnection) -> None:
    # small (v/*): 6.0 estimated + 9.99 reported + 1.0 estimated; frontier (Sonnet): 4.305
    ids = ("null-parts", "reported", "provider-ended", "default", "unpriced")
    insert(con, [planted(request_id) for request_id in ids])
    run_jobs(con, settings=SETTINGS)
    got = {
        r["tier"]: r for r in rows(con, "FROM model_mix_daily WHERE period_start = '2026-03-05'")
    }
    total = 6.0 + 9.99 + 1.0 + 4.305
    assert got["small"]["spend_usd"] == pytest.approx(16.99)
    assert got["small"]["estimated_spend_usd"] == pytest.approx(7.0)
    assert got["small"]["share_spend"] == pytest.approx(16.99 / total)
    assert got["frontier"]["spend_usd"] == pytest.approx(4.305)
    assert got["frontier"]["estimated_spend_usd"] == pytest.approx(4.305)
    assert got["frontier"]["share_spend"] == pytest.approx(4.305 / total)


def test_a_day_without_any_price_has_no_spend_share(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, [planted("unpriced")])
    run_jobs(con, settings=SETTINGS)
    got = rows(con, "SELECT tier, spend_usd, share_spend FROM model_mix_daily")
    assert got == [{"tier": "small", "spend_usd": 0.0, "share_spend": None}]


def test_full_run_reprices_with_unchanged_prices(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, [planted("split")])
    run_jobs(con, settings=SETTINGS)
    con.execute("UPDATE requests SET estimated_cost_usd = 123.0")
    result = run_jobs(con, full=True, settings=SETTINGS).job("estimated_cost")
    assert (result.rows_deleted, result.rows_written) == (1, 1)
    assert estimates(con) == {"split": pytest.approx(2.19)}
