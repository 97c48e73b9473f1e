"""Incident rules: one message when an `uptime_incidents` row opens, one when it is over.

An incident is over when the evidence says it can no longer grow, by the same chaining rules
the job uses (`docs/schema.md`): more than `incident_max_good_buckets` good buckets after its
last bad one, or evidence more than `incident_max_gap_minutes` after it. The job's `ongoing`
flag alone turns false at the first good bucket, and a bad one after it would reopen the same
incident; waiting for the chain to be closed is what makes one message per incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import duckdb

from analytics.jobs.uptime import INCIDENT_BUCKET_MINUTES
from analytics.settings import AnalyticsSettings
from gatewatch.alerts.conditions import Condition, Told, iso, subject
from gatewatch.alerts.rules import AlertRule

INCIDENTS_SQL = f"""
WITH incidents AS (
    SELECT * FROM uptime_incidents
    WHERE (model IS NULL) = $provider_level AND ended_at >= $since
),
evidence AS (
    SELECT provider, CAST(NULL AS VARCHAR) AS model, bucket_start, uptime
    FROM uptime_buckets_provider
    WHERE $provider_level AND bucket_minutes = {INCIDENT_BUCKET_MINUTES}
      AND bucket_start >= $since AND eligible_requests >= $min_bucket_requests
    UNION ALL
    SELECT provider, model, bucket_start, uptime
    FROM uptime_buckets
    WHERE NOT $provider_level AND bucket_minutes = {INCIDENT_BUCKET_MINUTES}
      AND bucket_start >= $since AND eligible_requests >= $min_bucket_requests
)
SELECT i.provider, i.model, i.started_at, i.ended_at, i.duration_minutes,
    i.eligible_requests, i.failed_requests, i.uptime, i.worst_uptime,
    i.top_error_type, i.top_error_share, i.ongoing,
    count(e.bucket_start) FILTER (WHERE e.uptime >= $threshold) AS good_after,
    max(e.bucket_start) AS last_evidence
FROM incidents AS i
LEFT JOIN evidence AS e
    ON e.provider = i.provider AND e.model IS NOT DISTINCT FROM i.model
    AND e.bucket_start >= i.ended_at
GROUP BY ALL
ORDER BY i.started_at, i.provider, i.model
"""


def conditions(
    con: duckdb.DuckDBPyConnection,
    rule: AlertRule,
    settings: AnalyticsSettings,
    now: datetime,
    previous: Mapping[str, Told],
) -> list[Condition]:
    cursor = con.execute(
        INCIDENTS_SQL,
        {
            "provider_level": rule.per == "provider",
            "since": now - timedelta(hours=rule.lookback_hours),
            "threshold": settings.incident_uptime_threshold,
            "min_bucket_requests": settings.incident_min_bucket_requests,
        },
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    told_details = {key: told.details for key, told in previous.items()}
    found = []
    for row in rows:
        over = _over(row, settings)
        details = _details(row, over)
        found.append(
            Condition(
                key=_adopted_key(details, told_details),
                active=not over,
                fired_summary=_opened_text(details),
                resolved_summary=_over_text(details),
                details=details,
                catch_up=True,
            )
        )
    return found


def _over(row: Mapping[str, Any], settings: AnalyticsSettings) -> bool:
    if row["good_after"] > settings.incident_max_good_buckets:
        return True
    last_bad_start = row["ended_at"] - timedelta(minutes=INCIDENT_BUCKET_MINUTES)
    gap = timedelta(minutes=settings.incident_max_gap_minutes)
    # Any later bad bucket starts after the last evidence, so further than the gap allows.
    return row["last_evidence"] is not None and row["last_evidence"] - last_bad_start >= gap


def _details(row: Mapping[str, Any], over: bool) -> dict[str, Any]:
    return {
        "subject": subject(row["provider"], row["model"]),
        "provider": row["provider"],
        "model": row["model"],
        "started_at": iso(row["started_at"]),
        "ended_at": iso(row["ended_at"]),
        "duration_minutes": row["duration_minutes"],
        "eligible_requests": row["eligible_requests"],
        "failed_requests": row["failed_requests"],
        "uptime": row["uptime"],
        "worst_uptime": row["worst_uptime"],
        "top_error_type": row["top_error_type"],
        "top_error_share": row["top_error_share"],
        "over": over,
    }


def _key(details: Mapping[str, Any]) -> str:
    return f"{details['provider']}|{details['model'] or '*'}|{details['started_at']}"


def _adopted_key(details: Mapping[str, Any], told: Mapping[str, Mapping[str, Any]]) -> str:
    """The key of an incident already told (open or over) that this one overlaps: late data
    can move an incident's first bad bucket, and it is still the same incident."""
    key = _key(details)
    if key in told:
        return key
    for told_key, earlier in told.items():
        if (
            earlier.get("provider") == details["provider"]
            and earlier.get("model") == details["model"]
            and earlier.get("started_at", "") < details["ended_at"]
            and earlier.get("ended_at", "") > details["started_at"]
        ):
            return told_key
    return key


def _clock(stamp: str) -> str:
    return f"{stamp[:10]} {stamp[11:16]} UTC"


def _cause(details: Mapping[str, Any]) -> str:
    if not details["top_error_type"]:
        return ""
    return f", mostly {details['top_error_type']} ({details['top_error_share']:.0%})"


def _opened_text(details: Mapping[str, Any]) -> str:
    return (
        f"{details['subject']}: incident since {_clock(details['started_at'])}, uptime "
        f"{details['uptime']:.1%} ({details['failed_requests']} of "
        f"{details['eligible_requests']} eligible requests failed{_cause(details)})"
    )


def _over_text(details: Mapping[str, Any]) -> str:
    return (
        f"{details['subject']}: incident over, {_clock(details['started_at'])} to "
        f"{details['ended_at'][11:16]} UTC ({details['duration_minutes']} min), uptime "
        f"{details['uptime']:.1%}, {details['failed_requests']} failed requests{_cause(details)}"
    )
