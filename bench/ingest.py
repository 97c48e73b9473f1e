"""Ingest benchmark: sustained OTLP spans/s stored by a real `gatewatch serve`.

Pre-encodes OTLP protobuf export requests of GenAI chat spans with the OTel SDK's own
encoder (`bench.genai_batches`), starts a fresh `gatewatch serve` per run, posts the
batches over keep-alive connections from a few sender threads and counts the spans
acknowledged (HTTP 200, which the server sends only after COMMIT) in the measured window.
After each run the server's `stored_rows` must equal the acknowledged spans. Then, in
process and without HTTP, it times decode, mapping, Arrow and the writer commit over the
same bodies to show where the time goes.

    ./dev bench                                    # 3 runs of 20 s, defaults below
    .venv/bin/python bench/ingest.py --runs 1 --seconds 5
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as `python bench/ingest.py`, this file's directory comes first on sys.path and this
# module would shadow the `ingest` package; import from the repository root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: E402
    ExportTraceServiceResponse,
)

from bench.genai_batches import genai_batch  # noqa: E402
from bench.ingest_breakdown import breakdown, print_breakdown  # noqa: E402

TRACES_PATH = "/v1/traces"
HEADERS = {"Content-Type": "application/x-protobuf"}


# --- pre-encoded batches ----------------------------------------------------------------


def _encode(args: tuple[int, int, int]) -> bytes:
    size, batch_number, seed = args
    body, _ids = genai_batch(size, batch_number=batch_number, seed=seed)
    return body


def encode_pool(count: int, size: int, seed: int) -> tuple[list[bytes], float]:
    """`count` distinct export requests (every span has a new response id); all cores."""
    started = time.perf_counter()
    jobs = [(size, n, seed) for n in range(count)]
    workers = max(1, min(os.cpu_count() or 1, count))
    if workers == 1:
        bodies = [_encode(job) for job in jobs]
    else:
        pool = ProcessPoolExecutor(workers)
        try:
            bodies = list(pool.map(_encode, jobs, chunksize=8))
        finally:
            pool.shutdown(cancel_futures=True)  # on Ctrl-C, drop the batches not started
    return bodies, time.perf_counter() - started


# --- the server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict:
        answer = httpx.get(f"{self.url}/healthz", timeout=10)
        answer.raise_for_status()
        return answer.json()

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server process (all threads), from /proc; None elsewhere."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                print("  serve did not stop within 60 s of SIGINT; killing it", file=sys.stderr)
                self.process.kill()
                self.process.wait()


def start_server(workdir: Path, timeout: float = 120.0) -> Server:
    ingest_port, dashboard_port = free_port(), free_port()
    log_path = workdir / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gatewatch.cli",
                "--db",
                str(workdir / "bench.duckdb"),
                "serve",
                "--host",
                "127.0.0.1",
                "--ingest-port",
                str(ingest_port),
                "--grpc-port",
                "0",  # the bench measures OTLP/HTTP; leave 4317 to others
                "--dashboard-port",
                str(dashboard_port),
                "--jobs-every",
                "1h",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # Ctrl-C reaches only the bench, which stops serve itself
        )
    server = Server(process, ingest_port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}:\n{server.log_tail()}")
        try:
            server.health()
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"serve was not healthy within {timeout:.0f} s:\n{server.log_tail()}")


# --- the load ---------------------------------------------------------------------------


@dataclass
class Ack:
    done: float  # perf_counter when the answer arrived
    latency: float  # seconds from sending the request to the complete answer
    spans: int  # spans stored (batch size minus partial-success rejections)


@dataclass
class Load:
    bodies: list[bytes]
    batch_size: int
    port: int
    stop_at: float  # no new request is sent after this perf_counter time
    next_index: int = 0
    acks: list[Ack] = field(default_factory=list)
    rejected_503: int = 0
    errors: list[str] = field(default_factory=list)
    exhausted_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bytes | None:
        with self.lock:
            if self.next_index >= len(self.bodies):
                if self.exhausted_at is None:
                    self.exhausted_at = time.perf_counter()
                return None
            body = self.bodies[self.next_index]
            self.next_index += 1
            return body

    def sender(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            body: bytes | None = None
            while time.perf_counter() < self.stop_at:
                # A batch answered 503 was not stored, so it is sent again like an exporter would.
                if body is None and (body := self.take()) is None:
                    return
                started = time.perf_counter()
                try:
                    conn.request("POST", TRACES_PATH, body, HEADERS)
                    answer = conn.getresponse()
                    payload = answer.read()
                except (OSError, http.client.HTTPException) as e:
                    with self.lock:
                        self.errors.append(f"{type(e).__name__}: {e}")
                    conn.close()  # reconnects on the next request; the batch is dropped
                    body = None
                    continue
                done = time.perf_counter()
                if answer.status == 200:
                    rejected = ExportTraceServiceResponse.FromString(
                        payload
                    ).partial_success.rejected_spans
                    with self.lock:
                        self.acks.append(Ack(done, done - started, self.batch_size - rejected))
                    body = None
                elif answer.status == 503:
                    with self.lock:
                        self.rejected_503 += 1
                    retry_after = _seconds(answer.getheader("Retry-After"), default=1.0)
                    time.sleep(max(0.0, min(retry_after, self.stop_at - time.perf_counter())))
                else:
                    with self.lock:
                        self.errors.append(f"HTTP {answer.status}: {payload[:200]!r}")
                    body = None
        finally:
            conn.close()


def _seconds(header: str | None, *, default: float) -> float:
    """Retry-After in seconds (an HTTP-date form falls back to `default`)."""
    try:
        return max(0.0, float(header)) if header else default
    except ValueError:
        return default


@dataclass
class RunResult:
    spans_per_second: float
    window_spans: int
    p50_ms: float
    p99_ms: float
    rejected_503: int
    acknowledged: int
    stored: int
    errors: list[str]
    window_seconds: float
    server_cores: float | None
    client_cores: float
    exhausted: bool

    @property
    def ok(self) -> bool:
        return self.stored == self.acknowledged and not self.errors and not self.exhausted


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def run_once(bodies: list[bytes], args: argparse.Namespace) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="gatewatch-bench-") as tmp:
        server = start_server(Path(tmp))
        try:
            return _load(server, bodies, args)
        except Exception:
            print(f"  server log:\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            server.stop()


def _load(server: Server, bodies: list[bytes], args: argparse.Namespace) -> RunResult:
    begin = time.perf_counter()
    window_start = begin + args.warmup
    window_end = window_start + args.seconds
    load = Load(bodies, args.batch_size, server.port, stop_at=window_end)
    threads = [
        threading.Thread(target=load.sender, name=f"sender-{i}", daemon=True)
        for i in range(args.concurrency)
    ]
    for t in threads:
        t.start()
    time.sleep(max(0.0, window_start - time.perf_counter()))
    server_cpu0, client_cpu0 = server.cpu_seconds(), time.process_time()
    while time.perf_counter() < window_end and any(t.is_alive() for t in threads):
        time.sleep(min(0.1, max(0.0, window_end - time.perf_counter())))
    server_cpu1, client_cpu1 = server.cpu_seconds(), time.process_time()
    cpu_seconds = max(time.perf_counter() - window_start, 1e-9)
    for t in threads:
        t.join()

    # If the pool ran out, the window ends there: the rate is over the time actually loaded.
    end = min(window_end, load.exhausted_at or window_end)
    window_seconds = end - window_start
    in_window = [a for a in load.acks if window_start <= a.done <= end]
    latencies_ms = [a.latency * 1000 for a in in_window]
    window_spans = sum(a.spans for a in in_window)
    health = server.health()
    server_cores = None
    if server_cpu0 is not None and server_cpu1 is not None:
        server_cores = (server_cpu1 - server_cpu0) / cpu_seconds
    return RunResult(
        spans_per_second=window_spans / window_seconds if window_seconds > 0 else math.nan,
        window_spans=window_spans,
        p50_ms=percentile(latencies_ms, 50),
        p99_ms=percentile(latencies_ms, 99),
        rejected_503=load.rejected_503,
        acknowledged=sum(a.spans for a in load.acks),
        stored=int(health.get("stored_rows", -1)),
        errors=load.errors,
        window_seconds=window_seconds,
        server_cores=server_cores,
        client_cores=(client_cpu1 - client_cpu0) / cpu_seconds,
        exhausted=load.exhausted_at is not None and load.exhausted_at < window_end,
    )


def print_run(n: int, runs: int, r: RunResult) -> None:
    check = "=" if r.stored == r.acknowledged else "!="
    cpu = f"server {r.server_cores:.2f} cores, " if r.server_cores is not None else ""
    print(
        f"run {n}/{runs}: {r.spans_per_second:,.0f} spans/s acknowledged "
        f"({r.window_spans:,} spans in {r.window_seconds:.1f} s)  "
        f"ack latency p50 {r.p50_ms:.1f} ms  p99 {r.p99_ms:.1f} ms  503s {r.rejected_503}"
    )
    print(
        f"         stored_rows {r.stored:,} {check} acknowledged {r.acknowledged:,}  "
        f"(CPU in window: {cpu}bench client {r.client_cores:.2f} cores)"
    )
    if r.exhausted:
        print(
            "         WARNING: the pre-encoded batches ran out before the window ended; "
            f"the run is shorter than asked. Raise --max-rate above {r.spans_per_second:,.0f}.",
        )
    for error in r.errors[:5]:
        print(f"         error: {error}")
    if len(r.errors) > 5:
        print(f"         ... {len(r.errors) - 5} more errors")
    if r.stored != r.acknowledged:
        print("         MISMATCH: stored rows differ from acknowledged spans")


# --- main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Sustained OTLP ingest throughput of a real gatewatch serve.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--runs", type=int, default=3, help="runs, each against a fresh serve")
    p.add_argument("--seconds", type=float, default=20.0, help="measured window per run")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured load before the window")
    p.add_argument("--batch-size", type=int, default=512, help="spans per export request")
    p.add_argument("--concurrency", type=int, default=4, help="sender threads (connections)")
    p.add_argument(
        "--max-rate",
        type=float,
        default=30_000.0,
        help="spans/s the pre-encoded batches must cover for warmup + window "
        "(the pool is sized from it; a run that exhausts it says so)",
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the generated spans")
    p.add_argument(
        "--breakdown-batches", type=int, default=20, help="batches timed in the breakdown"
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--no-breakdown", action="store_true", help="skip the stage breakdown")
    mode.add_argument("--breakdown", action="store_true", help="only the stage breakdown")
    args = p.parse_args(argv)
    for name in ("runs", "batch_size", "concurrency", "breakdown_batches"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.seconds <= 0 or args.warmup < 0 or args.max_rate <= 0:
        p.error("--seconds and --max-rate must be positive, --warmup not negative")
    return args


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C: the running serve is stopped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    if args.breakdown:
        count = args.breakdown_batches + 1
    else:
        # Every run gets a fresh database, so the same pool serves every run; within a run
        # no batch is sent twice. One batch per sender more covers the requests in flight.
        needed = args.max_rate * (args.warmup + args.seconds) / args.batch_size
        count = max(math.ceil(needed) + args.concurrency, args.breakdown_batches + 1)
    print(f"encoding {count:,} batches x {args.batch_size} spans with the OTel SDK encoder ...")
    bodies, seconds = encode_pool(count, args.batch_size, args.seed)
    mb = sum(map(len, bodies)) / 1e6
    covers = (
        ""
        if args.breakdown
        else f", covers {args.max_rate:,.0f} spans/s for {args.warmup:g} + {args.seconds:g} s"
    )
    print(
        f"  {seconds:.1f} s on {min(os.cpu_count() or 1, count)} processes, {mb:,.0f} MB "
        f"({mb * 1e6 / count / args.batch_size:,.0f} bytes/span){covers}"
    )

    healthy = True
    if not args.breakdown:
        print(
            f"\n{args.runs} run(s): {args.concurrency} keep-alive senders, "
            f"{args.warmup:g} s warmup + {args.seconds:g} s measured, fresh serve each\n"
        )
        results: list[RunResult] = []
        for n in range(1, args.runs + 1):
            result = run_once(bodies, args)
            print_run(n, args.runs, result)
            results.append(result)
        healthy = all(r.ok for r in results)
        rates = [r.spans_per_second for r in results]
        print(
            f"\nmedian of {len(results)} run(s): {statistics.median(rates):,.0f} spans/s stored, "
            f"p99 ack latency {statistics.median(r.p99_ms for r in results):.1f} ms  "
            f"(runs: {', '.join(f'{x:,.0f}' for x in rates)} spans/s; "
            f"503s {sum(r.rejected_503 for r in results)})"
        )
        if not healthy:
            print("WARNING: at least one run had errors, a row-count mismatch or ran short")

    if not args.no_breakdown:
        batches = min(args.breakdown_batches, len(bodies) - 1)
        print_breakdown(breakdown(bodies, batches), batches, args.batch_size)
    return 0 if healthy else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
