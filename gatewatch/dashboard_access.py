"""What `serve` puts in front of the dashboard: sign-in or not, and the tenant scopes.

Off when bound to a loopback address (only this machine can connect) unless `[auth]
required = true`; on everywhere else unless `[auth] required = false`. On with no way to sign
in is refused at startup with one line, never served open.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.settings import AnalyticsSettings
from analytics.tenant_scopes import TenantScopes
from dashboard.auth import DashboardAccess
from dashboard.auth.secret import session_secret
from dashboard.auth.settings import AuthConfigError, AuthSettings, resolve_sign_in
from gatewatch import config
from gatewatch.errors import GatewatchError
from warehouse.db import Warehouse


@dataclass(frozen=True, slots=True)
class AccessPlan:
    access: DashboardAccess | None
    summary: str  # for serve's startup lines


def plan_access(
    auth: AuthSettings, host: str, warehouse: Warehouse, analytics: AnalyticsSettings
) -> AccessPlan:
    """Sign-in as configured for `host`; raises GatewatchError on a config that cannot work.
    The tenant scopes are created (empty) here and filled by the jobs (`refresh`)."""
    try:
        sign_in = resolve_sign_in(auth, host, config.env_or(config.GATEWATCH_USERS_FILE, ""))
        if sign_in is None:
            reason = "[auth] required = false" if auth.required is False else f"bound to {host}"
            return AccessPlan(None, f"sign-in off ({reason})")
        secret = session_secret(warehouse.path, config.env_or(config.GATEWATCH_SECRET_KEY, ""))
    except (AuthConfigError, ValueError, OSError) as e:
        raise GatewatchError(str(e)) from e
    scopes = TenantScopes(warehouse, sign_in.tenant_scopes(), settings=analytics)
    scopes.prepare()
    ways = [f"{len(sign_in.users)} user(s)"]
    if sign_in.proxy_header:
        ways.append(f"proxy header {sign_in.proxy_header}")
    summary = f"sign-in required: {', '.join(ways)}; {len(scopes.tenant_sets)} tenant scope(s)"
    return AccessPlan(DashboardAccess(sign_in, secret, scopes), summary)
