"""The Routing pools page in Chromium when pools are degraded: every provider of a model with
2% provider errors (all below the 99% uptime floor, so all kept), and a model whose only
provider has too little traffic to be judged."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from ingest.record import Record

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
CODER = "qwen/qwen3-coder"
GPT = "openai/gpt-5-mini"
START = datetime(2026, 2, 2, 9, tzinfo=UTC)
CODER_REASON = (
    "no provider meets every floor (3 below the 99.00% uptime floor); "
    "kept the best 3 by relative uptime"
)


def degraded_traffic() -> list[Record]:
    records: list[Record] = []

    def add(n: int, **fields: object) -> None:
        for _ in range(n):
            at = START + timedelta(seconds=30 * len(records))
            records.append(
                {
                    "request_id": f"degraded-{len(records)}",
                    "started_at": int(at.timestamp() * 1_000_000),
                    "duration_ms": 900.0,
                    **fields,
                }
            )

    for provider, ttft in (("together", 300.0), ("fireworks", 400.0), ("deepinfra", 500.0)):
        coder = {"provider": provider, "model": CODER}
        add(980, **coder, status="ok", finish_reason="stop", ttft_ms=ttft, output_tokens=50)
        add(20, **coder, status="error", finish_reason="error", error_type="rate_limit")
    add(20, provider="openai", model=GPT, status="ok", finish_reason="stop", output_tokens=50)
    return records


def test_routing_page_flags_degraded_pools(
    page: Page, serve_dashboard: Callable[[list[Record]], str]
) -> None:
    page.goto(serve_dashboard(degraded_traffic()) + "/routing")
    expect(page.locator("#routing-table-panel")).not_to_be_empty(timeout=TIMEOUT_MS)
    coder = page.locator(".pool-card", has_text=CODER)
    expect(coder.locator(".pool-badge")).to_have_text("degraded")
    expect(coder.locator(".pool-degraded-note")).to_have_text(CODER_REASON)
    assert coder.locator(".pool-included li strong").all_inner_texts() == [
        "together",
        "fireworks",
        "deepinfra",
    ]
    expect(coder.locator(".pool-included li").first).to_contain_text(
        "kept below the floor: uptime 98.00% < 99.00%"
    )
    gpt = page.locator(".pool-card", has_text=GPT)
    expect(gpt.locator(".pool-badge")).to_have_text("degraded")
    expect(gpt.locator(".pool-degraded-note")).to_have_text(
        "no provider to route to: 1 with too little traffic"
    )
    expect(gpt.locator(".empty-note")).to_have_count(0)
    page.locator("#routing-export-model").click()
    page.get_by_role("option", name=CODER, exact=True).click()
    page.keyboard.press("Escape")
    expect(page.locator("#routing-export-json")).to_contain_text(CODER_REASON)
    exported = json.loads(page.locator("#routing-export-json").inner_text())
    assert exported["gatewatch_degraded"] == CODER_REASON
    assert exported["provider"]["order"] == ["together", "fireworks", "deepinfra"]
