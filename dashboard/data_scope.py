"""Filter clauses shared by the queries of derived tables that lack some global dimension.

`dashboard.data._where` fits tables keyed by day, provider, model and app; the uptime,
divergence and routing tables have only some of these keys, so their queries assemble the
clauses they can apply from the pieces below.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dashboard.data import Filters

Clauses = tuple[list[str], dict[str, Any]]


def key_clauses(filters: Filters, *, model_scope: bool = False) -> Clauses:
    """Provider and model restrictions, as SQL clauses with their `$params`.

    `model_scope` is for tables whose NULL `model` rows speak for all models of a provider
    (`uptime_incidents`, `provider_sla`): without a model filter those rows are the ones to
    read, with one the per-model rows of the selected models are.
    """
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if filters.providers:
        clauses.append("list_contains($providers, provider)")
        params["providers"] = list(filters.providers)
    if filters.models:
        clauses.append("list_contains($models, model)")
        params["models"] = list(filters.models)
    elif model_scope:
        clauses.append("model IS NULL")
    return clauses, params


def range_params(filters: Filters) -> dict[str, Any]:
    """The selected UTC days as a half-open timestamp range [`range_start`, `range_end`)."""
    return {"range_start": filters.start, "range_end": filters.end + timedelta(days=1)}


def first_week(day: date) -> date:
    """The Monday of the ISO week holding `day`: weekly rows overlapping a range start here."""
    return day - timedelta(days=day.weekday())


def where(clauses: list[str]) -> str:
    return " AND ".join(clauses) if clauses else "true"
