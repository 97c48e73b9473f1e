"""The `gatewatch` command line. Every command works whether or not a `serve` process owns
the database: with an owner it goes through the owner's local admin API, without one it
opens the file itself."""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gatewatch import config
from gatewatch.errors import GatewatchError

if TYPE_CHECKING:
    from analytics.settings import AnalyticsSettings

DB_HELP = f"DuckDB warehouse file [env {config.GATEWATCH_DB}; default ./{config.DEFAULT_DB}]"
LOCK_WAIT_SECONDS = 15.0


def _say(message: str) -> None:
    click.echo(message, err=True)


def db_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False),
        default=None,
        help=DB_HELP,
    )(func)


def resolve_db(ctx: click.Context, db: str | None) -> str:
    """Argument > environment variable > default."""
    return (
        db
        or ctx.find_root().params.get("db")
        or config.env_or(config.GATEWATCH_DB, config.DEFAULT_DB)
    )


@contextlib.contextmanager
def open_warehouse(db: str, *, read_only: bool = False) -> Iterator:
    """Open the file when no owner runs; wait briefly if another command holds it."""
    from warehouse.db import Warehouse, WarehouseError

    if read_only and not Path(db).exists():
        raise GatewatchError(f"no database at {db} (run `gatewatch demo` or `gatewatch ingest`)")
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    warned = False
    while True:
        try:
            warehouse = Warehouse.open(db, read_only=read_only)
            break
        except WarehouseError as e:
            if "lock" not in str(e).lower():
                raise GatewatchError(str(e)) from e
            if time.monotonic() > deadline:
                raise GatewatchError(
                    f"{db} is in use by another process that is not a gatewatch serve; "
                    "wait for it to finish"
                ) from e
            if not warned:
                _say(f"waiting for another gatewatch command to release {db} ...")
                warned = True
            time.sleep(0.5)
    try:
        yield warehouse
    finally:
        warehouse.close()


def find_owner_client(db: str):  # type: ignore[no-untyped-def]
    from gatewatch.owner_client import OwnerClient
    from warehouse.ownership import read_owner

    owner = read_owner(db)
    return OwnerClient(owner) if owner is not None else None


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


def use_user_config(ctx: click.Context):  # type: ignore[no-untyped-def]
    """Load the user's alias file and make this process's mappers use it."""
    from gatewatch.user_config import apply_user_config, load_user_config

    user = load_user_config(ctx.find_root().params.get("config_file"))
    apply_user_config(user)
    return user


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
@click.pass_context
def serve(
    ctx: click.Context,
    db: str | None,
    host: str,
    ingest_port: int,
    grpc_port: int,
    dashboard_port: int,
    jobs_every: str,
) -> None:
    """Run ingest API, batch jobs and dashboard; own the database."""
    user = use_user_config(ctx)
    db = resolve_db(ctx, db)
    _serve(db, host, ingest_port, grpc_port, dashboard_port, jobs_every, user.analytics)


def _serve(
    db: str,
    host: str,
    ingest_port: int,
    grpc_port: int,
    dashboard_port: int,
    jobs_every: str,
    analytics: AnalyticsSettings,
) -> None:
    from gatewatch.serve import ServeOptions
    from gatewatch.serve import serve as run_serve
    from ingest.payloads import DEFAULT_MAX_BODY_BYTES
    from warehouse.ownership import read_owner

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
        analytics=analytics,
    )
    with open_warehouse(db) as warehouse:
        run_serve(options, warehouse=warehouse, say=_say)


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
                        _say(f"  {payload.origin}: {message}")
            if number % 10 == 0 or number == len(files):
                _say(f"ingested {number}/{len(files)} files")

    if client is not None:
        _say(f"sending to gatewatch serve (pid {client.owner.pid})")
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
            _say(f"stored {local.stored_rows} new request rows")
    _say(f"done in {time.monotonic() - started:.1f}s; rejected {rejected}")
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
        _say(f"jobs ran in gatewatch serve (pid {client.owner.pid}) in {answer['seconds']:.2f}s")
        return
    settings = load_user_config(ctx.find_root().params.get("config_file")).analytics
    run_jobs_locally(db, full=full, settings=settings)


def run_jobs_locally(db: str, *, full: bool, settings: AnalyticsSettings) -> None:
    from gatewatch.jobs import JobRunner

    with open_warehouse(db) as warehouse:
        result = JobRunner(warehouse, settings=settings).run(full=full, progress=_say)
    _say(f"jobs done in {result.seconds:.2f}s")


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
@click.pass_context
def sql(ctx: click.Context, db: str | None, query: str, output_format: str) -> None:
    """Run one read-only SQL query on the warehouse."""
    from gatewatch.output import write_table

    write_table(read_query(resolve_db(ctx, db), query), output_format, sys.stdout)


def read_query(db: str, query: str):  # type: ignore[no-untyped-def]
    """A read-only query's result (Arrow), through the owner when one runs."""
    client = find_owner_client(db)
    if client is not None:
        try:
            return client.sql(query)
        finally:
            client.close()
    import duckdb

    from gatewatch.admin import ReadOnlyViolation, check_read_only

    with open_warehouse(db, read_only=True) as warehouse:
        try:
            check_read_only(warehouse.connection, query)
            return warehouse.connection.sql(query).to_arrow_table()
        except (ReadOnlyViolation, duckdb.Error) as e:
            raise GatewatchError(str(e)) from e


@cli.group()
def routing() -> None:
    """Recommended provider pools (the `routing_pools` table) as router configuration."""


