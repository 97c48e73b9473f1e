"""Dashboard users: names, password hashes and the tenants each may see.

Passwords are hashed with `werkzeug.security` (scrypt by default), never stored plain;
`gatewatch users hash` prints a hash to paste into the config or the users file.

A users file holds one user a line, `name:hash:tenants`, where tenants is a comma-separated
list or `*` for every tenant (an admin); `#` starts a comment. The hash itself contains
colons, so the name is taken up to the first colon and the tenants after the last one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

ALL_TENANTS = "*"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
_HASH_PREFIXES = ("scrypt:", "pbkdf2:")
# Checked when the name is unknown, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("gatewatch-no-such-user")


class UsersError(ValueError):
    """A users entry that cannot be used; the message names where it is."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    password_hash: str | None  # None: signs in through the trusted proxy header only
    tenants: tuple[str, ...] | None  # None: every tenant (admin)

    @property
    def is_admin(self) -> bool:
        return self.tenants is None


def hash_password(password: str) -> str:
    if not password:
        raise UsersError("the password is empty")
    return generate_password_hash(password)


def verify(users: Mapping[str, User], name: str, password: str) -> User | None:
    """The user whose name and password these are, else None (in comparable time)."""
    user = users.get(name)
    stored = user.password_hash if user is not None else None
    ok = check_password_hash(stored or _DUMMY_HASH, password)
    return user if ok and stored is not None else None


def _check_hash(value: str, where: str) -> str:
    if not value.startswith(_HASH_PREFIXES):
        raise UsersError(
            f"{where}: password_hash is not a werkzeug hash (scrypt:... or pbkdf2:...); "
            "make one with `gatewatch users hash`"
        )
    return value


def _check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsersError(f"{where}: {name!r} is not a user name (letters, digits, . _ @ + -)")
    return name


def _tenants(values: Sequence[object], where: str) -> tuple[str, ...]:
    tenants = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    if not tenants or len(tenants) != len(values) or ALL_TENANTS in tenants:
        raise UsersError(f"{where}: tenants must be a non-empty list of tenant names")
    return tuple(sorted(set(tenants)))


def user_from_table(entry: object, where: str) -> User:
    """One `[[auth.users]]` table: name, password_hash (optional with a proxy header), and
    either `tenants = [...]` or `admin = true` (one of the two, so no user sees everything
    by accident)."""
    if not isinstance(entry, dict):
        raise UsersError(f"{where}: must be a table (name, password_hash, tenants or admin)")
    unknown = sorted(set(entry) - {"name", "password_hash", "tenants", "admin"})
    if unknown:
        raise UsersError(f"{where}: unknown key(s) {', '.join(unknown)}")
    name = _check_name(entry.get("name"), where)
    where = f"{where} {name!r}"
    password_hash = entry.get("password_hash")
    if password_hash is not None:
        if not isinstance(password_hash, str):
            raise UsersError(f"{where}: password_hash must be a string")
        _check_hash(password_hash, where)
    admin, tenants = entry.get("admin", False), entry.get("tenants")
    if not isinstance(admin, bool):
        raise UsersError(f"{where}: admin must be true or false")
    if admin == (tenants is not None):
        raise UsersError(f"{where}: give either tenants = [...] or admin = true")
    if tenants is not None and not isinstance(tenants, list):
        raise UsersError(f"{where}: tenants must be a list of tenant names")
    return User(name, password_hash, None if admin else _tenants(tenants or [], where))


def parse_users_file(text: str, source: str) -> list[User]:
    users: list[User] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{number}"
        name, sep, rest = line.partition(":")
        password_hash, sep2, tenant_list = rest.rpartition(":")
        if not sep or not sep2 or not password_hash:
            raise UsersError(f"{where}: expected name:hash:tenants (tenants comma-separated or *)")
        name = _check_name(name.strip(), where)
        _check_hash(password_hash.strip(), where)
        tenants = (
            None
            if tenant_list.strip() == ALL_TENANTS
            else _tenants(tenant_list.split(","), f"{where} {name!r}")
        )
        users.append(User(name, password_hash.strip(), tenants))
    return users


def read_users_file(path: Path) -> list[User]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UsersError(f"users file {path}: {e.strerror or e}") from e
    return parse_users_file(text, str(path))


def index_users(users: Iterable[User]) -> dict[str, User]:
    """By name; a name given twice is an error (which entry wins would be a guess)."""
    by_name: dict[str, User] = {}
    for user in users:
        if user.name in by_name:
            raise UsersError(f"user {user.name!r} is defined twice")
        by_name[user.name] = user
    return by_name
