"""Dashboard sign-in: users (`users`), the `[auth]` settings (`settings`), the session key
(`secret`) and the guard on the Flask server (`guard`)."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.tenant_scopes import TenantScopes
from dashboard.auth.settings import SignIn


@dataclass(frozen=True, slots=True)
class DashboardAccess:
    """What a dashboard with sign-in needs: who may sign in, the key that signs their
    session cookies, and the tenant scopes the restricted users read."""

    sign_in: SignIn
    secret_key: str
    scopes: TenantScopes
