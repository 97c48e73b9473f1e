"""Tunable thresholds and targets of the batch jobs, with their defaults.

Jobs read the fields they name (`PeriodJob.settings` / `RebuildJob.settings`) as `$name`
SQL parameters, so every threshold is documented here once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AnalyticsSettings:
    sla_target: float = 0.999
    """Uptime a provider is held to (SLA attainment and error budget)."""
