"""The `[auth]` section of the config file, and whether `serve` turns sign-in on.

[auth]
required = true                       # default: on unless bound to a loopback address
users_file = "/etc/gatewatch/users"   # or env GATEWATCH_USERS_FILE: name:hash:tenants
proxy_header = "X-Forwarded-User"     # a reverse proxy that signs users in itself...
trusted_proxies = ["10.0.0.5", "10.1.0.0/16"]   # ...honoured from these addresses only
session_hours = 12
secure_cookie = true                  # the dashboard is reached over HTTPS

[[auth.users]]
name = "ana"
password_hash = "scrypt:32768:8:1$..."   # gatewatch users hash
tenants = ["acme"]                       # or admin = true: every tenant
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from dashboard.auth.users import User, UsersError, index_users, read_users_file, user_from_table

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_KEYS = {
    "required",
    "users",
    "users_file",
    "proxy_header",
    "trusted_proxies",
    "session_hours",
    "secure_cookie",
}
DEFAULT_SESSION_HOURS = 12.0


class AuthConfigError(ValueError):
    """An `[auth]` setting that cannot be used."""


@dataclass(frozen=True, slots=True)
class AuthSettings:
    required: bool | None = None  # None: required unless bound to a loopback address
    users: tuple[User, ...] = ()
    users_file: Path | None = None
    proxy_header: str | None = None
    trusted_proxies: tuple[IPNetwork, ...] = ()
    session_hours: float = DEFAULT_SESSION_HOURS
    secure_cookie: bool = False


@dataclass(frozen=True, slots=True)
class SignIn:
    """Sign-in as `serve` enforces it: every user by name, and the proxy trust."""

    users: dict[str, User]
    proxy_header: str | None = None
    trusted_proxies: tuple[IPNetwork, ...] = ()
    session_hours: float = DEFAULT_SESSION_HOURS
    secure_cookie: bool = False

    def tenant_scopes(self) -> set[tuple[str, ...]]:
        """The distinct tenant sets of the users who do not see every tenant."""
        return {user.tenants for user in self.users.values() if user.tenants is not None}


def _bool(table: dict, key: str) -> bool | None:
    value = table.get(key)
    if value is not None and not isinstance(value, bool):
        raise AuthConfigError(f"[auth] {key} must be true or false")
    return value


def _networks(values: object) -> tuple[IPNetwork, ...]:
    if not isinstance(values, list):
        raise AuthConfigError("[auth] trusted_proxies must be a list of addresses or networks")
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value), strict=False))
        except ValueError as e:
            raise AuthConfigError(f"[auth] trusted_proxies: {value!r} is not an address") from e
    return tuple(networks)


def parse_auth(table: object) -> AuthSettings:
    if not isinstance(table, dict):
        raise AuthConfigError("[auth] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise AuthConfigError(f"[auth] unknown key(s) {', '.join(unknown)}")
    entries = table.get("users", [])
    if not isinstance(entries, list):
        raise AuthConfigError("[[auth.users]] must be an array of tables")
    try:
        users = tuple(
            user_from_table(e, f"[[auth.users]] #{n}") for n, e in enumerate(entries, start=1)
        )
        index_users(users)
    except UsersError as e:
        raise AuthConfigError(str(e)) from e
    header = table.get("proxy_header")
    if header is not None and (not isinstance(header, str) or not header.strip()):
        raise AuthConfigError("[auth] proxy_header must be a header name")
    hours = table.get("session_hours", DEFAULT_SESSION_HOURS)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24 * 90:
        raise AuthConfigError("[auth] session_hours must be a number of hours (0, 2160]")
    users_file = table.get("users_file")
    if users_file is not None and not isinstance(users_file, str):
        raise AuthConfigError("[auth] users_file must be a path")
    return AuthSettings(
        required=_bool(table, "required"),
        users=users,
        users_file=Path(users_file) if users_file else None,
        proxy_header=header.strip() if header else None,
        trusted_proxies=_networks(table.get("trusted_proxies", [])),
        session_hours=float(hours),
        secure_cookie=bool(_bool(table, "secure_cookie")),
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


def resolve_sign_in(settings: AuthSettings, host: str, users_file_env: str = "") -> SignIn | None:
    """The sign-in `serve` enforces when bound to `host`, or None when it is off.

    Off by default on a loopback address (only this machine can connect), on everywhere
    else; `required` overrides both ways. On with no way to sign in is a config error, as
    is a proxy header with no trusted proxy (anyone could send the header).
    """
    required = settings.required if settings.required is not None else not is_loopback(host)
    if not required:
        return None
    users = list(settings.users)
    users_file = settings.users_file or (Path(users_file_env) if users_file_env else None)
    try:
        if users_file is not None:
            users += read_users_file(users_file)
        by_name = index_users(users)
    except UsersError as e:
        raise AuthConfigError(str(e)) from e
    if settings.proxy_header and not settings.trusted_proxies:
        raise AuthConfigError("[auth] proxy_header needs trusted_proxies (the proxy's addresses)")
    with_password = any(user.password_hash for user in by_name.values())
    if not with_password and not settings.proxy_header:
        where = "is on" if settings.required else f"is required when bound to {host}"
        raise AuthConfigError(
            f"dashboard sign-in {where}, but no user can sign in: add [[auth.users]] or a users "
            "file (hashes from `gatewatch users hash`), or [auth] proxy_header; "
            "or set [auth] required = false to serve the dashboard to anyone who can reach it"
        )
    return SignIn(
        users=by_name,
        proxy_header=settings.proxy_header,
        trusted_proxies=settings.trusted_proxies,
        session_hours=settings.session_hours,
        secure_cookie=settings.secure_cookie,
    )
