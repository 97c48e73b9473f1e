"""The owner's local admin API, used by CLI commands while `serve` owns the database.

Bound to 127.0.0.1 with the ingest API and guarded by the random token in the owner file
(readable by the owning user only). `sql` accepts one read-only statement.
"""

from __future__ import annotations

import asyncio
import hmac

import duckdb
import orjson
import pyarrow as pa
from fastapi import APIRouter, Request
from fastapi.responses import Response

from gatewatch.jobs import JobRunner
from ingest.writer import BatchWriter
from warehouse.db import Warehouse

ARROW_STREAM_MEDIA = "application/vnd.apache.arrow.stream"
READ_ONLY_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})


class ReadOnlyViolation(ValueError):
    pass


def check_read_only(con: duckdb.DuckDBPyConnection, query: str) -> None:
    statements = con.extract_statements(query)
    if len(statements) != 1:
        raise ReadOnlyViolation("give exactly one SQL statement")
    kind = statements[0].type.name
    if kind not in READ_ONLY_STATEMENTS:
        raise ReadOnlyViolation(f"only read-only queries are allowed here, not {kind}")


def arrow_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    return sink.getvalue().to_pybytes()


def _error(status: int, message: str) -> Response:
    return Response(orjson.dumps({"error": message}), status, media_type="application/json")


def admin_router(
    token: str, warehouse: Warehouse, writer: BatchWriter, jobs: JobRunner
) -> APIRouter:
    router = APIRouter(prefix="/admin")

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())

    def run_query(query: str) -> pa.Table:
        cursor = warehouse.connection.cursor()
        try:
            check_read_only(cursor, query)
            return cursor.sql(query).to_arrow_table()
        finally:
            cursor.close()

    @router.post("/sql")
    async def sql(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "missing or wrong admin token")
        query = (await request.body()).decode("utf-8", "replace")
        try:
            table = await asyncio.to_thread(run_query, query)
        except (ReadOnlyViolation, duckdb.Error) as e:
            return _error(400, str(e))
        return Response(arrow_stream(table), 200, media_type=ARROW_STREAM_MEDIA)

    @router.post("/jobs")
    async def run_jobs(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "missing or wrong admin token")
        full = request.query_params.get("full") in ("1", "true")
        await asyncio.to_thread(writer.flush)
        result = await asyncio.to_thread(jobs.run, full=full)
        body = {
            "seconds": result.seconds,
            "jobs": [
                {"job": j.job, "periods": len(j.periods), "rows_written": j.rows_written}
                for j in result.jobs
            ],
        }
        return Response(orjson.dumps(body), 200, media_type="application/json")

    @router.post("/retention")
    async def run_retention(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "missing or wrong admin token")
        if request.query_params.get("dry_run") in ("1", "true"):
            report = await asyncio.to_thread(jobs.retention_plan)
        else:
            await asyncio.to_thread(writer.flush)  # rows sent so far are counted first
            report = await asyncio.to_thread(jobs.retain)
        return Response(orjson.dumps(report), 200, media_type="application/json")

    return router
