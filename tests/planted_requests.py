"""Hand-checkable request rows for the request explorer, and the rows a filter must give.

120 requests, `req-000` … `req-119`, one a minute from 10:00 UTC: the first 70 on DAY1,
the other 50 on DAY2. For request i:
- provider cycles openai, anthropic, groq (i % 3), each with its own model; app "agent"
  for even i, "chat" for odd i; tenant "acme" (i % 4 == 0), "globex" (i % 4 == 1), else none;
- every tenth (i % 10 == 9) is a rate-limit error; among the others, i % 5 == 0 ends in two
  tool calls (`tool_calls`), the rest stop with no tool call;
- duration 100 + 10·i ms, TTFT 50 + i ms (none for errors), input 100 + i and output
  10 + i tokens, cost i / 1000 USD;
- three consecutive requests share a trace: `trace-{i // 3:02d}`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ingest.record import Record

DAY1, DAY2 = date(2026, 4, 6), date(2026, 4, 7)
REQUESTS = 120
ON_DAY1 = 70
PROVIDERS = ("openai", "anthropic", "groq")
MODELS = {
    "openai": "openai/gpt-5-mini",
    "anthropic": "anthropic/claude-sonnet-4.5",
    "groq": "meta-llama/llama-4-scout",
}


def started_at(i: int) -> datetime:
    day = DAY1 if i < ON_DAY1 else DAY2
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC) + timedelta(minutes=i)


def planted_row(i: int) -> dict[str, Any]:
    """Request i as the explorer shows it (Python values)."""
    provider = PROVIDERS[i % 3]
    error = i % 10 == 9
    tool_calls = not error and i % 5 == 0
    return {
        "request_id": f"req-{i:03d}",
        "trace_id": f"trace-{i // 3:02d}",
        "started_at": started_at(i),
        "provider": provider,
        "model": MODELS[provider],
        "app": "agent" if i % 2 == 0 else "chat",
        "tenant": {0: "acme", 1: "globex"}.get(i % 4),
        "status": "error" if error else "ok",
        "error_type": "rate_limit" if error else None,
        "finish_reason": "error" if error else "tool_calls" if tool_calls else "stop",
        "tool_calls": 2 if tool_calls else 0,
        "duration_ms": 100.0 + 10 * i,
        "ttft_ms": None if error else 50.0 + i,
        "input_tokens": 100 + i,
        "output_tokens": 10 + i,
        "cost_usd": i / 1000,
    }


def planted_rows() -> list[dict[str, Any]]:
    return [planted_row(i) for i in range(REQUESTS)]


def planted_records() -> list[Record]:
    """The rows as ingest records (`started_at` in microseconds)."""
    records = []
    for row in planted_rows():
        record = {**row, "started_at": int(row["started_at"].timestamp() * 1_000_000)}
        records.append({k: v for k, v in record.items() if v is not None})
    return records


def expected_ids(
    keep: Callable[[dict[str, Any]], bool], sort: str = "started_at", descending: bool = True
) -> list[str]:
    """Request ids of the rows `keep` accepts, in the explorer's order (NULLs last, ties in
    storage order in the same direction: the rows are stored in request id order)."""
    rows = [row for row in planted_rows() if keep(row)]
    present = sorted(
        (row for row in rows if row[sort] is not None),
        key=lambda row: (row[sort], row["request_id"]),
        reverse=descending,
    )
    missing = sorted(
        (row for row in rows if row[sort] is None),
        key=lambda row: row["request_id"],
        reverse=descending,
    )
    return [row["request_id"] for row in present + missing]
