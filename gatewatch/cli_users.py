"""`gatewatch users`: dashboard user helpers."""

from __future__ import annotations

import getpass
import sys

import click

from dashboard.auth.users import UsersError, hash_password
from gatewatch.errors import GatewatchError


@click.group()
def users() -> None:
    """Dashboard users (see [auth] in the config)."""


@users.command("hash")
def users_hash() -> None:
    """Print the hash of a password, for `password_hash` in [[auth.users]] or a users file.

    Asks for the password twice on a terminal; otherwise reads its first line from stdin.
    """
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise GatewatchError("the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        click.echo(hash_password(password))
    except UsersError as e:
        raise GatewatchError(str(e)) from e
