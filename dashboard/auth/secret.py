"""The key that signs session cookies.

From `GATEWATCH_SECRET_KEY` when set (several `serve` processes behind one address must
share it); otherwise generated once and kept beside the database, readable by its owner
only, so a restart does not sign everybody out.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MIN_KEY_CHARS = 32


def secret_path(db: str) -> Path | None:
    return None if db == ":memory:" else Path(f"{db}.secret")


def session_secret(db: str, from_env: str = "") -> str:
    if from_env:
        if len(from_env) < MIN_KEY_CHARS:
            raise ValueError(f"GATEWATCH_SECRET_KEY must be at least {MIN_KEY_CHARS} characters")
        return from_env
    path = secret_path(db)
    if path is None:
        return secrets.token_urlsafe(48)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        # O_EXCL: of two processes starting together, one writes and both read its key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key


def _read(path: Path) -> str:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ValueError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_KEY_CHARS:
        raise ValueError(f"{path}: the session key is too short; delete the file to renew it")
    return key
