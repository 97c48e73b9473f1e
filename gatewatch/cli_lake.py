"""Lake mode on the command line: `gatewatch lake jobs`, `gatewatch lake compact`, and the
`--lake` of `serve` (a stateless ingest node) and `sql` (DuckDB over the lake's Parquet)."""

from __future__ import annotations

import os
import threading
import time

import click

from gatewatch import config
from gatewatch.cli_support import (
    db_option,
    open_warehouse,
    resolve_db,
    say,
    stop_on_sigterm_as_on_ctrl_c,
)
from gatewatch.errors import GatewatchError

GATEWATCH_LAKE = "GATEWATCH_LAKE"
"""The lake (a folder or an `s3://bucket/prefix` URL) that `--lake` defaults to."""
GATEWATCH_RAY_ADDRESS = "GATEWATCH_RAY_ADDRESS"
"""A running Ray cluster for `gatewatch lake jobs` (`auto`: the one `ray start` runs on this
machine); unset: a local cluster is started for the run."""


def lake_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--lake",
        default=lambda: os.environ.get(GATEWATCH_LAKE),
        help=f"The lake: a folder or s3://bucket/prefix [env {GATEWATCH_LAKE}, "
        "else [lake] path in the config].",
    )(func)


def configured_lake(ctx: click.Context, lake: str | None) -> str | None:
    """`--lake` (or its env), else `[lake] path` of the config file, else None."""
    if lake:
        return lake
    from gatewatch.user_config import load_user_config

    return load_user_config(ctx.find_root().params.get("config_file")).lake_path


def _required(ctx: click.Context, lake: str | None) -> str:
    found = configured_lake(ctx, lake)
    if not found:
        raise GatewatchError(
            f"no lake given: use --lake DIR, set {GATEWATCH_LAKE} or [lake] path in the config"
        )
    return found


def open_store(uri: str):  # type: ignore[no-untyped-def]
    """The lake's store; a URI pyarrow cannot parse (e.g. an unknown S3 option) is a usage
    error, not a traceback."""
    from lake.store import LakeStore

    try:
        return LakeStore(uri)
    except (ValueError, OSError) as e:
        raise GatewatchError(f"lake URI: {e}") from e


@click.group()
def lake() -> None:
    """Lake mode: Parquet segments from stateless ingest nodes, jobs on Ray."""


@lake.command("jobs")
@db_option
@lake_option
@click.option("--full", is_flag=True, help="Recompute every week, changed or not.")
@click.option(
    "--ray-address",
    default=lambda: os.environ.get(GATEWATCH_RAY_ADDRESS),
    help=f"A running Ray cluster, e.g. auto [env {GATEWATCH_RAY_ADDRESS}]; "
    "default: start a local one.",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="CPUs of the local Ray cluster (default: all); 0 = no Ray, run the weeks in turn here.",
)
@click.option(
    "--every",
    default=None,
    help="Keep running: recompute this often (e.g. 5m) and serve the dashboard on the stats.",
)
@click.option("--host", default=config.DEFAULT_HOST, show_default=True, help="Dashboard bind.")
@click.option(
    "--dashboard-port", type=int, default=config.DEFAULT_DASHBOARD_PORT, show_default=True
)
@click.pass_context
def lake_jobs(
    ctx: click.Context,
    db: str | None,
    lake: str | None,
    full: bool,
    ray_address: str | None,
    workers: int | None,
    every: str | None,
    host: str,
    dashboard_port: int,
) -> None:
    """Compute the metric tables from the lake into the stats database (--db).

    Each changed ISO week is a Ray task running the batch jobs' SQL; the results replace the
    week's periods in --db, an ordinary gatewatch database that `gatewatch sql`, `report` and
    the dashboard read."""
    from gatewatch.user_config import load_user_config
    from lake.executors import make_executor
    from lake.jobs import run_lake_jobs
    from warehouse.ownership import read_owner

    store = open_store(_required(ctx, lake))
    db = resolve_db(ctx, db)
    owner = read_owner(db)
    if owner is not None:
        raise GatewatchError(
            f"{db} is owned by gatewatch serve (pid {owner.pid}); "
            "give the lake's stats a database of their own (--db)"
        )
    interval = None
    if every is not None:
        try:
            interval = config.parse_duration(every)
        except ValueError as e:
            raise GatewatchError(f"--every: {e}") from e
    settings = load_user_config(ctx.find_root().params.get("config_file")).analytics
    with open_warehouse(db) as warehouse:
        executor = make_executor(address=ray_address, workers=workers)
        # one cursor for every run: the jobs' view of the lake is local to its connection
        cursor = warehouse.connection.cursor()
        try:

            def run(full_run: bool) -> None:
                result = run_lake_jobs(
                    store,
                    cursor,
                    executor,
                    db_path=db,
                    full=full_run,
                    settings=settings,
                    progress=say,
                )
                say(
                    f"lake jobs done in {result.seconds:.2f}s: {len(result.weeks)} week(s) "
                    f"computed, {result.unchanged_weeks} unchanged"
                )

            run(full)
            if interval is not None:
                # a service manager's TERM ends the loop like Ctrl-C: a local Ray cluster stops
                stop_on_sigterm_as_on_ctrl_c()
                _serve_dashboard(warehouse, host, dashboard_port)
                while True:
                    time.sleep(interval)
                    try:
                        run(False)
                    except Exception as e:  # a failed run must not end the schedule
                        say(f"lake jobs failed: {e}")
        finally:
            cursor.close()
            executor.close()


