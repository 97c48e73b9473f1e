"""Bearer-token auth for the ingest routes; a token may name the tenant its rows belong to.

`GATEWATCH_INGEST_TOKENS` holds comma-separated entries, or `@/path/to/file` for a file with
one entry per line (blank lines and `#` comments skipped). An entry is `tenant:token` or a bare
`token` (rows get no tenant); a tenant name has no `:`, a token may have one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

AUTH_SCHEME = "bearer"


class Unauthorized(Exception):
    """No valid bearer token (→ 401 with `WWW-Authenticate: Bearer`)."""


@dataclass(frozen=True, slots=True)
class TokenTable:
    # (sha256 of the token, tenant or None)
    entries: tuple[tuple[bytes, str | None], ...]

    def tenant_of(self, token: str) -> str | None:
        """The tenant the token names; raises Unauthorized for an unknown token.

        Every entry is compared, and over equal-length digests, so the time taken tells
        neither which entry matched nor how much of a token was right.
        """
        digest = _digest(token)
        matched = False
        tenant: str | None = None
        for known, entry_tenant in self.entries:
            if hmac.compare_digest(digest, known):
                matched = True
                tenant = entry_tenant
        if not matched:
            raise Unauthorized("invalid bearer token")
        return tenant


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def parse_tokens(spec: str) -> TokenTable | None:
    """The table `GATEWATCH_INGEST_TOKENS` describes; None (auth off) when it is empty."""
    spec = spec.strip()
    if not spec:
        return None
    if spec.startswith("@"):
        path = Path(spec[1:].strip())
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ValueError(f"cannot read the ingest token file {path}: {e}") from e
        entries = [line.split("#", 1)[0] for line in text.splitlines()]
        where = str(path)
    else:
        entries = spec.split(",")
        where = "GATEWATCH_INGEST_TOKENS"
    table: dict[str, str | None] = {}
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        tenant, sep, token = entry.partition(":")
        tenant, token = (tenant.strip() or None, token.strip()) if sep else (None, entry)
        if not token:
            raise ValueError(f"{where}: entry {entry!r} has an empty token")
        if token in table and table[token] != tenant:
            raise ValueError(f"{where}: one token is given for two tenants")
        table[token] = tenant
    if not table:
        raise ValueError(f"{where} lists no token")
    return TokenTable(tuple((_digest(token), tenant) for token, tenant in table.items()))


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    if not authorization:
        raise Unauthorized("missing Authorization: Bearer <token> header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != AUTH_SCHEME or not token:
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return token


async def request_tenant(request: Request) -> str | None:
    """FastAPI dependency: the caller's tenant when `app.state.ingest_tokens` is a table.
    Async (it never blocks): a plain function would cost every export a hop to a thread."""
    tokens: TokenTable | None = request.app.state.ingest_tokens
    if tokens is None:
        return None
    return tokens.tenant_of(bearer_token(request.headers.get("authorization")))


# An ingest route takes `tenant: Tenant` to require a valid token and learn its tenant.
Tenant = Annotated[str | None, Depends(request_tenant)]
