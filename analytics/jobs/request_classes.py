"""SQL conditions that sort `requests` rows into the error classes of SPEC §4, shared by the
jobs that count them (the lists themselves live in `warehouse.schema`)."""

from __future__ import annotations

from warehouse.schema import CLIENT_ERROR_TYPES, PROVIDER_ERROR_TYPES


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


PROVIDER_ERROR_SQL = f"status = 'error' AND error_type IN ({_sql_list(PROVIDER_ERROR_TYPES)})"
CLIENT_ERROR_SQL = f"status = 'error' AND error_type IN ({_sql_list(CLIENT_ERROR_TYPES)})"
# Throttled by the provider: classified `rate_limit`, or answered 429 whatever the class.
RATE_LIMITED_SQL = "status = 'error' AND (error_type = 'rate_limit' OR http_status = 429)"
