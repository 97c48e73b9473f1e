"""Real LiteLLM (mock responses, no provider contacted) reporting to a real `gatewatch serve`:
through its OpenTelemetry callback (OTLP spans) and through its standard logging payload
(`/v1/requests`). Each call must land as exactly the canonical row SPEC §4 asks for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.litellm_client import CANARY, SERVICE
from tests.integration.server import run_cli, start_serve

ROOT = Path(__file__).resolve().parents[2]
CLIENT_TIMEOUT_S = 120

# What every row shares: LiteLLM's mock answers report 10 input and 20 output tokens, no
# reasoning, no cache, and the gpt-4o-mini model through its openai provider.
COMMON = {
    "provider": "openai",
    "provider_raw": "openai",
    "model": "openai/gpt-4o-mini",
    "model_raw": "gpt-4o-mini",
    "reasoning_tokens": None,
    "cached_input_tokens": None,
    "cache_write_tokens": None,
    "ttft_ms": None,  # not streamed: LiteLLM's completionStartTime is its endTime
}
OK = {"status": "ok", "error_type": None, "http_status": None, "input_tokens": 10}
UNCHECKED = dict.fromkeys(
    (
        "tool_calls_valid",
        "tool_calls_invalid_json",
        "tool_calls_unknown_tool",
        "tool_calls_schema_mismatch",
    )
)
PLAIN = {
    **COMMON,
    **OK,
    **UNCHECKED,
    "output_tokens": 20,
    "finish_reason": "stop",
    "native_finish_reason": "stop",
    "tool_calls": 0,
}
# Both calls name the declared tool with arguments matching its schema.
TOOLS = {
    **PLAIN,
    "finish_reason": "tool_calls",
    "tool_calls": 2,
    "tool_calls_valid": 2,
    "tool_calls_invalid_json": 0,
    "tool_calls_unknown_tool": 0,
    "tool_calls_schema_mismatch": 0,
}
RATE_LIMITED = {
    **COMMON,
    **UNCHECKED,
    "status": "error",
    "error_type": "rate_limit",
    "http_status": 429,
    "finish_reason": "error",
    "native_finish_reason": None,
}
EXPECTED = {
    "otel": [
        # LiteLLM writes llm.is_streaming "False" on every span of a non-streamed call.
        {**PLAIN, "source": "otlp:litellm", "app": SERVICE, "stream": False},
        {**TOOLS, "source": "otlp:litellm", "app": SERVICE, "stream": False},
        # The span of a failed call carries no usage and no answer.
        {
            **RATE_LIMITED,
            "source": "otlp:litellm",
            "app": SERVICE,
            "stream": False,
            "input_tokens": None,
            "output_tokens": None,
            "tool_calls": 0,
        },
    ],
    "payload": [
        # The payload's `stream` is true for a streamed call and null otherwise.
        {**PLAIN, "source": "requests:litellm", "app": None, "stream": None},
        {**TOOLS, "source": "requests:litellm", "app": None, "stream": None},
        # The payload of a failed call reports 0 tokens and no response: no usage reported
        # and no tool calls made, the same as its span says.
        {
            **RATE_LIMITED,
            "source": "requests:litellm",
            "app": None,
            "stream": None,
            "input_tokens": None,
            "output_tokens": None,
            "tool_calls": 0,
        },
    ],
}


def stored(mode: str, tmp_path: Path) -> tuple[list[dict[str, Any]], str, dict[str, Any]]:
    db = tmp_path / f"{mode}.duckdb"
    served = start_serve(db)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tests.integration.litellm_client", mode]
            + ["--endpoint", served.ingest_url],
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT_S,
            cwd=ROOT,
        )
    finally:
        served.stop()
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.splitlines()[-1])
    query = "SELECT * FROM requests ORDER BY started_at"
    text = run_cli("sql", query, "--format", "json", db=db).stdout
    return [json.loads(line) for line in text.splitlines() if line.strip()], text, summary


@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_litellm_calls_are_canonical_rows(mode: str, tmp_path: Path) -> None:
    rows, text, summary = stored(mode, tmp_path)
    assert summary["outcomes"] == {"plain": "ok", "tools": "ok", "rate_limit": "RateLimitError"}
    assert summary["payloads"] == len(EXPECTED[mode])  # every call's callbacks ran
    assert len(rows) == len(EXPECTED[mode]), rows
    mismatches = [
        (n, column, row[column], value)
        for n, (want, row) in enumerate(zip(EXPECTED[mode], rows, strict=True))
        for column, value in want.items()
        if row[column] != value
    ]
    assert not mismatches, "\n".join(map(repr, mismatches))
    assert all(row["duration_ms"] > 0 for row in rows)
    # LiteLLM prices each answered call itself (from its own price list, so not a fixed
    # number here); the failed call costs 0 in the payload and has no cost on its span.
    answered, failed = [row["cost_usd"] for row in rows[:2]], rows[2]["cost_usd"]
    assert answered[0] > 0 and answered[0] == answered[1]
    assert failed == {"otel": None, "payload": 0.0}[mode]
    # Ok answers keep the provider's response id; the failed call has LiteLLM's call id.
    assert [row["request_id"].startswith("chatcmpl-") for row in rows] == [True, True, False]
    assert CANARY not in text  # prompts and answers are never stored
