"""`gatewatch retention run`: delete request rows (and tool spans, alert deliveries) older
than the config's `[retention]` says, keeping every metric table.

With a running `serve` the run happens there (its settings, its writer's connection); with
none the file is opened here, and `--compact` may then rewrite it to give the freed space
back to the file system.
"""

from __future__ import annotations

import click

from gatewatch.cli_support import db_option, find_owner_client, open_warehouse, resolve_db, say
from gatewatch.errors import GatewatchError


@click.group()
def retention() -> None:
    """Deleting old request rows; the metric tables keep their history."""


@retention.command("run")
@db_option
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
@click.option(
    "--compact",
    is_flag=True,
    help="Afterwards rewrite the file to hand freed space back (only while no serve runs).",
)
@click.pass_context
def retention_run(ctx: click.Context, db: str | None, dry_run: bool, compact: bool) -> None:
    """Delete rows older than [retention] allows (the batch jobs run first, so every row
    deleted has been counted). With a running `serve`, it runs there, with its settings."""
    from gatewatch.retention import format_report

    db = resolve_db(ctx, db)
    client = find_owner_client(db)
    if client is not None:
        if compact:
            client.close()
            raise GatewatchError(
                f"gatewatch serve (pid {client.owner.pid}) has {db} open: --compact needs the "
                "file to itself; stop serve, run `gatewatch retention run --compact`, start it"
            )
        try:
            report = client.run_retention(dry_run=dry_run)
        finally:
            client.close()
        say(f"retention ran in gatewatch serve (pid {client.owner.pid})")
    else:
        report = _run_locally(ctx, db, dry_run=dry_run)
        if compact and not dry_run:
            from warehouse.compaction import compact_database

            say(f"compacting {db} ...")
            before, after = compact_database(db)
            report |= {"compacted_bytes": after, "file_bytes_before_compaction": before}
    for line in format_report(report):
        click.echo(line)


def _run_locally(ctx: click.Context, db: str, *, dry_run: bool) -> dict:
    from gatewatch.jobs import JobRunner
    from gatewatch.user_config import load_user_config

    user = load_user_config(ctx.find_root().params.get("config_file"))
    with open_warehouse(db) as warehouse:
        runner = JobRunner(warehouse, settings=user.analytics, retention=user.retention)
        if dry_run:
            return runner.retention_plan()
        return runner.retain(progress=say)
