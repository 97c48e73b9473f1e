"""Settings: every environment variable is a documented constant here.

Precedence: command-line argument > environment variable > default.
"""

from __future__ import annotations

import os
import re

GATEWATCH_DB = "GATEWATCH_DB"
"""Path of the DuckDB warehouse file (default `./gatewatch.duckdb`)."""

GATEWATCH_INGEST_PORT = "GATEWATCH_INGEST_PORT"
"""Port of the ingest API (OTLP/HTTP + request logs), default 4318."""

GATEWATCH_GRPC_PORT = "GATEWATCH_GRPC_PORT"
"""Port of the OTLP/gRPC receiver (traces and logs), default 4317; 0 turns it off."""

GATEWATCH_DASHBOARD_PORT = "GATEWATCH_DASHBOARD_PORT"
"""Port of the dashboard, default 8050."""

GATEWATCH_JOBS_EVERY = "GATEWATCH_JOBS_EVERY"
"""How often `serve` runs the batch jobs, e.g. `30s`, `5m`, `1h` (default `5m`)."""

GATEWATCH_MAX_BODY_BYTES = "GATEWATCH_MAX_BODY_BYTES"
"""Largest accepted request body after decompression, in bytes (default 64 MiB)."""

GATEWATCH_INGEST_WORKERS = "GATEWATCH_INGEST_WORKERS"
"""Processes `serve` decodes and maps ingest bodies in (default: one per core; 0 = in the
serving process itself)."""

GATEWATCH_CHECKPOINT_WAL_MB = "GATEWATCH_CHECKPOINT_WAL_MB"
"""WAL size in MiB at which `serve` checkpoints the warehouse, on a thread beside its writer
(default 64). Larger: fewer checkpoints, a longer replay after a crash."""
DEFAULT_CHECKPOINT_WAL_MB = 64

GATEWATCH_CONFIG = "GATEWATCH_CONFIG"
"""TOML file of provider/model aliases and app mappings (default `./gatewatch.toml` if present)."""

GATEWATCH_REPORTS_DIR = "GATEWATCH_REPORTS_DIR"
"""Folder `serve` writes the weekly report into (default `reports/` beside the database)."""

GATEWATCH_CHROMIUM = "GATEWATCH_CHROMIUM"
"""Chromium used to print the weekly report as PDF (default: `chromium` on PATH)."""
GATEWATCH_INGEST_TOKENS = "GATEWATCH_INGEST_TOKENS"
"""Bearer tokens the ingest routes require; unset or empty = no auth. Comma-separated
`tenant:token` or bare `token` entries, or `@/path/to/file` with one entry per line
(`#` comments allowed). A token's tenant is stored on every row it sends."""

GATEWATCH_USERS_FILE = "GATEWATCH_USERS_FILE"
"""Dashboard users, one `name:password_hash:tenants` a line (tenants comma-separated, or `*`
for all); used when the config's `[auth] users_file` is not set."""

GATEWATCH_SECRET_KEY = "GATEWATCH_SECRET_KEY"
"""Key signing dashboard session cookies (32+ characters; default: generated once and kept in
`<db>.secret`, mode 0600)."""

GATEWATCH_MAX_ATTRIBUTES = "GATEWATCH_MAX_ATTRIBUTES"
"""Most attributes kept per span, resource, event, kvlist or array; the rest are dropped
(default 1024)."""

GATEWATCH_MAX_ATTRIBUTE_DEPTH = "GATEWATCH_MAX_ATTRIBUTE_DEPTH"
"""Deepest nesting of arrays/kvlists in one attribute value; deeper values become NULL
(default 8)."""

GATEWATCH_MAX_ATTRIBUTE_CHARS = "GATEWATCH_MAX_ATTRIBUTE_CHARS"
"""Longest string (characters) or bytes attribute value; longer values become NULL, never
truncated (default 65536)."""

DEFAULT_DB = "gatewatch.duckdb"
DEFAULT_CONFIG = "gatewatch.toml"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_INGEST_PORT = 4318
DEFAULT_GRPC_PORT = 4317
DEFAULT_DASHBOARD_PORT = 8050
DEFAULT_JOBS_EVERY = "5m"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def env_or(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value else default


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def checkpoint_wal_bytes() -> int:
    mib = env_int(GATEWATCH_CHECKPOINT_WAL_MB, DEFAULT_CHECKPOINT_WAL_MB)
    if mib < 1:
        raise ValueError(f"{GATEWATCH_CHECKPOINT_WAL_MB} must be at least 1, got {mib}")
    return mib << 20


def parse_duration(text: str) -> float:
    """`'5m'` → 300.0 seconds; a bare number is seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
