"""The warehouse as the signed-in user may see it.

With sign-in on, the app's callbacks and layout get this in place of the warehouse. Each
query asks who the request's user is: an admin reads the warehouse, a tenant user the scope
of its tenants (`analytics.tenant_scopes`), so a crafted callback can only ever read its own
tenants' rows and stats. A query outside a signed-in request is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from analytics.tenant_scopes import TenantScopes
from dashboard.auth.users import User
from warehouse.db import Warehouse, WarehouseError


class NotSignedIn(RuntimeError):
    """A dashboard query with no signed-in user behind it."""


class ScopedWarehouse(Warehouse):
    def __init__(
        self,
        warehouse: Warehouse,
        scopes: TenantScopes,
        current_user: Callable[[], User | None],
    ) -> None:
        super().__init__(warehouse.connection, warehouse.path, read_only=True)
        self._base = warehouse
        self._scopes = scopes
        self._current_user = current_user

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._base.connection  # the live one, also after the warehouse reopens

    def _user(self) -> User:
        user = self._current_user()
        if user is None:
            raise NotSignedIn("dashboard query without a signed-in user")
        return user

    def cursor(self) -> duckdb.DuckDBPyConnection:
        user = self._user()
        if user.tenants is not None:
            raise NotSignedIn("tenant-scoped reads go through query_arrow or query_df")
        return self._base.cursor()

    def query_arrow(self, sql: str, params: dict[str, Any] | list[Any] | None = None) -> pa.Table:
        user = self._user()
        if user.tenants is None:
            return self._base.query_arrow(sql, params)
        cursor = self._scopes.cursor(user.tenants)
        try:
            rel = cursor.sql(sql, params=params or None)
            if rel is None:
                raise WarehouseError("query returned no result set")
            return rel.to_arrow_table()
        finally:
            cursor.close()

    def reopen(self) -> None:
        raise WarehouseError("the dashboard's view of the warehouse cannot reopen it")

    def close(self) -> None:
        """The warehouse belongs to its owner; nothing to close here."""
