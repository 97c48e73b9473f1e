"""The commands that hand results to people and other tools: `report weekly`, `routing
export` and `config show`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gatewatch.cli_support import (
    db_option,
    find_owner_client,
    open_warehouse,
    out_dir_option,
    read_query,
    resolve_db,
    say,
    use_user_config,
)
from gatewatch.errors import GatewatchError

if TYPE_CHECKING:
    from analytics.settings import AnalyticsSettings


@click.group()
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
        say(f"wrote {out}")


@click.group()
def report() -> None:
    """Reports for people who will not open the dashboard."""


@report.command("weekly")
@db_option
@click.option("--week", default=None, help="ISO week, e.g. 2026-W47 [default: last full week]")
@out_dir_option("reports", "Folder to write into.")
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
        say("no Chromium found: writing html, md and csv (no pdf)")
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


@click.group("config")
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
    """Show what is in effect: aliases, app mappings, tiers and prices from the file, and every
    batch-job setting (`origin` says whether the file or the default set it)."""
    import pyarrow as pa

    from analytics.default_prices import DEFAULT_PRICES
    from gatewatch.output import write_table
    from gatewatch.price_config import describe_price
    from gatewatch.user_config import analytics_values, builtin_mappings

    user = use_user_config(ctx)
    say(f"config file: {user.path or 'none (built-in tables only)'}")
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
    rows += [("prices", *describe_price(price), str(user.path)) for price in user.prices]
    if builtin:
        rows += [(section, key, value, "built-in") for section, key, value in builtin_mappings()]
        priced = {price.model for price in user.prices}  # such models ignore the built-in rows
        rows += [
            ("prices", *describe_price(price), "built-in")
            for price in DEFAULT_PRICES
            if price.model not in priced
        ]
    names = ("section", "key", "value", "origin")
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, columns, strict=True)})
    write_table(table, output_format, sys.stdout)
