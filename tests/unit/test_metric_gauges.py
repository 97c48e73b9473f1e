"""The computed metrics on /metrics equal the records' arithmetic: uptime per provider over
1 h / 24 h / 7 d, tool-call rate and reasoning share over 7 days, open incidents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from analytics.jobs import run_jobs
from gatewatch.metric_gauges import WarehouseGauges
from ingest.app import create_app
from ingest.metrics import IngestMetrics
from ingest.writer import BatchWriter
from tests.unit.test_stats_jobs import err, insert, req
from warehouse.db import Warehouse

NOW = datetime.now(UTC).replace(microsecond=0)


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).isoformat()


def planted() -> list[dict[str, Any]]:
    """openai: 3 ok + 1 rate limit 20 min ago, 4 ok 5 h ago, 2 ok + 2 server errors 3 days
    ago; anthropic: 12 overloaded in the last 15 minutes (an ongoing incident), 6 ok 2 days
    ago. Tool calls and reasoning on some ok answers; a client error counts nowhere."""
    openai = {"provider": "openai", "model": "openai/gpt-5"}
    claude = {"provider": "anthropic", "model": "anthropic/claude-sonnet-4.5"}
    return [
        req(ago(minutes=20), finish_reason="tool_calls", output_tokens=100, **openai),
        req(ago(minutes=21), output_tokens=100, reasoning_tokens=40, **openai),
        req(ago(minutes=22), output_tokens=200, reasoning_tokens=20, **openai),
        err(ago(minutes=23), "rate_limit", **openai),
        err(ago(minutes=24), "client_error", **openai),
        *[req(ago(hours=5, minutes=n), output_tokens=50, **openai) for n in range(4)],
        *[req(ago(days=3, minutes=n), finish_reason="tool_calls", **openai) for n in range(2)],
        *[err(ago(days=3, minutes=n), "server_error", **openai) for n in range(2)],
        *[err(ago(minutes=2 + n), "overloaded", **claude) for n in range(12)],
        *[req(ago(days=2, minutes=n), output_tokens=10, reasoning_tokens=5, **claude)
          for n in range(6)],
    ]  # fmt: skip


def scrape(warehouse: Warehouse, writer: BatchWriter) -> dict[tuple[str, tuple], float]:
    metrics = IngestMetrics(writer)
    metrics.registry.register(WarehouseGauges(warehouse.cursor))
    text = TestClient(create_app(writer, metrics=metrics)).get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.name.startswith("gatewatch_ingest_")
    }


def test_computed_gauges_are_the_records_arithmetic(
    warehouse: Warehouse, writer: BatchWriter
) -> None:
    insert(warehouse.connection, planted())
    run_jobs(warehouse.connection, full=True)
    gauges = scrape(warehouse, writer)

    def up(provider: str, window: str) -> float | None:
        return gauges.get(
            ("gatewatch_provider_uptime", (("provider", provider), ("window", window)))
        )

    assert up("openai", "1h") == 3 / 4
    assert up("openai", "24h") == 7 / 8
    assert up("openai", "7d") == 9 / 12
    assert up("anthropic", "1h") == up("anthropic", "24h") == 0.0
    assert up("anthropic", "7d") == 6 / 18
    labels = (("model", "openai/gpt-5"), ("provider", "openai"), ("window", "7d"))
    assert gauges[("gatewatch_tool_call_rate", labels)] == 3 / 9
    assert gauges[("gatewatch_reasoning_share", labels)] == 60 / 300
    claude = (("model", "anthropic/claude-sonnet-4.5"), ("provider", "anthropic"), ("window", "7d"))
    assert gauges[("gatewatch_reasoning_share", claude)] == 30 / 60
    assert gauges[("gatewatch_tool_call_rate", claude)] == 0.0
    assert gauges[("gatewatch_open_incidents", (("provider", "anthropic"),))] == 1
    assert gauges[("gatewatch_open_incidents", (("provider", "openai"),))] == 0


def test_an_empty_warehouse_gives_the_families_without_samples(
    warehouse: Warehouse, writer: BatchWriter
) -> None:
    run_jobs(warehouse.connection, full=True)
    assert scrape(warehouse, writer) == {}
