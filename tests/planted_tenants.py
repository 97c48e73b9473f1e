"""A planted warehouse with two tenants (the rows of `tests.planted_requests`: 120 requests,
30 of tenant "acme", 30 of "globex", 60 with no tenant), plus dashboard users for them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from analytics.jobs import run_jobs
from dashboard.auth.settings import SignIn
from dashboard.auth.users import User, hash_password
from ingest.record import Record, records_to_table
from tests.planted_requests import planted_records, planted_rows
from warehouse.db import Warehouse

PASSWORDS = {"ana": "acme-pass-1", "gus": "globex-pass-2", "root": "admin-pass-3"}


def tenant_records(keep: Callable[[dict[str, Any]], bool] = lambda row: True) -> list[Record]:
    kept = {row["request_id"] for row in planted_rows() if keep(row)}
    return [record for record in planted_records() if record["request_id"] in kept]


def build(path: Path | str, records: list[Record]) -> Warehouse:
    """Migrations, the records as `requests` (by column name), then every batch job."""
    warehouse = Warehouse.open(path)
    warehouse.connection.register("traffic", records_to_table(records))
    warehouse.connection.execute("INSERT INTO requests BY NAME SELECT * FROM traffic")
    warehouse.connection.unregister("traffic")
    run_jobs(warehouse.connection, full=True)
    return warehouse


def sign_in() -> SignIn:
    """ana sees acme, gus globex, root every tenant."""
    tenants = {"ana": ("acme",), "gus": ("globex",), "root": None}
    return SignIn(
        users={
            name: User(name, hash_password(PASSWORDS[name]), tenants[name]) for name in PASSWORDS
        }
    )
