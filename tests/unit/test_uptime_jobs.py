"""Uptime buckets, incidents and SLA tables on tiny hand-made `requests` tables with known
answers; the `[analytics]` config section reaching the jobs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from analytics.jobs import ALL_JOBS, run_jobs
from analytics.settings import AnalyticsSettings
from gatewatch.cli import cli
from gatewatch.errors import GatewatchError
from gatewatch.jobs import JobRunner
from gatewatch.user_config import load_user_config
from tests.unit.test_stats_jobs import INGESTED_LATER, err, insert, only, req, rows
from warehouse.db import Warehouse

DERIVED_TABLES = tuple(dict.fromkeys(job.table for job in ALL_JOBS))


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Warehouse]:
    wh = Warehouse.open(":memory:")
    yield wh
    wh.close()


@pytest.fixture
def con(warehouse: Warehouse) -> duckdb.DuckDBPyConnection:
    c = warehouse.connection
    for name in ("requests", *DERIVED_TABLES, "_gatewatch_job_state"):
        c.execute(f"DELETE FROM {name}")
    return c


def at(clock: str, day: str = "2025-03-05") -> str:
    return f"{day}T{clock}+00:00"


def utc(clock: str, day: str = "2025-03-05") -> datetime:
    return datetime.fromisoformat(at(clock, day)).astimezone(UTC)


def bucket(
    clock: str, ok: int = 0, failed: int = 0, error_type: str = "overloaded", **fields: Any
) -> list[dict[str, Any]]:
    """`ok` ok requests and `failed` provider errors, all started at `clock` on the day."""
    return [req(at(clock), **fields) for _ in range(ok)] + [
        err(at(clock), error_type, **fields) for _ in range(failed)
    ]


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {
        name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
        for name in (
            *DERIVED_TABLES,
            "uptime_buckets_provider",
        )
    }


# ---------------------------------------------------------------- uptime_buckets


def bucket_rows(con: duckdb.DuckDBPyConnection, source: str, size: int) -> list[dict[str, Any]]:
    model = "model," if source == "uptime_buckets" else ""
    return rows(
        con,
        f"SELECT provider, {model} bucket_start, requests, eligible_requests, ok_requests, "
        f"provider_errors, client_errors, uptime FROM {source} "
        "WHERE bucket_minutes = $size ORDER BY ALL",
        {"size": size},
    )


def test_buckets_edges_null_uptime_and_excluded_client_errors(
    con: duckdb.DuckDBPyConnection,
) -> None:
    mini = "openai/gpt-5-mini"
    insert(
        con,
        [
            req(at("10:00:00")),
            req(at("10:04:59.999999")),
            err(at("10:05:00"), "rate_limit"),
            err(at("10:20:00"), "client_error"),
            err(at("10:21:00"), "cancelled", finish_reason="cancelled"),
            req("2025-03-05T11:01:00+01:00", model=mini),  # 10:01 UTC
            err(at("10:02:00"), "server_error", model=mini),
            req(at("10:03:00"), provider=None, model=None),
        ],
    )
    run_jobs(con)
    key = ("openai", "openai/gpt-5")
    assert bucket_rows(con, "uptime_buckets", 5) == [
        # provider, model, bucket, requests, eligible, ok, provider errs, client errs, uptime
        dict(zip(BUCKET_KEYS, row, strict=True))
        for row in [
            (*key, utc("10:00"), 2, 2, 2, 0, 0, 1.0),
            (*key, utc("10:05"), 1, 1, 0, 1, 0, 0.0),
            # only a client error and a cancellation: no eligible traffic, uptime unknown
            (*key, utc("10:20"), 2, 0, 0, 0, 1, None),
            ("openai", mini, utc("10:00"), 2, 2, 1, 1, 0, 0.5),
            ("unknown", "unknown", utc("10:00"), 1, 1, 1, 0, 0, 1.0),
        ]
    ]
    assert bucket_rows(con, "uptime_buckets", 15) == [
        dict(zip(BUCKET_KEYS, row, strict=True))
        for row in [
            (*key, utc("10:00"), 3, 3, 2, 1, 0, 2 / 3),
            (*key, utc("10:15"), 2, 0, 0, 0, 1, None),
            ("openai", mini, utc("10:00"), 2, 2, 1, 1, 0, 0.5),
            ("unknown", "unknown", utc("10:00"), 1, 1, 1, 0, 0, 1.0),
        ]
    ]
    # Across models, uptime is recomputed from the summed counts: 3 of 4, not mean(1, 0.5).
    provider_keys = [k for k in BUCKET_KEYS if k != "model"]
    assert bucket_rows(con, "uptime_buckets_provider", 5) == [
        dict(zip(provider_keys, row, strict=True))
        for row in [
            ("openai", utc("10:00"), 4, 4, 3, 1, 0, 0.75),
            ("openai", utc("10:05"), 1, 1, 0, 1, 0, 0.0),
            ("openai", utc("10:20"), 2, 0, 0, 0, 1, None),
            ("unknown", utc("10:00"), 1, 1, 1, 0, 0, 1.0),
        ]
    ]
    assert only(con, "SELECT DISTINCT period_start FROM uptime_buckets") == {
        "period_start": date(2025, 3, 5)
    }


BUCKET_KEYS = (
    "provider model bucket_start requests eligible_requests ok_requests provider_errors "
    "client_errors uptime"
).split()


# ---------------------------------------------------------------- uptime_incidents


def incident_traffic() -> list[dict[str, Any]]:
    p1 = {"provider": "p1", "model": "v/m1"}
    p2 = {"provider": "p2", "model": "v/m2"}
    p3 = {"provider": "p3", "model": "v/m3"}
    p4 = {"provider": "p4", "model": "v/m4"}
    return [
        # p1: bad 12:05, (no traffic 12:10), good 12:15 and 12:20, bad 12:25 → one incident;
        # then three good buckets end it and the lone failure at 12:45 is too small.
        *bucket("12:00", ok=5, **p1),
        *bucket("12:05", ok=1, failed=3, **p1),
        *bucket("12:15", ok=2, **p1),
        *bucket("12:20", ok=2, **p1),
        *bucket("12:25", failed=4, error_type="server_error", **p1),
        err(at("12:27"), "client_error", **p1),
        *bucket("12:30", ok=10, **p1),
        *bucket("12:35", ok=10, **p1),
        *bucket("12:40", ok=10, **p1),
        *bucket("12:45", failed=1, error_type="timeout", **p1),
        # p2: two bad buckets 35 minutes apart, 3 failures each: two chains, both too small.
        *bucket("09:00", failed=3, **p2),
        *bucket("09:35", failed=3, **p2),
        # p3: failing in the last bucket seen: ongoing.
        *bucket("23:40", ok=4, **p3),
        *bucket("23:55", failed=6, error_type="rate_limit", **p3),
        # p4: 6 failures in two bad buckets around a busy good one: overall uptime 0.94.
        *bucket("08:00", failed=3, **p4),
        *bucket("08:05", ok=100, **p4),
        *bucket("08:10", failed=3, **p4),
    ]


# Incidents this small are noise at the default minimum; these tests lower it.
FEW = AnalyticsSettings(incident_min_failed_requests=5)


INCIDENT_COLUMNS = (
    "provider model started_at ended_at duration_minutes buckets bad_buckets requests "
    "eligible_requests failed_requests uptime worst_uptime top_error_type top_error_share ongoing"
).split()


def incidents(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return rows(con, "SELECT * FROM uptime_incidents ORDER BY provider, model NULLS FIRST")


def test_incidents_chain_bad_buckets_and_keep_only_real_ones(
    con: duckdb.DuckDBPyConnection,
) -> None:
    insert(con, incident_traffic())
    run_jobs(con, settings=FEW)
    p1 = {
        "started_at": utc("12:05"),
        "ended_at": utc("12:30"),
        "duration_minutes": 25,
        "buckets": 5,
        "bad_buckets": 2,
        "requests": 13,  # the client error counts in requests only
        "eligible_requests": 12,
        "failed_requests": 7,
        "uptime": 5 / 12,
        "worst_uptime": 0.0,
        "top_error_type": "server_error",
        "top_error_share": 4 / 7,
        "ongoing": False,
    }
    p3 = {
        "started_at": utc("23:55"),
        "ended_at": utc("00:00", "2025-03-06"),
        "duration_minutes": 5,
        "buckets": 1,
        "bad_buckets": 1,
        "requests": 6,
        "eligible_requests": 6,
        "failed_requests": 6,
        "uptime": 0.0,
        "worst_uptime": 0.0,
        "top_error_type": "rate_limit",
        "top_error_share": 1.0,
        "ongoing": True,
    }
    # Each provider has one model: the same incident per provider (model NULL) and per model.
    assert incidents(con) == [
        {"provider": "p1", "model": None, **p1},
        {"provider": "p1", "model": "v/m1", **p1},
        {"provider": "p3", "model": None, **p3},
        {"provider": "p3", "model": "v/m3", **p3},
    ]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # a longer allowed gap joins p2's two buckets into one 40-minute incident
        (
            AnalyticsSettings(incident_max_gap_minutes=40, incident_min_failed_requests=5),
            {"p1": (utc("12:05"), utc("12:30")), "p2": (utc("09:00"), utc("09:40")), "p3": ...},
        ),
        # one good bucket allowed: p1's two good buckets split it into two small chains
        (
            AnalyticsSettings(incident_max_good_buckets=1, incident_min_failed_requests=5),
            {"p3": ...},
        ),
        # p1's bad buckets have 4 eligible requests each: no longer evidence
        (
            AnalyticsSettings(incident_min_bucket_requests=5, incident_min_failed_requests=5),
            {"p3": ...},
        ),
        # p4's chain (6 failures) counts when 6 are enough and 0.95 uptime is too low
        (
            AnalyticsSettings(incident_uptime_threshold=0.95, incident_min_failed_requests=6),
            {"p1": ..., "p3": ..., "p4": (utc("08:00"), utc("08:15"))},
        ),
    ],
)
def test_incident_thresholds_come_from_the_settings(
    con: duckdb.DuckDBPyConnection, settings: AnalyticsSettings, expected: dict[str, Any]
) -> None:
    insert(con, incident_traffic())
    run_jobs(con, settings=settings)
    found = {r["provider"]: (r["started_at"], r["ended_at"]) for r in incidents(con)}
    assert sorted(found) == sorted(expected)
    for provider, window in expected.items():
        if window is not ...:
            assert found[provider] == window


def test_no_incident_without_failures(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, [*bucket("10:00", ok=3), err(at("10:05"), "auth"), err(at("10:06"), "auth")])
    run_jobs(con)
    assert incidents(con) == []


# ---------------------------------------------------------------- provider_sla


def sla_traffic() -> list[dict[str, Any]]:
    mini = {"model": "openai/gpt-5-mini"}
    return [
        *bucket("10:00", ok=99, failed=1),  # gpt-5: uptime 0.99 exactly
        *bucket("11:00", ok=48, failed=2, **mini),
        *(err(at("11:30"), "client_error", **mini) for _ in range(3)),
        *(req(at("09:00", "2025-03-10")) for _ in range(10)),  # next ISO week, same month
        err(at("09:00"), "auth", provider="anthropic", model="anthropic/claude-sonnet-4.5"),
    ]


def sla(con: duckdb.DuckDBPyConnection, period: str, provider: str, model: str | None) -> dict:
    """The row of the period that holds 2025-03-05."""
    return only(
        con,
        "SELECT * EXCLUDE (period, provider, model) FROM provider_sla "
        "WHERE period = $period AND provider = $provider AND model IS NOT DISTINCT FROM $model "
        "AND DATE '2025-03-05' >= period_start AND DATE '2025-03-05' < period_end",
        {"period": period, "provider": provider, "model": model},
    )


def test_sla_attainment_and_error_budget(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, sla_traffic())
    run_jobs(con, settings=AnalyticsSettings(sla_target=0.99))
    week = {"period_start": date(2025, 3, 3), "period_end": date(2025, 3, 10), "sla_target": 0.99}
    assert sla(con, "week", "openai", "openai/gpt-5") == {
        **week,
        "requests": 100,
        "eligible_requests": 100,
        "ok_requests": 99,
        "provider_errors": 1,
        "uptime": 0.99,
        "attained": True,
        "error_budget_requests": pytest.approx(1.0),
        "budget_used": pytest.approx(1.0),
        "budget_remaining": pytest.approx(0.0),
    }
    assert sla(con, "week", "openai", "openai/gpt-5-mini") == {
        **week,
        "requests": 53,
        "eligible_requests": 50,
        "ok_requests": 48,
        "provider_errors": 2,
        "uptime": 0.96,
        "attained": False,
        "error_budget_requests": pytest.approx(0.5),
        "budget_used": pytest.approx(4.0),
        "budget_remaining": pytest.approx(-1.5),
    }
    # across models: from summed counts
    assert sla(con, "week", "openai", None) == {
        **week,
        "requests": 153,
        "eligible_requests": 150,
        "ok_requests": 147,
        "provider_errors": 3,
        "uptime": 0.98,
        "attained": False,
        "error_budget_requests": pytest.approx(1.5),
        "budget_used": pytest.approx(2.0),
        "budget_remaining": pytest.approx(-1.5),
    }
    month = sla(con, "month", "openai", None)
    assert (month["period_start"], month["period_end"]) == (date(2025, 3, 1), date(2025, 4, 1))
    assert (month["eligible_requests"], month["provider_errors"]) == (160, 3)
    assert month["budget_used"] == pytest.approx(3 / 1.6)
    # client errors only: nothing to judge, no budget
    anthropic = sla(con, "week", "anthropic", None)
    assert {k: anthropic[k] for k in ("uptime", "attained", "budget_used")} == dict.fromkeys(
        ("uptime", "attained", "budget_used")
    )
    assert (anthropic["error_budget_requests"], anthropic["budget_remaining"]) == (0.0, 0.0)
    days = rows(
        con,
        "SELECT period_start, uptime FROM provider_sla "
        "WHERE period = 'day' AND provider = 'openai' AND model IS NULL ORDER BY 1",
    )
    assert days == [
        {"period_start": date(2025, 3, 5), "uptime": 0.98},
        {"period_start": date(2025, 3, 10), "uptime": 1.0},
    ]


# ---------------------------------------------------------------- incremental and config


def test_incremental_after_late_data_equals_full_and_second_run_changes_nothing(
    con: duckdb.DuckDBPyConnection,
) -> None:
    insert(con, [*incident_traffic(), *sla_traffic()])
    run_jobs(con, settings=FEW)
    late = [
        *bucket("12:10", failed=5, provider="p2", model="v/m2", ingested_at=INGESTED_LATER),
        req(at("07:00", "2025-03-01"), ingested_at=INGESTED_LATER),
    ]
    insert(con, late)
    result = run_jobs(con, settings=FEW)
    assert result.job("uptime_buckets").periods == (date(2025, 3, 1), date(2025, 3, 5))
    incremental = snapshot(con)
    assert run_jobs(con, settings=FEW).job("uptime_buckets").periods == ()
    assert snapshot(con) == incremental
    run_jobs(con, full=True, settings=FEW)
    assert snapshot(con) == incremental
    p2 = [r for r in incidents(con) if r["provider"] == "p2"]
    assert [(r["started_at"], r["failed_requests"]) for r in p2] == [(utc("12:10"), 5)] * 2


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "gatewatch.toml"
    path.write_text(text)
    return str(path)


def test_config_sla_target_reaches_the_jobs(
    con: duckdb.DuckDBPyConnection, warehouse: Warehouse, tmp_path: Path
) -> None:
    user = load_user_config(write_config(tmp_path, "[analytics]\nsla_target = 0.995\n"))
    assert user.analytics == AnalyticsSettings(sla_target=0.995)
    insert(con, sla_traffic())
    JobRunner(warehouse, publish=False, settings=user.analytics).run()
    targets = con.execute("SELECT DISTINCT sla_target FROM provider_sla").fetchall()
    assert targets == [(0.995,)]


def test_jobs_run_command_uses_the_config_file(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    wh = Warehouse.open(db)
    insert(wh.connection, incident_traffic())
    wh.close()
    config = write_config(
        tmp_path, "[analytics]\nincident_max_gap_minutes = 40\nincident_min_failed_requests = 5\n"
    )
    result = CliRunner().invoke(cli, ["--config", config, "jobs", "run", "--db", str(db)])
    assert result.exit_code == 0, result.output
    wh = Warehouse.open(db, read_only=True)
    try:
        found = wh.connection.execute(
            "SELECT DISTINCT provider FROM uptime_incidents ORDER BY 1"
        ).fetchall()
    finally:
        wh.close()
    assert found == [("p1",), ("p2",), ("p3",)]


def test_config_values_are_typed(tmp_path: Path) -> None:
    text = "[analytics]\nincident_uptime_threshold = 1\nincident_max_good_buckets = 3.0\n"
    settings = load_user_config(write_config(tmp_path, text)).analytics
    assert settings.incident_uptime_threshold == 1.0
    assert isinstance(settings.incident_uptime_threshold, float)
    assert settings.incident_max_good_buckets == 3
    assert isinstance(settings.incident_max_good_buckets, int)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("analytics = 3", "[analytics] must be a table"),
        ("[analytics]\nsla = 0.9", "[analytics] unknown setting(s) sla; known: sla_target"),
        ("[analytics]\nsla_target = '0.9'", "[analytics] sla_target: expected a number"),
        ("[analytics]\nsla_target = true", "[analytics] sla_target: expected a number"),
        ("[analytics]\nsla_target = 1", "sla_target: 1 is not between 0 and 1 (exclusive)"),
        ("[analytics]\nincident_max_good_buckets = 1.5", "expected a whole number, got 1.5"),
        ("[analytics]\nincident_max_gap_minutes = 1", "incident_max_gap_minutes: 1 is not"),
        ("[analytics]\nbatch_min_share_of_days = 0", "batch_min_share_of_days: 0 is not in"),
    ],
)
def test_bad_analytics_settings_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(GatewatchError, match=re.escape(message)):
        load_user_config(write_config(tmp_path, text))


def test_every_setting_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "schema.md").read_text()
    for name in AnalyticsSettings.__dataclass_fields__:
        assert f"`{name}`" in doc
