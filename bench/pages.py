"""Dashboard benchmark: how long each page's callbacks take to answer, in a real browser.

Serves the dashboard in-process over an existing warehouse (e.g. the 10 M-request one that
`bench/jobs.py --keep PATH` leaves behind), loads every page in headless Chromium several
times, and times the page's `/_dash-update-component` answers as the browser saw them (request
sent → response received; the server runs the callback in between). Per page it prints the
median over loads of the slowest answer and of their sum, and the median time until the page's
last callback answer arrived. A load has settled when no callback is in flight and none has
answered for a second; a page whose callbacks are still unanswered after `LOAD_TIMEOUT_S` is
reported as such (`--pages` leaves pages out).

    .venv/bin/python bench/pages.py --db /tmp/bench-10m.duckdb
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, Request, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from dashboard.app import create_app  # noqa: E402
from warehouse.db import Warehouse  # noqa: E402

PAGES = (
    "/",
    "/uptime",
    "/providers",
    "/routing",
    "/model-mix",
    "/traffic",
    # The request explorer over the default range (every request of the last 90 days with
    # data): newest first, a deep page, sorted by a column with no zone-map order, filtered.
    "/requests",
    "/requests?page=2000",
    "/requests?sort=duration_ms",
    "/requests?status=error&finish_reason=error&min_ms=1000",
)
CALLBACK_PATH = "/_dash-update-component"
QUIET_S = 1.0
LOAD_TIMEOUT_S = 60.0


def load_page(page: Page, url: str) -> tuple[list[float], float, int]:
    """Callback answer times (ms) of one page load, ms until it settled, and how many
    callbacks were still unanswered after `LOAD_TIMEOUT_S`."""
    answers: list[float] = []
    pending: set[Request] = set()

    def on_request(request: Request) -> None:
        if CALLBACK_PATH in request.url:
            pending.add(request)

    def on_finished(request: Request) -> None:
        if request in pending:
            pending.discard(request)
            timing = request.timing  # complete once the request has finished
            answers.append(timing["responseEnd"] - timing["requestStart"])

    def on_failed(request: Request) -> None:
        pending.discard(request)

    listeners = {"request": on_request, "requestfinished": on_finished, "requestfailed": on_failed}
    for event, listener in listeners.items():
        page.on(event, listener)
    started = time.perf_counter()
    page.goto(url)
    # Settled: no callback in flight and no new answer for QUIET_S (chained callbacks fire
    # one after another); a slow answer is waited for, never counted in the next load.
    seen, last_change = 0, time.perf_counter()
    while (pending and time.perf_counter() - started < LOAD_TIMEOUT_S) or (
        time.perf_counter() - last_change < QUIET_S
    ):
        page.wait_for_timeout(50)
        if len(answers) != seen:
            seen, last_change = len(answers), time.perf_counter()
    settled = (last_change - started) * 1000
    for event, listener in listeners.items():
        page.remove_listener(event, listener)
    return answers, settled, len(pending)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="warehouse file (jobs already run)")
    parser.add_argument("--loads", type=int, default=5, help="loads per page")
    parser.add_argument(
        "--pages", default=",".join(PAGES), help="comma-separated paths (default: all)"
    )
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    warehouse = Warehouse.open(args.db, read_only=True)
    [(requests,)] = warehouse.connection.execute("SELECT count(*) FROM requests").fetchall()
    server = make_server("127.0.0.1", 0, create_app(warehouse).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    print(f"{requests:,} requests in {args.db}\n")
    paths = args.pages.split(",")
    width = max(len(path) for path in paths)
    print(f"{'page':<{width}} {'slowest callback':>17} {'all callbacks':>14} {'page settled':>13}")
    chromium = os.environ.get("GATEWATCH_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for path in paths:
            load_page(page, base + path)  # warm-up: assets cached, first-query costs paid
            runs = [load_page(page, base + path) for _ in range(args.loads)]
            unanswered = max(u for _, _, u in runs)
            if unanswered:
                late = f"{unanswered} callback(s) unanswered after {LOAD_TIMEOUT_S:.0f} s"
                print(f"{path:<{width}} {late}")
                continue
            slowest = statistics.median(max(a) for a, _, _ in runs if a)
            total = statistics.median(sum(a) for a, _, _ in runs)
            settled = statistics.median(s for _, s, _ in runs)
            print(f"{path:<{width}} {slowest:>14.0f} ms {total:>11.0f} ms {settled:>10.0f} ms")
        browser.close()
    server.shutdown()
    warehouse.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
