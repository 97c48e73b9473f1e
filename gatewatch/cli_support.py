"""What the `gatewatch` commands share: the `--db` option and its resolution, opening the file
or finding the running owner, the user's config file, one-line messages."""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click

from gatewatch import config
from gatewatch.errors import GatewatchError

DB_HELP = f"DuckDB warehouse file [env {config.GATEWATCH_DB}; default ./{config.DEFAULT_DB}]"
LOCK_WAIT_SECONDS = 15.0


def stop_on_sigterm_as_on_ctrl_c() -> None:
    """A service manager's TERM stops a long-running command through its shutdown code, as
    Ctrl-C does. (uvicorn shuts down gracefully on TERM, then raises it again; its default
    action would end the process before `serve` stops its writer and closes the database.)"""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def say(message: str) -> None:
    click.echo(message, err=True)


def db_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False),
        default=None,
        help=DB_HELP,
    )(func)


def out_dir_option(default: str, help_text: str):  # type: ignore[no-untyped-def]
    """`--out DIR`: the folder a command writes its files into."""
    return click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(default),
        show_default=True,
        help=help_text,
    )


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
                say(f"waiting for another gatewatch command to release {db} ...")
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


def use_user_config(ctx: click.Context):  # type: ignore[no-untyped-def]
    """Load the user's alias file and make this process's mappers use it."""
    from gatewatch.user_config import apply_user_config, load_user_config

    user = load_user_config(ctx.find_root().params.get("config_file"))
    apply_user_config(user)
    return user


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
