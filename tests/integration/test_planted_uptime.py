"""The uptime and burst tables find the trends planted in the sample traffic: the anthropic
outage as exactly one incident and nothing else, the nightly batch window, and each day's
peak-to-mean load as the generator's traffic model predicts it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from analytics.jobs import run_jobs
from sample_data.generator import generate, outage_day_index
from sample_data.truths import TRUTHS
from warehouse.db import Warehouse

DAYS = 30
END = date(2026, 3, 1)
# At 1500 a day anthropic sees about one request per 5 minutes in the outage, too few to
# place its edges within the tolerance on every seed; at 3000 every edge is observable.
REQUESTS_PER_DAY = 3000
SEEDS = (1, 2, 3)
EDGE_TOLERANCE = timedelta(minutes=15)


@pytest.fixture(scope="module", params=SEEDS, ids=lambda seed: f"seed{seed}")
def warehouse(request: pytest.FixtureRequest) -> Iterator[Warehouse]:
    traffic = generate(DAYS, end=END, seed=request.param, requests_per_day=REQUESTS_PER_DAY)
    rows = traffic.requests
    stamped = rows.set_column(
        rows.schema.get_field_index("ingested_at"),
        "ingested_at",
        pa.array([datetime(2026, 3, 2, tzinfo=UTC)] * len(rows), pa.timestamp("us", tz="UTC")),
    )
    wh = Warehouse.open(":memory:")
    wh.connection.register("sample", stamped)
    wh.connection.execute("INSERT INTO requests BY NAME SELECT * FROM sample")
    wh.connection.unregister("sample")
    run_jobs(wh.connection, full=True)
    yield wh
    wh.close()


def outage_window() -> tuple[datetime, datetime]:
    day = END - timedelta(days=DAYS - 1) + timedelta(days=outage_day_index(TRUTHS, DAYS))
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return (
        midnight + timedelta(minutes=TRUTHS.outage_start_minute),
        midnight + timedelta(minutes=TRUTHS.outage_end_minute),
    )


def test_the_outage_is_the_one_provider_incident(warehouse: Warehouse) -> None:
    found = warehouse.connection.execute(
        "SELECT provider, started_at, ended_at, top_error_type FROM uptime_incidents "
        "WHERE model IS NULL ORDER BY started_at"
    ).fetchall()
    start, end = outage_window()
    outage = [
        row
        for row in found
        if row[0] == TRUTHS.outage_provider
        and abs(row[1] - start) <= EDGE_TOLERANCE
        and abs(row[2] - end) <= EDGE_TOLERANCE
    ]
    assert len(outage) == 1, found
    assert outage[0][3] == "overloaded"
    false_positives = [row for row in found if row not in outage]
    assert false_positives == []


def test_model_incidents_only_during_the_outage(warehouse: Warehouse) -> None:
    start, end = outage_window()
    found = warehouse.connection.execute(
        "SELECT provider, started_at, ended_at FROM uptime_incidents WHERE model IS NOT NULL"
    ).fetchall()
    assert found  # both Claude models on anthropic fail through the outage
    for provider, started_at, ended_at in found:
        # a model sees a fraction of the provider's traffic: its edges are looser
        assert provider == TRUTHS.outage_provider
        assert started_at < end and ended_at > start


def test_the_nightly_batch_window_is_found(warehouse: Warehouse) -> None:
    found = warehouse.connection.execute(
        "SELECT app, start_hour, end_hour, share_of_days FROM batch_windows ORDER BY ALL"
    ).fetchall()
    window = (TRUTHS.batch_start_hour, TRUTHS.batch_end_hour)
    assert [(app, start, end) for app, start, end, _ in found] == [
        (TRUTHS.batch_app, *window),
        (None, *window),
    ]
    assert all(share == 1.0 for *_, share in found)


def expected_peak_to_mean(interactive: int, batch: int) -> float:
    """Peak hour over mean hour of a day with these arrivals, by the generator's model
    (`sample_data/generator.py` `_arrivals`): interactive requests spread over the hours by
    the diurnal curve 0.12 + exp(-½((h + ½ − peak) / 3.5)²), batch ones evenly over the batch
    hours."""
    curve = [
        0.12 + math.exp(-0.5 * ((h + 0.5 - TRUTHS.diurnal_peak_hour) / 3.5) ** 2) for h in range(24)
    ]
    batch_hours = range(TRUTHS.batch_start_hour, TRUTHS.batch_end_hour)
    expected = [
        interactive * c / sum(curve) + (batch / len(batch_hours) if h in batch_hours else 0)
        for h, c in enumerate(curve)
    ]
    return max(expected) / ((interactive + batch) / 24)


def test_daily_peak_to_mean_matches_the_traffic_model(warehouse: Warehouse) -> None:
    days = warehouse.connection.execute(
        """
        SELECT p.day, p.peak_hour, p.peak_to_mean,
            count(*) FILTER (WHERE r.app <> $batch_app) AS interactive,
            count(*) FILTER (WHERE r.app = $batch_app) AS batch
        FROM traffic_daily_peaks AS p
        JOIN requests AS r ON CAST(r.started_at AS DATE) = p.day
        GROUP BY ALL ORDER BY p.day
        """,
        {"batch_app": TRUTHS.batch_app},
    ).fetchall()
    assert len(days) == DAYS
    ratios = []
    for _, peak_hour, peak_to_mean, interactive, batch in days:
        assert TRUTHS.batch_start_hour <= peak_hour < TRUTHS.batch_end_hour
        ratios.append(peak_to_mean / expected_peak_to_mean(interactive, batch))
    # Each day's busiest hour is the larger of two random halves of the batch: a little above
    # the expected half, and noisy by a few percent.
    assert all(0.9 < r < 1.15 for r in ratios), ratios
    assert 0.98 < sorted(ratios)[len(ratios) // 2] < 1.06
