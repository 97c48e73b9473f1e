"""Sign-in enforced on the dashboard's Flask server.

One `before_request` guards every route Dash serves (pages, `/_dash-layout`,
`/_dash-update-component` and so the CSV export, component bundles, assets); only the
sign-in page, which is self-contained, is open. A page request without a user is sent to
`/login?next=...`; any other request gets 401. The signed-in user is `flask.g`'s for the
request, which is what scopes the data (`dashboard.scoped_warehouse`).

A user is known from either
- the session cookie (Flask's, signed with the session key): the name, the password hash's
  fingerprint (a changed password ends old sessions) and when it was issued; it expires
  `session_hours` after sign-in whatever the activity (auto-refresh must not keep it alive);
- or the proxy header, from a trusted proxy address only; elsewhere the header is ignored.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from datetime import timedelta
from urllib.parse import quote, urlsplit

from flask import Flask, Response, g, has_request_context, redirect, request, session

from dashboard.auth.login_page import login_page
from dashboard.auth.settings import SignIn
from dashboard.auth.users import User, verify

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
SESSION_COOKIE = "gatewatch_session"
_OPEN_PATHS = {LOGIN_PATH, LOGOUT_PATH}


def current_user() -> User | None:
    """The user of the request being served (None outside a signed-in request)."""
    return g.get("gatewatch_user") if has_request_context() else None


def signed_in_by_proxy() -> bool:
    return has_request_context() and bool(g.get("gatewatch_by_proxy"))


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this server, never another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"  # browsers read `/\evil.example` as another host
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path in _OPEN_PATHS:
        return "/"
    return target


def password_fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def is_trusted(sign_in: SignIn, remote_addr: str | None) -> bool:
    if not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in network for network in sign_in.trusted_proxies)


class Guard:
    """Who may see the dashboard; installed on the Flask server by `install`."""

    def __init__(self, sign_in: SignIn) -> None:
        self.sign_in = sign_in
        # A signed cookie stays valid until it expires, so signing out also records the
        # time: the user's sessions issued before it are refused (in this process).
        self._signed_out: dict[str, float] = {}
        self._lock = threading.Lock()

    def session_user(self) -> User | None:
        name, issued = session.get("user"), session.get("issued")
        user = self.sign_in.users.get(name) if isinstance(name, str) else None
        if user is None or user.password_hash is None or not isinstance(issued, int | float):
            return None
        if session.get("v") != password_fingerprint(user):
            return None
        with self._lock:
            if issued <= self._signed_out.get(user.name, float("-inf")):
                return None
        return user

    def proxy_user(self) -> tuple[bool, User | None]:
        """(the header was honoured, its user); an unknown name there is refused."""
        header = self.sign_in.proxy_header
        if not header or not is_trusted(self.sign_in, request.remote_addr):
            return False, None
        name = request.headers.get(header, "").strip()
        if not name:
            return False, None
        return True, self.sign_in.users.get(name)

    def before_request(self) -> Response | None:
        honoured, user = self.proxy_user()
        if honoured and user is None:
            return Response("not a gatewatch user\n", 403, mimetype="text/plain")
        g.gatewatch_by_proxy = honoured
        if user is None:
            user = self.session_user()
        if request.path in _OPEN_PATHS:
            g.gatewatch_user = user
            return None
        if user is None:
            return _challenge()
        g.gatewatch_user = user
        return None

    def login(self) -> Response:
        target = safe_next(request.values.get("next"))
        if request.method == "GET":
            if current_user() is not None:
                return redirect(target)
            return _page(target, None, 200)
        user = verify(
            self.sign_in.users, request.form.get("name", ""), request.form.get("password", "")
        )
        session.clear()
        if user is None:
            return _page(target, "Wrong name or password.", 200)  # a page, not an API error
        session.permanent = True
        session.update(user=user.name, v=password_fingerprint(user), issued=time.time())
        return redirect(target)

    def logout(self) -> Response:
        user = current_user()
        if user is not None and not signed_in_by_proxy():
            with self._lock:
                self._signed_out[user.name] = time.time()
        session.clear()
        return redirect(LOGIN_PATH)


def _challenge() -> Response:
    accepts_html = "text/html" in request.headers.get("Accept", "")
    if request.method == "GET" and accepts_html and not request.path.startswith("/_dash"):
        target = request.full_path if request.query_string else request.path
        return redirect(f"{LOGIN_PATH}?next={quote(safe_next(target), safe='/')}")
    return Response("sign-in required\n", 401, mimetype="text/plain")


def _page(target: str, error: str | None, status: int) -> Response:
    response = Response(login_page(target, error), status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Frame-Options", "DENY")  # no sign-in form in a frame
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def install(server: Flask, sign_in: SignIn, secret_key: str) -> Guard:
    """Require sign-in on every route of `server` (call before the first request)."""
    server.secret_key = secret_key
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=sign_in.secure_cookie,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=sign_in.session_hours),
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    guard = Guard(sign_in)
    # First in line: no other hook runs for a request that is refused.
    server.before_request_funcs.setdefault(None, []).insert(0, guard.before_request)
    server.after_request(_security_headers)
    server.add_url_rule(LOGIN_PATH, "gatewatch_login", guard.login, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT_PATH, "gatewatch_logout", guard.logout, methods=["POST"])
    return guard
