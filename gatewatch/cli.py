"""The `gatewatch` command line. Every command works whether or not a `serve` process owns
the database: with an owner it goes through the owner's local admin API, without one it
opens the file itself."""

from __future__ import annotations

import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gatewatch import config
from gatewatch.cli_alerts import alerts
from gatewatch.cli_lake import configured_lake, lake, lake_option, query_lake, serve_lake
from gatewatch.cli_outputs import config_group, report, routing
from gatewatch.cli_retention import retention
from gatewatch.cli_support import (
    db_option,
    find_owner_client,
    open_warehouse,
    out_dir_option,
    read_query,
    resolve_db,
    say,
    stop_on_sigterm_as_on_ctrl_c,
    use_user_config,
)
from gatewatch.cli_users import users
from gatewatch.errors import GatewatchError

if TYPE_CHECKING:
    from analytics.settings import AnalyticsSettings
    from dashboard.auth.settings import AuthSettings
    from gatewatch.alerts.rules import AlertRule
    from warehouse.retention_settings import RetentionSettings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@db_option
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"Alias/app mapping file [env {config.GATEWATCH_CONFIG}; "
    f"default ./{config.DEFAULT_CONFIG} if present]",
)
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="gatewatch")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config_file: str | None, debug: bool) -> None:
    """gatewatch: observability and analytics for LLM gateway traffic."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def listen_options(func):  # type: ignore[no-untyped-def]
    """Where `serve` (and `demo`, which ends in `serve`) listens."""
    func = click.option(
        "--dashboard-port",
        type=int,
        default=lambda: config.env_int(
            config.GATEWATCH_DASHBOARD_PORT, config.DEFAULT_DASHBOARD_PORT
        ),
        show_default=f"{config.DEFAULT_DASHBOARD_PORT} or env {config.GATEWATCH_DASHBOARD_PORT}",
        help="Port of the dashboard.",
    )(func)
    func = click.option(
        "--grpc-port",
        type=int,
        default=lambda: config.env_int(config.GATEWATCH_GRPC_PORT, config.DEFAULT_GRPC_PORT),
        show_default=f"{config.DEFAULT_GRPC_PORT} or env {config.GATEWATCH_GRPC_PORT}",
        help="Port of the OTLP/gRPC receiver; 0 turns it off.",
    )(func)
    func = click.option(
        "--ingest-port",
        type=int,
        default=lambda: config.env_int(config.GATEWATCH_INGEST_PORT, config.DEFAULT_INGEST_PORT),
        show_default=f"{config.DEFAULT_INGEST_PORT} or env {config.GATEWATCH_INGEST_PORT}",
        help="Port of the OTLP/HTTP and request-log API.",
    )(func)
    return click.option(
        "--host", default=config.DEFAULT_HOST, show_default=True, help="Bind address."
    )(func)


@cli.command()
@db_option
@listen_options
@click.option(
    "--jobs-every",
    default=lambda: config.env_or(config.GATEWATCH_JOBS_EVERY, config.DEFAULT_JOBS_EVERY),
    show_default=f"{config.DEFAULT_JOBS_EVERY} or env {config.GATEWATCH_JOBS_EVERY}",
    help="How often to run the batch jobs (e.g. 30s, 5m, 1h).",
)
@lake_option
@click.option("--node", default=None, help="With --lake: a name for this node's files.")
@click.pass_context
def serve(
    ctx: click.Context,
    db: str | None,
    host: str,
    ingest_port: int,
    grpc_port: int,
    dashboard_port: int,
    jobs_every: str,
    lake: str | None,
    node: str | None,
) -> None:
    """Run ingest API, batch jobs and dashboard; own the database.

    With --lake, run a stateless ingest node instead: rows go to the lake's Parquet
    segments, and `gatewatch lake jobs` computes the metrics."""
    user = use_user_config(ctx)
    lake = lake or user.lake_path
    if lake:
        serve_lake(lake, host, ingest_port, grpc_port, node)
        return
    db = resolve_db(ctx, db)
    _serve(
        db,
        host,
        ingest_port,
        grpc_port,
        dashboard_port,
        jobs_every,
        user.analytics,
        user.auth,
        retention=user.retention,
        alerts=user.alerts,
    )


def _serve(
    db: str,
    host: str,
    ingest_port: int,
    grpc_port: int,
    dashboard_port: int,
    jobs_every: str,
    analytics: AnalyticsSettings,
    auth: AuthSettings,
    *,
    retention: RetentionSettings | None = None,
    alerts: tuple[AlertRule, ...] = (),
) -> None:
    from gatewatch.serve import ServeOptions
    from gatewatch.serve import serve as run_serve
    from ingest.payloads import DEFAULT_MAX_BODY_BYTES
    from warehouse.ownership import read_owner
    from warehouse.retention_settings import RetentionSettings

    owner = read_owner(db)
    if owner is not None:
        raise GatewatchError(f"{db} is already served by gatewatch serve (pid {owner.pid})")
    try:
        every = config.parse_duration(jobs_every)
    except ValueError as e:
        raise GatewatchError(f"--jobs-every: {e}") from e
    reports_dir = config.env_or(
        config.GATEWATCH_REPORTS_DIR, str(Path(db).resolve().parent / "reports")
    )
    options = ServeOptions(
        db=db,
        reports_dir=Path(reports_dir),
        host=host,
        ingest_port=ingest_port,
        grpc_port=grpc_port,
        dashboard_port=dashboard_port,
        jobs_every_seconds=every,
        max_body_bytes=config.env_int(config.GATEWATCH_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES),
        ingest_workers=config.env_int(config.GATEWATCH_INGEST_WORKERS, os.cpu_count() or 1),
        checkpoint_wal_bytes=config.checkpoint_wal_bytes(),
        analytics=analytics,
        auth=auth,
        retention=retention or RetentionSettings(),
        alerts=alerts,
    )
    stop_on_sigterm_as_on_ctrl_c()
    with open_warehouse(db) as warehouse:
        run_serve(options, warehouse=warehouse, say=say)


@cli.command()
@db_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def ingest(ctx: click.Context, db: str | None, paths: tuple[Path, ...]) -> None:
    """Bulk-load OTLP JSON/protobuf exports and JSONL request logs (files, folders, .gz).

    With a running `serve`, the files are mapped there (with its alias file)."""
    use_user_config(ctx)
    ingest_paths(resolve_db(ctx, db), list(paths))


def ingest_paths(db: str, paths: list[Path]) -> int:
    from gatewatch.files import discover, payloads

    try:
        files = discover(paths)
    except FileNotFoundError as e:
        raise GatewatchError(str(e)) from e
    if not files:
        raise GatewatchError("no ingestible files found (.json, .jsonl, .ndjson, .pb, .gz)")
    client = find_owner_client(db)
    received = rejected = 0
    started = time.monotonic()

    def load(target) -> None:  # type: ignore[no-untyped-def]
        nonlocal received, rejected
        for number, path in enumerate(files, 1):
            for payload in payloads(path):
                outcome = target.ingest(payload)
                received += outcome.received or 0
                rejected += outcome.rejected
                for message in outcome.errors[:3]:
                    if message:
                        say(f"  {payload.origin}: {message}")
            if number % 10 == 0 or number == len(files):
                say(f"ingested {number}/{len(files)} files")

    if client is not None:
        say(f"sending to gatewatch serve (pid {client.owner.pid})")
        try:
            load(client)
        finally:
            client.close()
    else:
        from gatewatch.local_ingest import LocalIngest

        with open_warehouse(db) as warehouse:
            local = LocalIngest(warehouse)
            try:
                load(local)
            finally:
                local.close()
            say(f"stored {local.stored_rows} new request rows")
    say(f"done in {time.monotonic() - started:.1f}s; rejected {rejected}")
    return received


@cli.group()
def jobs() -> None:
    """Batch jobs that build the metric tables."""


@jobs.command("run")
@db_option
@click.option("--full", is_flag=True, help="Recompute every period instead of only touched ones.")
@click.pass_context
def jobs_run(ctx: click.Context, db: str | None, full: bool) -> None:
    """Run the batch jobs now (incremental unless --full).

    With a running `serve`, the jobs run there (with its [analytics] settings)."""
    from gatewatch.user_config import load_user_config

    db = resolve_db(ctx, db)
    client = find_owner_client(db)
    if client is not None:
        try:
            answer = client.run_jobs(full=full)
        finally:
            client.close()
        say(f"jobs ran in gatewatch serve (pid {client.owner.pid}) in {answer['seconds']:.2f}s")
        return
    settings = load_user_config(ctx.find_root().params.get("config_file")).analytics
    run_jobs_locally(db, full=full, settings=settings)


def run_jobs_locally(db: str, *, full: bool, settings: AnalyticsSettings) -> None:
    from gatewatch.jobs import JobRunner

    with open_warehouse(db) as warehouse:
        result = JobRunner(warehouse, settings=settings).run(full=full, progress=say)
    say(f"jobs done in {result.seconds:.2f}s")


@cli.command()
@db_option
@click.argument("query")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@lake_option
@click.pass_context
def sql(
    ctx: click.Context, db: str | None, query: str, output_format: str, lake: str | None
) -> None:
    """Run one read-only SQL query on the warehouse.

    With --lake, on the lake's Parquet instead: `requests` (deduplicated, as of the last
    `gatewatch lake jobs`), `requests_raw` (every stored row) and `tool_spans`."""
    from gatewatch.output import write_table

    lake = configured_lake(ctx, lake)
    table = query_lake(lake, query) if lake else read_query(resolve_db(ctx, db), query)
    write_table(table, output_format, sys.stdout)


@cli.command()
@click.option("--days", type=int, default=90, show_default=True, help="Days of traffic.")
@out_dir_option("gatewatch-sample", "Output folder.")
@click.option(
    "--format",
    "formats",
    default="otlp-json,jsonl",
    show_default=True,
    help="Comma-separated: otlp-json, otlp-proto, jsonl.",
)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--end",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last day of traffic (UTC; default today).",
)
def sample(days: int, out: Path, formats: str, seed: int, end) -> None:  # type: ignore[no-untyped-def]
    """Write synthetic traffic with planted, known trends in the supported input formats."""
    write_sample_files(days, out, formats.split(","), seed, end.date() if end else None)


def write_sample_files(
    days: int, out: Path, formats: list[str], seed: int, end: date | None
) -> list[Path]:
    from sample_data.writers import sample_command

    if days < 1:
        raise GatewatchError("--days must be at least 1")
    try:
        paths = sample_command(days=days, out=out, formats=formats, seed=seed, end=end)
    except ValueError as e:
        raise GatewatchError(str(e)) from e
    say(f"wrote {len(paths)} files to {out}")
    return paths


@cli.command()
@db_option
@click.option("--days", type=int, default=90, show_default=True, help="Days of sample traffic.")
@listen_options
@click.option("--no-serve", is_flag=True, help="Set up the database, then exit.")
@click.pass_context
def demo(
    ctx: click.Context,
    db: str | None,
    days: int,
    host: str,
    ingest_port: int,
    grpc_port: int,
    dashboard_port: int,
    no_serve: bool,
) -> None:
    """Fresh database with generated sample traffic, jobs run, then serve."""
    from warehouse.ownership import read_owner

    db = resolve_db(ctx, db)
    user = use_user_config(ctx)
    owner = read_owner(db)
    if owner is not None:
        raise GatewatchError(f"gatewatch serve (pid {owner.pid}) owns {db}; stop it first")
    started = time.monotonic()
    for leftover in (Path(db), Path(f"{db}.wal"), Path(f"{db}.snapshot")):
        leftover.unlink(missing_ok=True)
    sample_dir = Path(db).resolve().parent / "gatewatch-sample"
    shutil.rmtree(sample_dir, ignore_errors=True)
    say(f"generating {days} days of sample traffic into {sample_dir}")
    write_sample_files(days, sample_dir, ["otlp-json", "jsonl"], 7, None)
    ingest_paths(db, [sample_dir])
    run_jobs_locally(db, full=True, settings=user.analytics)
    say(f"demo database ready in {time.monotonic() - started:.1f}s")
    if not no_serve:
        _serve(
            db,
            host,
            ingest_port,
            grpc_port,
            dashboard_port,
            config.DEFAULT_JOBS_EVERY,
            user.analytics,
            user.auth,
            retention=user.retention,
            alerts=user.alerts,
        )


for group in (report, routing, config_group, lake):
    cli.add_command(group)
cli.add_command(users)
cli.add_command(alerts)
cli.add_command(retention)


def main() -> None:
    debug = "--debug" in sys.argv
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        say("aborted")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:
        if debug:
            raise
        message = str(e) if isinstance(e, GatewatchError) else f"{type(e).__name__}: {e}"
        say(f"error: {message}")
        sys.exit(1)


if __name__ == "__main__":
    main()
