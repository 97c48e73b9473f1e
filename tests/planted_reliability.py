"""Hand-countable traffic for the uptime, provider-comparison and routing pages.

Uptime (2026-03-02 and -03):
- anthropic / CLAUDE, day 1: 14:00 bucket 1 ok + 6 overloaded, 14:05 bucket 6 overloaded
  (one incident 14:00–14:10: 12 failed requests, worst 5-minute uptime 0%); day 2 09:00: 4 ok.
- anthropic / HAIKU, day 1 14:00: 2 ok (the provider-level incident has 3 ok of 15).
- openai / GPT, day 1: 10:00 bucket 4 ok + 1 rate limit, 10:15 bucket 2 client errors only
  (no uptime); day 2 12:00: 3 ok.
- google-vertex / GPT, day 2 12:00: 5 ok (the one provider meeting the 99.9% target).

Same model across providers (ISO weeks of 2026-03-09 and -16, Mondays 08:00 onwards):
- CODER on together (500 ms): 200 ok a week, 100 tool calls; client errors 1 then 2.
- CODER on fireworks (800 ms): 200 ok a week, 100 tool calls.
- CODER on deepinfra (500 ms): week 1 200 ok, 20 tool calls; week 2 100 ok, 30 tool calls;
  half the output tokens (50 instead of 100): divergent both weeks.
- SMALL on together and fireworks, week 1: 100 ok each, 50 tool calls.
Every ok answer reports 30 reasoning tokens.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count

from ingest.record import Record

DAY1, DAY2 = date(2026, 3, 2), date(2026, 3, 3)
WEEK1, WEEK2 = date(2026, 3, 9), date(2026, 3, 16)
LAST_DAY = WEEK2 + timedelta(days=6)
CLAUDE = "anthropic/claude-sonnet-4.5"
HAIKU = "anthropic/claude-haiku-4.5"
GPT = "openai/gpt-5-mini"
CODER = "qwen/qwen3-coder"
SMALL = "meta/llama-small"


class _Traffic:
    def __init__(self) -> None:
        self.records: list[Record] = []
        self._ids = count()

    def add(self, n: int, day: date, hour: int, minute: int, **fields: object) -> None:
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
        for i in range(n):
            # Ten seconds apart: a few requests stay in their 5-minute bucket.
            at = start + timedelta(seconds=10 * i)
            self.records.append(
                {
                    "request_id": f"planted-{next(self._ids)}",
                    "started_at": int(at.timestamp() * 1_000_000),
                    "duration_ms": 500.0,
                    "input_tokens": 100,
                    "app": "agent",
                    **fields,
                }
            )

    def ok(self, n: int, day: date, hour: int, minute: int, **fields: object) -> None:
        ok = {"status": "ok", "finish_reason": "stop", "output_tokens": 100}
        self.add(n, day, hour, minute, **{**ok, "reasoning_tokens": 30, **fields})

    def error(self, n: int, day: date, hour: int, minute: int, error_type: str, **kw: object):
        error = {"status": "error", "finish_reason": "error", "error_type": error_type}
        self.add(n, day, hour, minute, **error, **kw)


def planted_traffic() -> list[Record]:
    t = _Traffic()
    claude = {"provider": "anthropic", "model": CLAUDE}
    t.ok(1, DAY1, 14, 0, **claude)
    t.error(6, DAY1, 14, 1, "overloaded", **claude)
    t.error(6, DAY1, 14, 5, "overloaded", **claude)
    t.ok(2, DAY1, 14, 2, provider="anthropic", model=HAIKU)
    t.ok(4, DAY2, 9, 0, **claude)
    gpt = {"provider": "openai", "model": GPT}
    t.ok(4, DAY1, 10, 0, **gpt)
    t.error(1, DAY1, 10, 3, "rate_limit", **gpt)
    t.error(2, DAY1, 10, 15, "client_error", **gpt)
    t.ok(3, DAY2, 12, 0, **gpt)
    t.ok(5, DAY2, 12, 0, provider="google-vertex", model=GPT)

    for week, deepinfra_ok, deepinfra_tools, together_errors in (
        (WEEK1, 200, 20, 1),
        (WEEK2, 100, 30, 2),
    ):
        together = {"provider": "together", "model": CODER}
        fireworks = {"provider": "fireworks", "model": CODER, "duration_ms": 800.0}
        deepinfra = {"provider": "deepinfra", "model": CODER, "output_tokens": 50}
        for fields in (together, fireworks):
            t.ok(100, week, 8, 0, finish_reason="tool_calls", **fields)
            t.ok(100, week, 9, 0, **fields)
        t.error(together_errors, week, 10, 0, "client_error", **together)
        t.ok(deepinfra_tools, week, 8, 0, finish_reason="tool_calls", **deepinfra)
        t.ok(deepinfra_ok - deepinfra_tools, week, 9, 0, **deepinfra)
    for provider in ("together", "fireworks"):
        small = {"provider": provider, "model": SMALL}
        t.ok(50, WEEK1, 11, 0, finish_reason="tool_calls", **small)
        t.ok(50, WEEK1, 12, 0, **small)
    return t.records
