"""Stats per tenant set: every derived table, computed from that set's requests only.

The derived tables have no tenant key, and most of them (percentiles, incidents, pools,
significance tests) cannot be summed from per-tenant parts anyway. So a dashboard user
restricted to some tenants reads a *scope*: one schema in a side database attached as
`gw_scopes` (file `<db>.scopes`), holding
- `requests`: a view of the warehouse's `requests` restricted to those tenants;
- a table for each batch job's output, and the warehouse's views over them, rebuilt by the
  same jobs from that view (incrementally, after each run of the warehouse's jobs).
The numbers are therefore exactly what the jobs compute on that tenant set's traffic.

A cursor on a scope (`USE gw_scopes.<scope>`) resolves unqualified names in that schema and
then in `gw_scopes.main`, which is empty: a table the scope lacks is an error, never the
warehouse's unscoped table. A scope is rebuilt in full when the warehouse's derived-table
definitions change (a migration) or when it is new.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Sequence

import duckdb

from analytics.jobs import ALL_JOBS, Job, JobsResult, run_job_list
from analytics.settings import AnalyticsSettings
from warehouse.db import Warehouse

log = logging.getLogger(__name__)

SCOPES_DB = "gw_scopes"
JOB_STATE_TABLE = "_gatewatch_job_state"
# Raw tables: a scope reads them through views restricted to its tenants, never copies them.
RAW_TABLES = frozenset({"requests", "tool_spans"})
# Tables the jobs read that hold no request data (the retention cutoff, the price table): a
# scope reads the warehouse's own through a view. Only those that exist are linked.
SHARED_TABLES = ("_gatewatch_retention", "model_prices")

_SCOPES_TABLE_SQL = f"""
CREATE TABLE IF NOT EXISTS {SCOPES_DB}.main.scopes (
    scope VARCHAR PRIMARY KEY,
    tenants VARCHAR[] NOT NULL,
    definition VARCHAR NOT NULL,  -- hash of the DDL the scope was built from
    built BOOLEAN NOT NULL        -- false until its first full jobs run has committed
)
"""
_DERIVED_DDL_SQL = """
SELECT 'table' AS kind, table_name AS name, sql FROM duckdb_tables()
WHERE database_name = $db AND schema_name = 'main'
UNION ALL
SELECT 'view', view_name, sql FROM duckdb_views()
WHERE database_name = $db AND schema_name = 'main' AND NOT internal
ORDER BY kind, name
"""


def scope_name(tenants: Sequence[str]) -> str:
    digest = hashlib.sha256("\x1f".join(sorted(tenants)).encode()).hexdigest()[:16]
    return f"tenants_{digest}"


def scope_jobs(jobs: Sequence[Job] = ALL_JOBS) -> tuple[Job, ...]:
    """The jobs a scope runs: those writing derived tables (not ones updating raw rows)."""
    return tuple(job for job in jobs if job.table not in RAW_TABLES)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class TenantScopes:
    def __init__(
        self,
        warehouse: Warehouse,
        tenant_sets: Iterable[Sequence[str]],
        *,
        settings: AnalyticsSettings | None = None,
        jobs: Sequence[Job] = ALL_JOBS,
    ) -> None:
        self._warehouse = warehouse
        self.tenant_sets = sorted({tuple(sorted(t)) for t in tenant_sets})
        self._settings = settings or AnalyticsSettings()
        self._jobs = scope_jobs(jobs)
        self.path = ":memory:" if warehouse.path == ":memory:" else f"{warehouse.path}.scopes"
        self._lock = threading.Lock()  # one prepare/refresh at a time

    def _attach(self, cursor: duckdb.DuckDBPyConnection) -> None:
        # Idempotent: the warehouse may have been reopened, which drops attachments.
        cursor.execute(f"ATTACH IF NOT EXISTS {_literal(self.path)} AS {SCOPES_DB}")

    def _main_db(self, cursor: duckdb.DuckDBPyConnection) -> str:
        ((name,),) = cursor.execute("SELECT current_database()").fetchall()
        return str(name)

    def _derived(self, cursor: duckdb.DuckDBPyConnection, main: str) -> list[tuple[str, str, str]]:
        """(kind, name, DDL) of the shared tables (no DDL: linked), the derived tables and
        the views over them, in creation order."""
        written = {job.table for job in self._jobs} | {JOB_STATE_TABLE}
        rows = cursor.execute(_DERIVED_DDL_SQL, {"db": main}).fetchall()
        tables = [r for r in rows if r[0] == "table" and r[1] in written]
        shared = [("shared", r[1], "") for r in rows if r[0] == "table" and r[1] in SHARED_TABLES]
        views = [r for r in rows if r[0] == "view"]
        return shared + tables + views

    def prepare(self) -> None:
        """Create the scopes that are missing or outdated (empty until `refresh`), drop the
        ones no user needs any longer."""
        with self._lock:
            cursor = self._warehouse.connection.cursor()
            try:
                self._prepare(cursor)
            finally:
                cursor.close()

    def _prepare(self, cursor: duckdb.DuckDBPyConnection) -> None:
        main = self._main_db(cursor)
        self._attach(cursor)
        cursor.execute(_SCOPES_TABLE_SQL)
        derived = self._derived(cursor, main)
        definition = hashlib.sha256(repr((main, derived)).encode()).hexdigest()
        known = dict(cursor.execute(f"SELECT scope, definition FROM {SCOPES_DB}.scopes").fetchall())
        wanted = {scope_name(tenants): tenants for tenants in self.tenant_sets}
        for scope in set(known) - set(wanted):
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCOPES_DB}.{scope} CASCADE")
            cursor.execute(f"DELETE FROM {SCOPES_DB}.scopes WHERE scope = $s", {"s": scope})
        for scope, tenants in wanted.items():
            if known.get(scope) != definition:
                self._create(cursor, main, scope, tenants, derived, definition)

    def _create(
        self,
        cursor: duckdb.DuckDBPyConnection,
        main: str,
        scope: str,
        tenants: tuple[str, ...],
        derived: list[tuple[str, str, str]],
        definition: str,
    ) -> None:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCOPES_DB}.{scope} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCOPES_DB}.{scope}")
        allowed = ", ".join(_literal(t) for t in tenants)
        source = f"{_ident(main)}.main"
        cursor.execute(
            f"CREATE VIEW {SCOPES_DB}.{scope}.requests AS "
            # rowid as a column: the request explorer pages by it, and a view has none.
            f"SELECT *, rowid AS rowid FROM {source}.requests WHERE tenant IN ({allowed})"
        )
        present = {name for kind, name, _ in derived if kind == "shared"}
        for table in SHARED_TABLES:
            if table in present:
                cursor.execute(
                    f"CREATE VIEW {SCOPES_DB}.{scope}.{table} AS SELECT * FROM {source}.{table}"
                )
        scoped = self._warehouse.connection.cursor()
        try:
            scoped.execute(f"USE {SCOPES_DB}.{scope}")
            for kind, name, ddl in derived:
                if kind == "shared":
                    continue
                # The warehouse's own DDL, run where unqualified names mean this scope.
                try:
                    scoped.execute(ddl)
                except (duckdb.CatalogException, duckdb.BinderException):
                    if kind == "table":
                        raise
                    # A view over a table scopes do not hold stays out (reading it fails).
                    log.warning("tenant scope %s: view %s left out", scope, name)
        finally:
            scoped.close()
        cursor.execute(
            f"INSERT OR REPLACE INTO {SCOPES_DB}.scopes VALUES ($s, $t, $d, false)",
            {"s": scope, "t": list(tenants), "d": definition},
        )

    def refresh(self, _after: object = None) -> list[JobsResult]:
        """Run the jobs in every scope: in full for a scope not built yet, else on what
        arrived since its last run. Fits `JobRunner(after_run=...)`."""
        results = []
        with self._lock:
            cursor = self._warehouse.connection.cursor()
            try:
                self._prepare(cursor)
                built = dict(
                    cursor.execute(f"SELECT scope, built FROM {SCOPES_DB}.scopes").fetchall()
                )
                for tenants in self.tenant_sets:
                    scope = scope_name(tenants)
                    results.append(self._run(scope, full=not built.get(scope, False)))
                    if not built.get(scope, False):
                        cursor.execute(
                            f"UPDATE {SCOPES_DB}.scopes SET built = true WHERE scope = $s",
                            {"s": scope},
                        )
            finally:
                cursor.close()
        return results

    def _run(self, scope: str, *, full: bool) -> JobsResult:
        scoped = self._warehouse.connection.cursor()
        try:
            scoped.execute("SET TimeZone = 'UTC'")
            scoped.execute(f"USE {SCOPES_DB}.{scope}")
            return run_job_list(scoped, self._jobs, full=full, settings=self._settings)
        finally:
            scoped.close()

    def cursor(self, tenants: Sequence[str]) -> duckdb.DuckDBPyConnection:
        """A new cursor that reads the scope of `tenants` (the caller closes it)."""
        cursor = self._warehouse.connection.cursor()
        try:
            self._attach(cursor)
            cursor.execute("SET TimeZone = 'UTC'")
            cursor.execute(f"USE {SCOPES_DB}.{scope_name(tenants)}")
        except BaseException:
            cursor.close()
            raise
        return cursor