def _serve_dashboard(warehouse, host: str, port: int) -> None:  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    server = make_server(host, port, create_app(warehouse).server, threaded=True)
    threading.Thread(target=server.serve_forever, name="gatewatch-dashboard", daemon=True).start()
    say(f"dashboard  http://{host}:{port}")


@lake.command("compact")
@lake_option
@click.option(
    "--keep-days",
    type=int,
    default=None,
    help="Also drop the days older than this (whole ISO weeks; the stats stay).",
)
@click.option("--target-mb", type=int, default=128, show_default=True, help="Size of a file.")
@click.pass_context
def lake_compact(
    ctx: click.Context, lake: str | None, keep_days: int | None, target_mb: int
) -> None:
    """Merge small segments into large files; with --keep-days, drop old partitions."""
    from lake.compact import apply_retention, compact

    store = open_store(_required(ctx, lake))
    if keep_days is not None:
        if keep_days < 1:
            raise GatewatchError("--keep-days must be at least 1")
        kept = apply_retention(store, keep_days)
        say(
            f"retention: kept from {kept.keep_from}; dropped {kept.days_dropped} day(s), "
            f"{kept.views_dropped} week view(s)"
        )
    result = compact(store, target_bytes=target_mb * 1024 * 1024)
    say(
        f"compacted {result.files_in} file(s) into {result.files_out} in {result.partitions} "
        f"partition(s), {result.rows} rows, in {result.seconds:.2f}s"
    )


def serve_lake(lake: str, host: str, ingest_port: int, grpc_port: int, node: str | None) -> None:
    """`gatewatch serve --lake`: an ingest node writing to the lake."""
    from gatewatch.serve_lake import LakeNodeOptions, serve_lake_node
    from ingest.payloads import DEFAULT_MAX_BODY_BYTES

    options = LakeNodeOptions(
        lake=lake,
        host=host,
        ingest_port=ingest_port,
        grpc_port=grpc_port,
        max_body_bytes=config.env_int(config.GATEWATCH_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES),
        ingest_workers=config.env_int(config.GATEWATCH_INGEST_WORKERS, os.cpu_count() or 1),
        node=node,
    )
    stop_on_sigterm_as_on_ctrl_c()
    serve_lake_node(options, say=say)


def query_lake(lake: str, query: str):  # type: ignore[no-untyped-def]
    """`gatewatch sql --lake`: one read-only query over the lake's views (`lake.query`)."""
    import duckdb

    from gatewatch.admin import ReadOnlyViolation, check_read_only
    from lake.query import lake_connection

    con = lake_connection(open_store(lake))
    try:
        check_read_only(con, query)
        return con.sql(query).to_arrow_table()
    except (ReadOnlyViolation, duckdb.Error) as e:
        raise GatewatchError(str(e)) from e
    finally:
        con.close()
