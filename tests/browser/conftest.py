"""One Chromium per session, the dashboard served in-process over a synthetic warehouse.

Traffic (5 days from `FIRST_DAY`), chosen so every KPI is countable by hand:
- anthropic / claude-sonnet-4.5 / app "agent", daily: 8 ok (4 tool calls; 40 of 100 output
  tokens are reasoning), 1 rate-limit error, 1 client error.
- openai / gpt-5-mini / app "chat", daily except day 3: 5 ok (1 tool call; 10 of 50 reasoning).
- amazon-bedrock / claude-sonnet-4.5 / app "chat", daily: 2 ok stops (reasoning not
  reported), 2 overloaded errors.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from werkzeug.serving import make_server

from analytics.jobs import run_jobs
from dashboard.app import create_app
from ingest.record import Record, records_to_table
from warehouse.db import Warehouse

FIRST_DAY = date(2026, 2, 2)
DAYS = [FIRST_DAY + timedelta(days=n) for n in range(5)]
OPENAI_IDLE_DAY = DAYS[2]
CLAUDE = "anthropic/claude-sonnet-4.5"
GPT = "openai/gpt-5-mini"


def _records(day: date, n: int, ids: count, **fields: object) -> list[Record]:
    started = int(datetime(day.year, day.month, day.day, 9, tzinfo=UTC).timestamp() * 1e6)
    return [
        {
            "request_id": f"browser-{next(ids)}",
            "started_at": started + i * 60_000_000,
            "duration_ms": 800.0,
            "input_tokens": 100,
            **fields,
        }
        for i in range(n)
    ]


def synthetic_traffic() -> list[Record]:
    ids = count()
    records: list[Record] = []
    for day in DAYS:
        claude = {"provider": "anthropic", "model": CLAUDE, "app": "agent"}
        ok = {"status": "ok", "output_tokens": 100, "reasoning_tokens": 40}
        records += _records(day, 4, ids, **claude, **ok, finish_reason="tool_calls")
        records += _records(day, 4, ids, **claude, **ok, finish_reason="stop")
        for error_type in ("rate_limit", "client_error"):
            error = {"status": "error", "finish_reason": "error", "error_type": error_type}
            records += _records(day, 1, ids, **claude, **error, output_tokens=0)
        bedrock = {"provider": "amazon-bedrock", "model": CLAUDE, "app": "chat"}
        records += _records(
            day, 2, ids, **bedrock, status="ok", finish_reason="stop", output_tokens=100
        )
        records += _records(
            day, 2, ids, **bedrock, status="error", finish_reason="error", error_type="overloaded"
        )
        if day != OPENAI_IDLE_DAY:
            gpt = {"provider": "openai", "model": GPT, "app": "chat", "status": "ok"}
            gpt_ok = {"output_tokens": 50, "reasoning_tokens": 10}
            records += _records(day, 1, ids, **gpt, **gpt_ok, finish_reason="tool_calls")
            records += _records(day, 4, ids, **gpt, **gpt_ok, finish_reason="stop")
    return records


def build_warehouse(path: Path, records: list[Record]) -> Warehouse:
    """A real warehouse: migrations, the records as `requests`, then the batch jobs."""
    warehouse = Warehouse.open(path)
    warehouse.connection.register("traffic", records_to_table(records))
    warehouse.connection.execute("INSERT INTO requests BY NAME SELECT * FROM traffic")
    warehouse.connection.unregister("traffic")
    run_jobs(warehouse.connection, full=True)
    return warehouse


class DashboardServer:
    """A Dash app served by werkzeug on a free local port, in a background thread."""

    def __init__(self, warehouse: Warehouse) -> None:
        self._server = make_server("127.0.0.1", 0, create_app(warehouse).server, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture(scope="session")
def traffic() -> list[Record]:
    return synthetic_traffic()


@pytest.fixture(scope="session")
def warehouse(
    tmp_path_factory: pytest.TempPathFactory, traffic: list[Record]
) -> Iterator[Warehouse]:
    path = tmp_path_factory.mktemp("browser") / "gatewatch.duckdb"
    warehouse = build_warehouse(path, traffic)
    yield warehouse
    warehouse.close()


@pytest.fixture(scope="session")
def dashboard_url(warehouse: Warehouse) -> Iterator[str]:
    server = DashboardServer(warehouse)
    yield server.url
    server.stop()


@pytest.fixture
def serve_dashboard(tmp_path: Path) -> Iterator[Callable[[list[Record]], str]]:
    """Serve another app over its own warehouse built from the given records; returns its URL."""
    started: list[tuple[DashboardServer, Warehouse]] = []

    def serve(records: list[Record]) -> str:
        warehouse = build_warehouse(tmp_path / f"extra-{len(started)}.duckdb", records)
        server = DashboardServer(warehouse)
        started.append((server, warehouse))
        return server.url

    yield serve
    for server, warehouse in started:
        server.stop()
        warehouse.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("GATEWATCH_CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; the test fails if the browser logged any error or uncaught exception."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    yield page
    context.close()
    assert errors == [], "browser errors:\n" + "\n".join(errors)
