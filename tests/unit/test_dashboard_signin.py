"""Dashboard sign-in: hashes, users from the config and a users file, the `[auth]` errors,
when `serve` turns it on, `next` targets, the session key file and proxy trust."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from analytics.tenant_scopes import TenantScopes
from dashboard.app import create_app
from dashboard.auth import DashboardAccess
from dashboard.auth.guard import safe_next
from dashboard.auth.secret import session_secret
from dashboard.auth.settings import AuthConfigError, AuthSettings, parse_auth, resolve_sign_in
from dashboard.auth.users import (
    User,
    UsersError,
    hash_password,
    parse_users_file,
    user_from_table,
    verify,
)
from gatewatch.errors import GatewatchError
from gatewatch.user_config import load_user_config
from tests.planted_tenants import PASSWORDS, build, sign_in, tenant_records

HASH = hash_password("correct horse")


def test_a_hash_verifies_its_password_only() -> None:
    assert HASH.startswith("scrypt:") and "correct horse" not in HASH
    users = {"ana": User("ana", HASH, ("acme",)), "proxy": User("proxy", None, None)}
    assert verify(users, "ana", "correct horse") == users["ana"]
    assert verify(users, "ana", "wrong") is None
    assert verify(users, "nobody", "correct horse") is None
    assert verify(users, "proxy", "") is None  # no password: proxy sign-in only
    with pytest.raises(UsersError):
        hash_password("")


def test_config_users_name_their_tenants_or_are_admins() -> None:
    ana = user_from_table({"name": "ana", "password_hash": HASH, "tenants": ["b", "a"]}, "u")
    assert ana.tenants == ("a", "b") and not ana.is_admin
    root = user_from_table({"name": "root", "password_hash": HASH, "admin": True}, "u")
    assert root.is_admin
    bad = [
        ({"name": "x", "password_hash": HASH}, "either tenants"),
        ({"name": "x", "password_hash": HASH, "tenants": ["a"], "admin": True}, "either"),
        ({"name": "x", "password_hash": "plain-text", "admin": True}, "not a werkzeug hash"),
        ({"name": "x", "password_hash": HASH, "tenants": []}, "non-empty"),
        ({"name": "x", "password_hash": HASH, "tenants": ["*"]}, "non-empty"),
        ({"name": "x y", "admin": True}, "not a user name"),
        ({"name": "x", "admin": True, "role": "x"}, "unknown key"),
    ]
    for entry, message in bad:
        with pytest.raises(UsersError, match=message):
            user_from_table(entry, "u")


def test_users_file_lines() -> None:
    text = f"# team\nana:{HASH}:acme, globex\n\nroot:{HASH}:*  # everything\n"
    ana, root = parse_users_file(text, "users")
    assert ana == User("ana", HASH, ("acme", "globex"))
    assert root.is_admin and root.password_hash == HASH
    with pytest.raises(UsersError, match="users:1: expected name:hash:tenants"):
        parse_users_file("ana-only", "users")
    with pytest.raises(UsersError, match="users:1"):
        parse_users_file("ana:plain:acme", "users")


def test_auth_section_errors() -> None:
    for table, message in [
        ({"requried": True}, "unknown key"),
        ({"trusted_proxies": ["not-an-ip"]}, "not an address"),
        ({"session_hours": 0}, "session_hours"),
        ({"required": "yes"}, "true or false"),
        ({"users": [{"name": "a", "admin": True}, {"name": "a", "admin": True}]}, "twice"),
    ]:
        with pytest.raises(AuthConfigError, match=message):
            parse_auth(table)


def test_the_config_file_carries_auth(tmp_path: Path) -> None:
    path = tmp_path / "gatewatch.toml"
    path.write_text(
        f'[auth]\nrequired = true\n[[auth.users]]\nname = "ana"\npassword_hash = "{HASH}"\n'
        'tenants = ["acme"]\n'
    )
    auth = load_user_config(str(path)).auth
    assert auth.required is True and auth.users == (User("ana", HASH, ("acme",)),)
    path.write_text("[auth]\nproxy_header = 3\n")
    with pytest.raises(GatewatchError, match=r"gatewatch.toml: \[auth\] proxy_header"):
        load_user_config(str(path))


def test_sign_in_is_off_on_loopback_and_required_elsewhere(tmp_path: Path) -> None:
    users = (User("ana", HASH, ("acme",)),)
    assert resolve_sign_in(AuthSettings(users=users), "127.0.0.1") is None
    assert resolve_sign_in(AuthSettings(users=users), "::1") is None
    assert resolve_sign_in(AuthSettings(users=users, required=True), "127.0.0.1") is not None
    on = resolve_sign_in(AuthSettings(users=users), "0.0.0.0")
    assert on is not None and on.tenant_scopes() == {("acme",)}
    with pytest.raises(AuthConfigError, match="required when bound to 0.0.0.0.*required = false"):
        resolve_sign_in(AuthSettings(), "0.0.0.0")
    assert resolve_sign_in(AuthSettings(required=False), "0.0.0.0") is None
    with pytest.raises(AuthConfigError, match="trusted_proxies"):
        resolve_sign_in(AuthSettings(proxy_header="X-Forwarded-User"), "10.0.0.1")
    users_file = tmp_path / "users"
    users_file.write_text(f"gus:{HASH}:globex\n")
    from_env = resolve_sign_in(AuthSettings(), "10.0.0.1", str(users_file))
    assert from_env is not None and set(from_env.users) == {"gus"}
    with pytest.raises(AuthConfigError, match="defined twice"):
        resolve_sign_in(AuthSettings(users=(User("gus", HASH, None),)), "::", str(users_file))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/requests?provider=groq", "/requests?provider=groq"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("requests", "/"),
        ("/login", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
    ],
)
def test_next_is_a_local_path(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_the_session_key_is_kept_beside_the_database_for_its_owner_only(tmp_path: Path) -> None:
    db = str(tmp_path / "g.duckdb")
    key = session_secret(db)
    assert session_secret(db) == key and len(key) >= 32
    assert os.stat(f"{db}.secret").st_mode & 0o777 == 0o600
    os.chmod(f"{db}.secret", 0o644)
    with pytest.raises(ValueError, match="readable by others"):
        session_secret(db)
    assert session_secret(db, "k" * 40) == "k" * 40
    with pytest.raises(ValueError, match="at least 32"):
        session_secret(db, "short")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    warehouse = build(tmp_path_factory.mktemp("proxy") / "w.duckdb", tenant_records())
    users = sign_in()
    proxy = parse_auth({"proxy_header": "X-Forwarded-User", "trusted_proxies": ["10.0.0.0/24"]})
    users = type(users)(users.users, proxy.proxy_header, proxy.trusted_proxies)
    scopes = TenantScopes(warehouse, users.tenant_scopes())
    scopes.refresh()
    app = create_app(warehouse, access=DashboardAccess(users, "s" * 40, scopes))
    yield app.server.test_client()
    warehouse.close()


def test_the_proxy_header_counts_from_trusted_addresses_only(proxied: FlaskClient) -> None:
    def layout(addr: str, user: str | None) -> int:
        headers = {"X-Forwarded-User": user} if user else {}
        response = proxied.get("/_dash-layout", headers=headers, environ_base={"REMOTE_ADDR": addr})
        return response.status_code

    assert layout("10.0.0.7", "ana") == 200
    assert layout("10.0.1.7", "ana") == 401  # not the proxy: the header is ignored
    assert layout("10.0.0.7", "mallory") == 403
    assert layout("10.0.0.7", None) == 401


def test_a_failed_sign_in_sets_no_session(proxied: FlaskClient) -> None:
    response = proxied.post("/login", data={"name": "ana", "password": "nope"})
    assert response.status_code == 200 and b"Wrong name or password." in response.data
    assert proxied.get_cookie("gatewatch_session") is None
    response = proxied.post("/login", data={"name": "ana", "password": PASSWORDS["ana"]})
    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 302 and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert proxied.get("/_dash-layout").status_code == 200
    proxied.post("/logout")
    assert proxied.get("/_dash-layout").status_code == 401