@routing.command("export")
@db_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["openrouter", "litellm"]),
    required=True,
    help="openrouter: request `provider` preferences; litellm: router `model_list`.",
)
@click.option("--model", default=None, help="Only this canonical model id.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write here."
)
@click.pass_context
def routing_export(
    ctx: click.Context, db: str | None, output_format: str, model: str | None, out: Path | None
) -> None:
    """Write the routing pools as OpenRouter or LiteLLM configuration (JSON)."""
    import json

    from analytics.routing_export import ROUTING_EXPORT_QUERY, ExportError, export

    rows = read_query(resolve_db(ctx, db), ROUTING_EXPORT_QUERY).to_pylist()
    try:
        text = json.dumps(export(rows, output_format, model), indent=2) + "\n"
    except ExportError as e:
        raise GatewatchError(str(e)) from e
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        _say(f"wrote {out}")


@cli.command()
@click.option("--days", type=int, default=90, show_default=True, help="Days of traffic.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("gatewatch-sample"),
    show_default=True,
    help="Output folder.",
)
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
    _say(f"wrote {len(paths)} files to {out}")
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
    _say(f"generating {days} days of sample traffic into {sample_dir}")
    write_sample_files(days, sample_dir, ["otlp-json", "jsonl"], 7, None)
    ingest_paths(db, [sample_dir])
    run_jobs_locally(db, full=True, settings=user.analytics)
    _say(f"demo database ready in {time.monotonic() - started:.1f}s")
    if not no_serve:
        _serve(
            db,
            host,
            ingest_port,
            grpc_port,
            dashboard_port,
            config.DEFAULT_JOBS_EVERY,
            user.analytics,
        )


@cli.group()
def report() -> None:
    """Reports for people who will not open the dashboard."""


@report.command("weekly")
@db_option
@click.option("--week", default=None, help="ISO week, e.g. 2026-W47 [default: last full week]")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Folder to write into.",
)
@click.option(
    "--format",
    "formats",
    default=None,
    help="Comma-separated html,md,csv,pdf [default: all; pdf only when Chromium is present]",
)
@click.pass_context
def report_weekly(
    ctx: click.Context, db: str | None, week: str | None, out: Path, formats: str | None
) -> None:
    """The weekly adoption report: headline numbers with week-over-week change, model mix,
    top movers, provider uptime. Runs the batch jobs first so the numbers are current."""
    from datetime import UTC, datetime

    from analytics.report.export import FORMATS, parse_formats, write_weekly_report
    from analytics.report.render import PdfUnavailable, chromium_path
    from analytics.report.weekly import last_complete_week, parse_week

    now = datetime.now(UTC)
    try:
        week_start = parse_week(week) if week else last_complete_week(now.date())
        chosen = parse_formats(formats) if formats else list(FORMATS)
    except ValueError as e:
        raise GatewatchError(str(e)) from e
    if formats is None and not Path(chromium_path()).exists():
        chosen.remove("pdf")
        _say("no Chromium found: writing html, md and csv (no pdf)")
    settings = use_user_config(ctx).analytics
    with report_connection(resolve_db(ctx, db), settings) as con:
        try:
            paths = write_weekly_report(con, week_start, out, chosen, generated_at=now)
        except PdfUnavailable as e:
            raise GatewatchError(str(e)) from e
    for path in paths:
        click.echo(str(path))


@contextlib.contextmanager
def report_connection(db: str, settings: AnalyticsSettings) -> Iterator:
    """Current tables to read: through a running owner (jobs run there, then its freshly
    published read-only snapshot), else the file itself after running the jobs here."""
    import duckdb

    from warehouse.snapshot import snapshot_path

    client = find_owner_client(db)
    if client is not None:
        try:
            client.run_jobs(full=False)
        finally:
            client.close()
        con = duckdb.connect(str(snapshot_path(db)), read_only=True)
        try:
            yield con
        finally:
            con.close()
        return
    from gatewatch.jobs import JobRunner

    with open_warehouse(db) as warehouse:
        JobRunner(warehouse, settings=settings).run(full=False)
        cursor = warehouse.connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


@cli.group("config")
def config_group() -> None:
    """The alias and app-mapping file."""


@config_group.command("show")
@click.option("--builtin", is_flag=True, help="Also list the built-in provider and model aliases.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.pass_context
def config_show(ctx: click.Context, builtin: bool, output_format: str) -> None:
    """Show what is in effect: aliases, app mappings and tiers from the file, and every batch-job
    setting (`origin` says whether the file or the default set it)."""
    import pyarrow as pa

    from gatewatch.output import write_table
    from gatewatch.user_config import analytics_values, builtin_mappings

    user = use_user_config(ctx)
    _say(f"config file: {user.path or 'none (built-in tables only)'}")
    rows = [
        (section, key, value, str(user.path))
        for section, table in (
            ("providers", sorted(user.providers.items())),
            ("models", sorted(user.models.items())),
            ("apps", sorted(user.apps.items())),
            ("tiers", user.tiers),  # file order: the first matching pattern wins
        )
        for key, value in table
    ]
    rows += [
        ("analytics", name, value, str(user.path) if from_file else "default")
        for name, value, from_file in analytics_values(user.analytics)
    ]
    if builtin:
        rows += [(section, key, value, "built-in") for section, key, value in builtin_mappings()]
    names = ("section", "key", "value", "origin")
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, columns, strict=True)})
    write_table(table, output_format, sys.stdout)


def main() -> None:
    debug = "--debug" in sys.argv
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        _say("aborted")
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
        _say(f"error: {message}")
        sys.exit(1)


if __name__ == "__main__":
    main()
