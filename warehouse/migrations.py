"""Ordered, named schema migrations, recorded in `_gatewatch_migrations`.

Each migration is a function taking a connection; `MIGRATIONS` lists them in order. A
migration runs once, inside one transaction together with its bookkeeping row. Never edit
a migration that has shipped: add a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from warehouse.schema import requests_ddl

Migration = Callable[[duckdb.DuckDBPyConnection], None]

MIGRATIONS_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS _gatewatch_migrations (
    name VARCHAR PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def m001_requests(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(requests_ddl())
    con.execute("CREATE INDEX requests_started_at ON requests (started_at)")


MIGRATIONS: list[Migration] = [
    m001_requests,
]


def applied_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    con.execute(MIGRATIONS_TABLE_SQL)
    rows = con.execute("SELECT name FROM _gatewatch_migrations ORDER BY applied_at, name")
    return [r[0] for r in rows.fetchall()]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every pending migration; return the names applied now."""
    done = set(applied_migrations(con))
    applied: list[str] = []
    for migration in MIGRATIONS:
        name = migration.__name__
        if name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            migration(con)
            con.execute("INSERT INTO _gatewatch_migrations (name) VALUES (?)", [name])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
