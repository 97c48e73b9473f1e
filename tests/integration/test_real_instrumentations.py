"""Real OpenAI instrumentation libraries → real `gatewatch serve` → the canonical rows.

Each library runs in its own process (tests/integration/instrumented_client.py) with the real
OTel SDK and OTLP/HTTP exporter, calling the `openai` SDK against a local fake endpoint
(tests/integration/fake_openai.py): a plain answer, a two-tool-call answer, a 429 and a
streamed answer. The stored rows must be exactly what SPEC §4 derives from what the fake
answered and what the library reports (docs/conventions/captured.md). The same expectations
hold offline for the committed captures in sample_data/examples/conventions/captured/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from tests.integration.fake_openai import (
    CANARY,
    REQUEST_MODEL,
    RESPONSE_MODEL,
    SCENARIOS,
    TOOL_CALL_CITIES,
    USAGE,
    response_id,
)
from tests.integration.instrumented_client import service_name
from tests.integration.server import Served, run_cli, start_serve

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CAPTURED = ROOT / "sample_data" / "examples" / "conventions" / "captured"
CLIENT_TIMEOUT_S = 60


@dataclass(frozen=True)
class Reports:
    """What a library puts on its spans, as observed (docs/conventions/captured.md)."""

    source: str
    response_id: bool  # gen_ai.response.id, the row's request_id
    native_tool_finish: str  # the tool-call finish reason as the library writes it
    lists_tool_calls: bool  # the individual calls (output messages), so they can be counted
    stream_reasoning: bool  # reasoning tokens on the streamed call
    ttft: bool  # gen_ai.response.time_to_first_chunk on the streamed call
    content: bool  # prompts and completions on the span (the canary must still not be stored)


OFFICIAL = Reports(
    source="otlp:genai",
    response_id=True,
    native_tool_finish="tool_calls",
    lists_tool_calls=False,
    stream_reasoning=True,
    ttft=True,
    content=False,
)
LIBRARIES = {
    "otel-genai-openai": OFFICIAL,
    # Content capture puts the calls on the span (gen_ai.output.messages).
    "otel-genai-openai-experimental": replace(OFFICIAL, lists_tool_calls=True, content=True),
    "openinference-openai": Reports(
        source="otlp:openinference",
        response_id=False,
        native_tool_finish="tool_calls",
        lists_tool_calls=True,
        stream_reasoning=True,
        ttft=False,
        content=True,
    ),
    "openllmetry-openai": Reports(
        source="otlp:openllmetry",
        response_id=True,
        native_tool_finish="tool_call",
        lists_tool_calls=True,
        stream_reasoning=False,
        ttft=False,
        content=True,
    ),
}
LOG_EVENTS = {"otel-genai-openai-experimental": len(SCENARIOS)}  # operation.details events


@dataclass(frozen=True)
class CapturedSpan:
    trace_id: str
    span_id: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]


def _scalar(value: dict[str, Any]) -> Any:
    for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if kind in value:
            return value[kind]
    return None


def captured_spans(path: Path) -> list[CapturedSpan]:
    document = json.loads(path.read_text())
    spans = [
        CapturedSpan(
            span["traceId"],
            span["spanId"],
            int(span["startTimeUnixNano"]),
            int(span["endTimeUnixNano"]),
            {a["key"]: _scalar(a["value"]) for a in span.get("attributes", [])},
        )
        for resource in document["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    return sorted(spans, key=lambda s: s.start_ns)


def expected_rows(library: str, spans: list[CapturedSpan]) -> list[dict[str, Any]]:
    """The rows SPEC §4 asks for, in call order (the calls are sequential)."""
    reports = LIBRARIES[library]
    assert len(spans) == len(SCENARIOS)
    rows = []
    for scenario, span in zip(SCENARIOS, spans, strict=True):
        failed = scenario == "rate_limit"
        usage = USAGE.get(scenario)
        has_id = reports.response_id and not failed
        row: dict[str, Any] = {
            "request_id": response_id(library, scenario)
            if has_id
            else f"{span.trace_id}:{span.span_id}",
            "trace_id": span.trace_id,
            "span_id": span.span_id,
            "parent_span_id": None,
            "started_us": span.start_ns // 1000,
            "duration_ms": pytest.approx((span.end_ns - span.start_ns) / 1e6),
            "ttft_ms": None,
            "provider": "openai",
            "provider_raw": "openai",
            "model": "openai/gpt-5-mini",
            # The response model when there was a response, else the requested one.
            "model_raw": REQUEST_MODEL if failed else RESPONSE_MODEL,
            "finish_reason": "error" if failed else "stop",
            "native_finish_reason": None if failed else "stop",
            "input_tokens": usage and usage["prompt"],
            "output_tokens": usage and usage["completion"],
            "reasoning_tokens": usage and usage["reasoning"],
            "cached_input_tokens": usage and usage["cached"],
            "cache_write_tokens": None,  # OpenAI reports no cache writes
            "tool_calls": 0,
            "status": "error" if failed else "ok",
            "error_type": "rate_limit" if failed else None,
            # No library records the HTTP status of the failed call, only the exception.
            "http_status": None,
            "app": service_name(library),
            "user_id": None,
            "session_id": None,
            "source": reports.source,
        }
        if scenario == "tools":
            row["finish_reason"] = "tool_calls"
            row["native_finish_reason"] = reports.native_tool_finish
            row["tool_calls"] = len(TOOL_CALL_CITIES) if reports.lists_tool_calls else None
        if scenario == "stream":
            if not reports.stream_reasoning:
                row["reasoning_tokens"] = None  # not reported: NULL, never 0
            if reports.ttft:
                ttft_s = span.attributes["gen_ai.response.time_to_first_chunk"]
                row["ttft_ms"] = pytest.approx(ttft_s * 1000)
            else:
                del row["ttft_ms"]  # no attribute; a first-chunk event is the mapper's call
        rows.append(row)
    return rows


def stored_rows(db: Path, library: str) -> tuple[list[dict[str, Any]], str]:
    """The library's rows in call order, and the whole answer as text."""
    query = (
        "SELECT *, epoch_us(started_at) AS started_us FROM requests "
        f"WHERE app = '{service_name(library)}' ORDER BY started_at"
    )
    out = run_cli("sql", query, "--format", "json", db=db).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()], out


