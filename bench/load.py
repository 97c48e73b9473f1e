"""The load: sender threads posting pre-encoded bodies over HTTP or gRPC, back to back or paced
at a fixed rate, with what came back.

Closed loop (no rate): each sender sends its next body as soon as the last one is answered.
Paced: body k is due at `begin + k * interval` whichever sender takes it, so a slow server
does not slow the offered load down, and each ack latency is counted from the time its body
was due, not from when a busy sender got round to it (no coordinated omission).
A refusal to be retried (HTTP 503 + Retry-After, gRPC UNAVAILABLE + RetryInfo) was never
queued by the server; the body is due again after the delay, as an exporter would resend it.
"""

from __future__ import annotations

import heapq
import http.client
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import grpc
import orjson
from google.rpc.error_details_pb2 import RetryInfo
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from bench.bodies import GRPC, OTLP_JSON, PROTOBUF, REQUESTS

TIMEOUT = 120.0  # seconds for one answer; bounds a run's tail when the server hangs
GRPC_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
RETRY_INFO_KEY = "google.rpc.retryinfo-bin"
HTTP_ROUTES = {
    PROTOBUF: ("/v1/traces", "application/x-protobuf"),
    OTLP_JSON: ("/v1/traces", "application/json"),
    REQUESTS: ("/v1/requests", "application/x-ndjson"),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    stored: int = 0  # rows the answer says were stored
    retry_after: float | None = None  # set when refused for now (503 / UNAVAILABLE)
    error: str | None = None


class Client(Protocol):
    def send(self, body: bytes) -> Outcome: ...
    def close(self) -> None: ...


class HttpClient:
    """One keep-alive connection to an ingest route."""

    def __init__(self, port: int, wire: str, batch_size: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        self.path, content_type = HTTP_ROUTES[wire]
        self.headers = {"Content-Type": content_type}
        self.wire = wire
        self.batch_size = batch_size

    def send(self, body: bytes) -> Outcome:
        try:
            self.conn.request("POST", self.path, body, self.headers)
            answer = self.conn.getresponse()
            payload = answer.read()
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()  # reconnects on the next request; the body is dropped
            return Outcome(error=f"{type(e).__name__}: {e}")
        if answer.status == 503:
            return Outcome(retry_after=_seconds(answer.getheader("Retry-After"), default=1.0))
        if answer.status != 200:
            return Outcome(error=f"HTTP {answer.status}: {payload[:200]!r}")
        return Outcome(stored=self._stored(payload))

    def _stored(self, payload: bytes) -> int:
        if self.wire == PROTOBUF:
            rejected = ExportTraceServiceResponse.FromString(payload).partial_success
            return self.batch_size - rejected.rejected_spans
        answer = orjson.loads(payload) if payload else {}
        if self.wire == REQUESTS:
            return int(answer["accepted"])
        return self.batch_size - int(answer.get("partialSuccess", {}).get("rejectedSpans", 0))

    def close(self) -> None:
        self.conn.close()


class GrpcClient:
    """One channel, raw protobuf bytes in, as an OTLP/gRPC exporter sends them."""

    def __init__(self, port: int, batch_size: int) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.export = self.channel.unary_unary(
            GRPC_EXPORT, response_deserializer=ExportTraceServiceResponse.FromString
        )
        self.batch_size = batch_size

    def send(self, body: bytes) -> Outcome:
        try:
            answer = self.export(body, timeout=TIMEOUT)
        except grpc.RpcError as e:
            code, details = e.code(), e.details()  # type: ignore[attr-defined]
            trailers = dict(e.trailing_metadata() or ())  # type: ignore[attr-defined]
            if code == grpc.StatusCode.UNAVAILABLE and RETRY_INFO_KEY in trailers:
                delay = RetryInfo.FromString(trailers[RETRY_INFO_KEY]).retry_delay
                return Outcome(retry_after=delay.seconds + delay.nanos / 1e9)
            return Outcome(error=f"gRPC {code.name}: {details}")
        return Outcome(stored=self.batch_size - answer.partial_success.rejected_spans)

    def close(self) -> None:
        self.channel.close()


def connector(wire: str, port: int, grpc_port: int, batch_size: int) -> Callable[[], Client]:
    if wire == GRPC:
        return lambda: GrpcClient(grpc_port, batch_size)
    return lambda: HttpClient(port, wire, batch_size)


def _seconds(header: str | None, *, default: float) -> float:
    """Retry-After in seconds (an HTTP-date form falls back to `default`)."""
    try:
        return max(0.0, float(header)) if header else default
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class Ack:
    done: float  # perf_counter when the answer arrived
    latency: float  # seconds from when the body was due to the complete answer
    spans: int  # rows stored (batch size minus partial-success rejections)


@dataclass
class Load:
    bodies: list[bytes]
    connect: Callable[[], Client]
    begin: float  # perf_counter when the first body is due
    stop_at: float  # no body is sent after this perf_counter time
    interval: float | None  # seconds between due times when paced; None = closed loop
    next_index: int = 0
    retries: list[tuple[float, int]] = field(default_factory=list)  # heap of (due, body index)
    sends: list[float] = field(default_factory=list)  # perf_counter of every attempt
    acks: list[Ack] = field(default_factory=list)
    refused: int = 0  # 503s / UNAVAILABLEs
    errors: list[str] = field(default_factory=list)
    exhausted_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> tuple[float, int] | None:
        """The next body to send and when it is due; None once nothing is due before the end."""
        with self.lock:
            now = time.perf_counter()
            fresh = self.next_index < len(self.bodies)
            fresh_due = (
                now if self.interval is None else self.begin + self.next_index * self.interval
            )
            if self.retries and (not fresh or self.retries[0][0] <= fresh_due):
                due, index = heapq.heappop(self.retries)
            elif fresh:
                due, index = fresh_due, self.next_index
                self.next_index += 1
            else:
                if self.exhausted_at is None:
                    self.exhausted_at = now
                return None
            # A paced backlog still due from before the end is dropped too: nothing is sent late.
            return (due, index) if max(due, now) < self.stop_at else None

    def sender(self) -> None:
        client = self.connect()
        try:
            while (job := self.take()) is not None:
                due, index = job
                time.sleep(max(0.0, due - time.perf_counter()))
                sent = time.perf_counter()
                outcome = client.send(self.bodies[index])
                done = time.perf_counter()
                with self.lock:
                    self.sends.append(sent)
                    if outcome.error is not None:
                        self.errors.append(outcome.error)
                    elif outcome.retry_after is not None:
                        self.refused += 1
                        heapq.heappush(self.retries, (done + outcome.retry_after, index))
                    else:
                        self.acks.append(Ack(done, done - due, outcome.stored))
                if outcome.retry_after is not None and self.interval is None:
                    # Closed loop: this sender waits out the delay, like a blocked exporter.
                    time.sleep(max(0.0, min(outcome.retry_after, self.stop_at - done)))
        finally:
            client.close()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]
