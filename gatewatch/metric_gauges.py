"""The computed metrics as Prometheus gauges on `serve`'s /metrics, so an existing Prometheus
and Grafana can alert on and chart them: uptime per provider, tool-call rate and reasoning
share per provider and model, open incidents. Read from the batch jobs' tables at scrape time,
so they are as fresh as the last job run; ratios follow SPEC §4 (recomputed from summed
counts; a zero denominator gives no sample, never 0 or 1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import duckdb
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

PREFIX = "gatewatch_"
# Uptime windows, ending now, over the 5-minute buckets of every model of a provider.
UPTIME_WINDOWS = (("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days"))
# Tool-call rate and reasoning share: the last seven UTC days, today included.
RATE_DAYS = 7

UPTIME_SQL = f"""
SELECT provider, label,
    sum(ok_requests) / nullif(sum(eligible_requests), 0) AS uptime
FROM uptime_buckets_provider,
    (VALUES {", ".join(f"('{label}', INTERVAL '{span}')" for label, span in UPTIME_WINDOWS)})
        AS windows(label, span)
WHERE bucket_minutes = 5 AND bucket_start >= now() - span
GROUP BY provider, label
ORDER BY provider, label
"""

RATES_SQL = """
SELECT provider, model,
    sum(tool_call_requests) / nullif(sum(ok_requests), 0) AS tool_call_rate,
    sum(reasoning_tokens) / nullif(sum(reasoning_output_tokens), 0) AS reasoning_share
FROM stats_daily
WHERE period_start > current_date - $days
GROUP BY provider, model
ORDER BY provider, model
"""

# Every provider with traffic in the last 7 days has a sample, 0 when nothing is open.
OPEN_INCIDENTS_SQL = """
WITH providers AS (
    SELECT DISTINCT provider FROM uptime_buckets_provider
    WHERE bucket_minutes = 5 AND bucket_start >= now() - INTERVAL '7 days'
    UNION
    SELECT provider FROM uptime_incidents WHERE model IS NULL AND ongoing
)
SELECT p.provider, count(i.provider) AS open
FROM providers p
LEFT JOIN uptime_incidents i
    ON i.provider = p.provider AND i.model IS NULL AND i.ongoing
GROUP BY p.provider
ORDER BY p.provider
"""


class WarehouseGauges(Collector):
    """Yields the gauges from a cursor of the owner's connection at each scrape."""

    def __init__(self, cursor: Callable[[], duckdb.DuckDBPyConnection]) -> None:
        self._cursor = cursor

    def collect(self) -> Iterator[Metric]:
        cursor = self._cursor()
        uptime = GaugeMetricFamily(
            PREFIX + "provider_uptime",
            "ok / (ok + provider errors) per provider over the window ending now, from the "
            "5-minute uptime buckets of the last job run.",
            labels=["provider", "window"],
        )
        for provider, window, value in cursor.sql(UPTIME_SQL).fetchall():
            if value is not None:
                uptime.add_metric([provider, window], value)
        yield uptime
        tool_rate = GaugeMetricFamily(
            PREFIX + "tool_call_rate",
            f"Ok requests that ended in tool calls / ok requests, last {RATE_DAYS} UTC days.",
            labels=["provider", "model", "window"],
        )
        reasoning = GaugeMetricFamily(
            PREFIX + "reasoning_share",
            "Reasoning tokens / output tokens of the ok requests that reported reasoning, "
            f"last {RATE_DAYS} UTC days.",
            labels=["provider", "model", "window"],
        )
        rates = cursor.sql(RATES_SQL, params={"days": RATE_DAYS}).fetchall()
        for provider, model, tool_call_rate, reasoning_share in rates:
            labels = [provider, model, f"{RATE_DAYS}d"]
            if tool_call_rate is not None:
                tool_rate.add_metric(labels, tool_call_rate)
            if reasoning_share is not None:
                reasoning.add_metric(labels, reasoning_share)
        yield tool_rate
        yield reasoning
        incidents = GaugeMetricFamily(
            PREFIX + "open_incidents",
            "Ongoing uptime incidents per provider (all models), as of the last job run.",
            labels=["provider"],
        )
        for provider, open_count in cursor.sql(OPEN_INCIDENTS_SQL).fetchall():
            incidents.add_metric([provider], open_count)
        yield incidents