def assert_rows(db: Path, library: str, spans: list[CapturedSpan]) -> None:
    expected = expected_rows(library, spans)
    stored, text = stored_rows(db, library)
    assert len(stored) == len(expected), f"stored rows: {stored}"
    # Every differing cell at once: (call, column, stored, expected).
    mismatches = [
        (scenario, column, got[column], value)
        for scenario, want, got in zip(SCENARIOS, expected, stored, strict=True)
        for column, value in want.items()
        if got[column] != value
    ]
    assert not mismatches, "\n".join(map(repr, mismatches))
    # Prompts, completions and tool arguments are captured by most libraries; none is stored.
    assert CANARY not in text
    assert not any(city in text for city in TOOL_CALL_CITIES)


# --- live: the library, the SDK exporter and serve --------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    served = start_serve(tmp_path_factory.mktemp("instrumentations") / "gatewatch.duckdb")
    yield served
    served.stop()


def run_instrumented(library: str, endpoint: str, capture: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.integration.instrumented_client", library]
        + ["--endpoint", endpoint, "--capture", str(capture)],
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT_S,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_live_rows_are_canonical(library: str, served: Served, tmp_path: Path) -> None:
    summary = run_instrumented(library, served.ingest_url, tmp_path)
    assert summary["outcomes"] == {
        "plain": "stop",
        "tools": "tool_calls",
        "rate_limit": "RateLimitError 429",
        "stream": "stop",
    }
    assert (summary["spans"], summary["logs"]) == (len(SCENARIOS), LOG_EVENTS.get(library, 0))
    capture = tmp_path / f"{library}.json"
    assert (CANARY in capture.read_text()) == LIBRARIES[library].content
    assert_rows(served.db, library, captured_spans(capture))


# --- offline: the committed captures -----------------------------------------------------------


@pytest.fixture(scope="module")
def captured_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("captured") / "gatewatch.duckdb"
    # The span exports and the GenAI events logged beside them: the events complete their
    # span's row and must never add one.
    run_cli("ingest", str(CAPTURED), db=db)
    return db


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_captured_rows_are_canonical(library: str, captured_db: Path) -> None:
    assert_rows(captured_db, library, captured_spans(CAPTURED / f"{library}.json"))
