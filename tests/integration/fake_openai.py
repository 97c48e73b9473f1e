"""A local OpenAI-compatible chat.completions endpoint with canned answers.

The first path segment names the run (it prefixes the response ids, so runs sharing one
warehouse never collide); the second picks the scenario:
`POST /{run}/{scenario}/chat/completions`, scenario one of SCENARIOS. Texts carry CANARY so a
test can prove that no prompt or completion content reaches the warehouse.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CANARY = "gatewatch-canary-7f3a"
REQUEST_MODEL = "gpt-5-mini"
RESPONSE_MODEL = "gpt-5-mini-2025-08-07"
CREATED = 1_790_000_000

# What the fake answers, per scenario: the truth the warehouse rows are checked against.
USAGE = {
    "plain": {"prompt": 120, "completion": 48, "reasoning": 16, "cached": 64},
    "tools": {"prompt": 210, "completion": 42, "reasoning": 24, "cached": 32},
    "stream": {"prompt": 90, "completion": 30, "reasoning": 8, "cached": 16},
}
TOOL_CALL_CITIES = ("Paris", "Oslo")
SCENARIOS = ("plain", "tools", "rate_limit", "stream")


def _usage(scenario: str) -> dict[str, Any]:
    u = USAGE[scenario]
    return {
        "prompt_tokens": u["prompt"],
        "completion_tokens": u["completion"],
        "total_tokens": u["prompt"] + u["completion"],
        "prompt_tokens_details": {"cached_tokens": u["cached"], "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": u["reasoning"],
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def response_id(run: str, scenario: str) -> str:
    return f"chatcmpl-{run}-{scenario}"


def _completion(run: str, scenario: str, message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {
        "id": response_id(run, scenario),
        "object": "chat.completion",
        "created": CREATED,
        "model": RESPONSE_MODEL,
        "system_fingerprint": "fp_gatewatch",
        "service_tier": "default",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": _usage(scenario),
    }


def plain_answer(run: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": f"{CANARY} answer", "refusal": None}
    return _completion(run, "plain", message, "stop")


def tool_call_answer(run: str) -> dict[str, Any]:
    calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
        }
        for i, city in enumerate(TOOL_CALL_CITIES)
    ]
    message = {"role": "assistant", "content": None, "tool_calls": calls, "refusal": None}
    return _completion(run, "tools", message, "tool_calls")


RATE_LIMIT_ERROR = {
    "error": {
        "message": "Rate limit reached for gpt-5-mini on requests per min (RPM).",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}


def stream_chunks(run: str) -> list[dict[str, Any]]:
    """Chunks as the API streams them with `stream_options.include_usage`: role, two content
    deltas, the finish reason, then a usage-only chunk with no choices."""
    base = {
        "id": response_id(run, "stream"),
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": RESPONSE_MODEL,
        "system_fingerprint": "fp_gatewatch",
    }
    deltas: list[tuple[dict[str, Any], str | None]] = [
        ({"role": "assistant", "content": ""}, None),
        ({"content": CANARY}, None),
        ({"content": " streamed"}, None),
        ({}, "stop"),
    ]
    chunks = [
        base | {"choices": [{"index": 0, "delta": d, "finish_reason": f}], "usage": None}
        for d, f in deltas
    ]
    chunks.append(base | {"choices": [], "usage": _usage("stream")})
    return chunks


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path.strip("/").split("/")
        if len(parts) != 4 or parts[2:] != ["chat", "completions"] or parts[1] not in SCENARIOS:
            self._json(404, {"error": {"message": f"no route {self.path}", "code": None}})
            return
        run, scenario = parts[0], parts[1]
        if scenario == "plain":
            self._json(200, plain_answer(run))
        elif scenario == "tools":
            self._json(200, tool_call_answer(run))
        elif scenario == "rate_limit":
            self._json(429, RATE_LIMIT_ERROR, {"Retry-After": "1"})
        else:
            self._stream(stream_chunks(run))

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, chunks: list[dict[str, Any]]) -> None:
        # HTTP/1.0: the body ends when the connection closes.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep output quiet
        pass


@contextmanager
def fake_openai() -> Iterator[str]:
    """Serve on 127.0.0.1 on a free port; yields the base URL, stops on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    # A short poll interval: shutdown() waits up to one interval.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
