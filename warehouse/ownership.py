"""Who owns the database file: the owner record next to it, and how other processes find it.

DuckDB lets one process write a file. `gatewatch serve` owns it and publishes
`<db>.owner.json` (pid, local admin URL, a random admin token; readable by the user only).
Other commands find a live owner and go through its admin API; with no owner they open the
file themselves.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Owner:
    pid: int
    admin_url: str
    token: str
    db: str


def owner_file(db_path: str | Path) -> Path:
    return Path(f"{Path(db_path).resolve()}.owner.json")


def new_admin_token() -> str:
    return secrets.token_urlsafe(32)


def publish_owner(db_path: str | Path, admin_url: str, token: str) -> Path:
    path = owner_file(db_path)
    owner = Owner(pid=os.getpid(), admin_url=admin_url, token=token, db=str(db_path))
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(owner), f)
    os.replace(tmp, path)
    return path


def withdraw_owner(db_path: str | Path) -> None:
    path = owner_file(db_path)
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError, KeyError):
        if json.loads(path.read_text())["pid"] == os.getpid():
            path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_owner(db_path: str | Path) -> Owner | None:
    """The recorded owner if its process is alive (a stale record is ignored)."""
    try:
        data = json.loads(owner_file(db_path).read_text())
        owner = Owner(**data)
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None
    return owner if _alive(owner.pid) else None
