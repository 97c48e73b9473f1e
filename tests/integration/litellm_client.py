"""A LiteLLM application, run in its own process, that reports its calls to gatewatch.

`python -m tests.integration.litellm_client MODE --endpoint URL`

MODE `otel`: LiteLLM's own OpenTelemetry callback (its `litellm_request` spans) exports over
OTLP/HTTP through the OTel SDK to URL/v1/traces. MODE `payload`: a LiteLLM custom logger
collects each call's standard logging payload and posts them as JSON Lines to
URL/v1/requests. The calls use LiteLLM's mock responses (no provider is contacted): a plain
answer, an answer with tool calls and a rate-limited call. Prints a one-line JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

# The tests import the constants below; litellm itself (slow to import) only runs in main().

SERVICE = "gatewatch-test-litellm"
CALLBACK_WAIT_S = 30
MODEL = "gpt-4o-mini"
CANARY = "CANARY-7f3a"
TOOL_CALLS = [
    {
        "id": f"call_{n}",
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
    }
    for n, city in enumerate(("Oslo", "Lima"))
]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
# (name, completion keyword arguments)
CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("plain", {"mock_response": f"hello {CANARY}"}),
    ("tools", {"mock_response": "", "mock_tool_calls": TOOL_CALLS, "tools": [WEATHER_TOOL]}),
    ("rate_limit", {"mock_response": "litellm.RateLimitError"}),
)


def make_calls(litellm: Any) -> dict[str, str]:
    outcomes = {}
    for name, extra in CALLS:
        try:
            litellm.completion(model=MODEL, messages=[{"role": "user", "content": CANARY}], **extra)
            outcomes[name] = "ok"
        except litellm.RateLimitError:
            outcomes[name] = "RateLimitError"
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["otel", "payload"])
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch of the price list
    import httpx
    import litellm
    from litellm.integrations.custom_logger import CustomLogger
    from litellm.integrations.opentelemetry import OpenTelemetry, OpenTelemetryConfig
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    class PayloadCollector(CustomLogger):
        def __init__(self) -> None:
            super().__init__()
            self.payloads: list[dict[str, Any]] = []

        def log_success_event(self, kwargs, response_obj, start_time, end_time):  # type: ignore[no-untyped-def]
            self.payloads.append(kwargs["standard_logging_object"])

        def log_failure_event(self, kwargs, response_obj, start_time, end_time):  # type: ignore[no-untyped-def]
            self.payloads.append(kwargs["standard_logging_object"])

    collector = PayloadCollector()
    # LiteLLM runs its logging callbacks on a background thread after a call returns, one
    # after the other: once the collector (last) has every payload, the callbacks before
    # it have run too.
    litellm.callbacks = [collector]
    if args.mode == "otel":
        exporter = OTLPSpanExporter(endpoint=f"{args.endpoint}/v1/traces")
        config = OpenTelemetryConfig(exporter=exporter, service_name=SERVICE)
        litellm.callbacks.insert(0, OpenTelemetry(config=config))
    outcomes = make_calls(litellm)
    deadline = time.monotonic() + CALLBACK_WAIT_S
    while len(collector.payloads) < len(CALLS) and time.monotonic() < deadline:
        time.sleep(0.05)
    if args.mode == "otel":
        trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]
    else:
        body = "\n".join(json.dumps(p, default=str) for p in collector.payloads)
        answer = httpx.post(f"{args.endpoint}/v1/requests", content=body, timeout=30)
        answer.raise_for_status()
    print(json.dumps({"outcomes": outcomes, "payloads": len(collector.payloads)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
