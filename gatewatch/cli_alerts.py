"""`gatewatch alerts test`: a sample message to the configured targets, to check delivery.

It only reads the config file and sends; it never opens the database (so it runs beside a
`serve` that owns it) and records nothing in `alert_events`."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from gatewatch.cli_support import use_user_config
from gatewatch.errors import GatewatchError


@click.group()
def alerts() -> None:
    """Alert rules of the config file's [[alerts]] (evaluated by `serve`)."""


@alerts.command("test")
@click.option("--rule", "rule_name", default=None, help="Only this rule (by its name).")
@click.pass_context
def alerts_test(ctx: click.Context, rule_name: str | None) -> None:
    """Send a sample message to every target of each rule (log, webhook, Slack) and print
    each outcome. Nothing is written to the database."""
    from gatewatch.alerts.deliver import Deliverer
    from gatewatch.alerts.messages import sample_alert

    user = use_user_config(ctx)
    rules = user.alerts
    if not rules:
        raise GatewatchError(f"no [[alerts]] rules in {user.path or 'the config (no file)'}")
    if rule_name is not None:
        rules = tuple(r for r in rules if r.name == rule_name)
        if not rules:
            names = ", ".join(r.name for r in user.alerts)
            raise GatewatchError(f"no alert rule named {rule_name!r} (rules: {names})")
    now = datetime.now(UTC)
    deliverer = Deliverer()
    failed = total = 0
    try:
        for rule in rules:
            for target in rule.targets:
                outcome = deliverer.send(sample_alert(rule, target, now))
                total += 1
                failed += outcome.status == "failed"
                status = f" HTTP {outcome.http_status}" if outcome.http_status else ""
                error = f": {outcome.error}" if outcome.error else ""
                click.echo(
                    f"{rule.name}\t{target.kind}\t{outcome.status}{status} "
                    f"({outcome.attempts} attempt(s)){error}"
                )
    finally:
        deliverer.close()
    if failed:
        raise GatewatchError(f"{failed} of {total} deliveries failed")
