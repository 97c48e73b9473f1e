"""Sign-in in real Chromium: signing in, a wrong password, signing out, and tenant scoping
(a tenant user sees only its tenant's requests and numbers, even through a crafted
callback), on the two-tenant planted warehouse (`tests.planted_tenants`)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from werkzeug.serving import make_server

from analytics.tenant_scopes import TenantScopes
from dashboard.app import create_app
from dashboard.auth import DashboardAccess
from tests.planted_requests import expected_ids
from tests.planted_tenants import PASSWORDS, build, sign_in, tenant_records

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
SESSION_COOKIE = "gatewatch_session"


@pytest.fixture(scope="module")
def signin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("signin") / "gatewatch.duckdb"
    warehouse = build(path, tenant_records())
    users = sign_in()
    scopes = TenantScopes(warehouse, users.tenant_scopes())
    scopes.refresh()
    app = create_app(warehouse, access=DashboardAccess(users, "k" * 48, scopes))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    warehouse.close()


def _sign_in(page: Page, url: str, name: str, password: str) -> None:
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _session(context: BrowserContext) -> list[str]:
    return [c["value"] for c in context.cookies() if c["name"] == SESSION_COOKIE]


def test_sign_in_goes_to_the_page_asked_for(page: Page, signin_url: str) -> None:
    page.goto(signin_url + "/requests")
    expect(page).to_have_url(re.compile(r"/login\?next=/requests$"))
    _sign_in(page, signin_url, "root", PASSWORDS["root"])
    expect(page).to_have_url(signin_url + "/requests")
    expect(page.locator("#nav-user")).to_have_text("root")
    expect(page.locator("#explorer-summary")).to_contain_text("of 120 requests", timeout=TIMEOUT_MS)
    cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_a_wrong_password_says_so_and_signs_nobody_in(page: Page, signin_url: str) -> None:
    page.goto(signin_url + "/")
    _sign_in(page, signin_url, "ana", "not-her-password")
    expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    assert _session(page.context) == []
    page.goto(signin_url + "/traffic")
    expect(page).to_have_url(re.compile(r"/login\?next=/traffic$"))


def test_sign_out_ends_the_session(page: Page, signin_url: str) -> None:
    page.goto(signin_url + "/")
    _sign_in(page, signin_url, "gus", PASSWORDS["gus"])
    expect(page.locator("#kpi-requests-value")).to_have_text("30", timeout=TIMEOUT_MS)
    (old,) = _session(page.context)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(signin_url + "/login")
    assert _session(page.context) == []
    page.goto(signin_url + "/requests")
    expect(page).to_have_url(re.compile(r"/login\?next=/requests$"))
    # The old cookie, replayed, is refused too.
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": old, "url": signin_url}])
    assert page.request.get(signin_url + "/_dash-layout").status == 401


def test_a_tenant_user_sees_only_its_tenant(page: Page, signin_url: str) -> None:
    page.goto(signin_url + "/")
    _sign_in(page, signin_url, "ana", PASSWORDS["ana"])
    expect(page.locator("#nav-user")).to_have_text("ana")
    expect(page.locator("#kpi-requests-value")).to_have_text("30", timeout=TIMEOUT_MS)
    page.goto(signin_url + "/requests")
    summary = page.locator("#explorer-summary")
    expect(summary).to_have_text("1–30 of 30 requests · page 1 of 1", timeout=TIMEOUT_MS)
    shown = page.locator("#explorer-table tbody tr td:nth-last-child(2)").all_text_contents()
    assert shown == expected_ids(lambda row: row["tenant"] == "acme")[:30]
    # Asking for globex in the URL shows no globex row (globex is not even an option).
    page.goto(signin_url + "/requests?tenant=globex")
    expect(summary).to_have_text("1–30 of 30 requests · page 1 of 1", timeout=TIMEOUT_MS)
    shown = page.locator("#explorer-table tbody tr td:nth-last-child(2)").all_text_contents()
    assert set(shown) <= set(expected_ids(lambda row: row["tenant"] == "acme"))


def test_a_crafted_callback_cannot_read_another_tenant(
    browser: Browser, page: Page, signin_url: str
) -> None:
    page.goto(signin_url + "/")
    _sign_in(page, signin_url, "ana", PASSWORDS["ana"])
    expect(page.locator("#kpi-requests-value")).to_have_text("30", timeout=TIMEOUT_MS)
    # Replay the overview's KPI callback outside the page: the body names no tenant, the
    # session decides, so the answer counts acme's requests only (120 in the warehouse).
    bodies: list[str] = []
    page.on(
        "request",
        lambda r: (
            bodies.append(r.post_data or "")
            if "/_dash-update-component" in r.url and "kpi-requests-value" in (r.post_data or "")
            else None
        ),
    )
    page.reload()
    expect(page.locator("#kpi-requests-value")).to_have_text("30", timeout=TIMEOUT_MS)
    assert bodies, "the overview sent no KPI callback"
    response = page.request.post(
        signin_url + "/_dash-update-component",
        data=bodies[-1],
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 200
    assert '"30"' in response.text() and '"120"' not in response.text()
    # Without the session, the same body is refused.
    anonymous = browser.new_context()
    try:
        refused = anonymous.request.post(
            signin_url + "/_dash-update-component",
            data=bodies[-1],
            headers={"Content-Type": "application/json"},
        )
        assert refused.status == 401
    finally:
        anonymous.close()
    json.loads(bodies[-1])  # a real callback body was replayed
