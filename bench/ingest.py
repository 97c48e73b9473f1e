"""Ingest benchmark: sustained GenAI spans/s stored by a real `gatewatch serve`.

Pre-encodes request bodies (`bench.bodies`: OTLP protobuf by default, or OTLP JSON, OTLP/gRPC,
`/v1/requests` JSON Lines), starts a fresh `gatewatch serve` per run and sends them from
sender threads, back to back or paced at `--rate`. It reports the spans acknowledged (the
server answers only after COMMIT) per second in the measured window, the ack latency, the
server process tree's CPU per stored span and its peak RSS, and checks that the server's
`stored_rows` equals the spans acknowledged. Then it splits the CPU per stage (decode,
mapping, Arrow, commit): from the server's /metrics if it publishes stage timings, else
timed in a separate process without HTTP (`bench.ingest_breakdown`).

    ./dev bench                                        # 3 runs of 20 s, protobuf, closed loop
    .venv/bin/python bench/ingest.py --runs 1 --seconds 5
    .venv/bin/python bench/ingest.py --rate 25000      # paced: p50/p99 ack at a fixed rate
    .venv/bin/python bench/ingest.py --overload 2      # then paced at 2x the rate measured
    .venv/bin/python bench/ingest.py --wire protobuf,otlp-json,grpc,requests
    .venv/bin/python bench/ingest.py --compare HEAD~3 HEAD
"""

from __future__ import annotations

import argparse
import math
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as `python bench/ingest.py`, this file's directory comes first on sys.path and this
# module would shadow the `ingest` package; import from the repository root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench import proc  # noqa: E402
from bench.bodies import PROTOBUF, WIRES, encode_pool, pool_of  # noqa: E402
from bench.compare import source_trees  # noqa: E402
from bench.ingest_breakdown import breakdown_in, print_breakdown  # noqa: E402
from bench.load import Load, connector, percentile  # noqa: E402
from bench.report import Result, median, print_run, print_stages, print_summary  # noqa: E402
from bench.server import Server, start_server  # noqa: E402

PACED_CONCURRENCY = 32  # paced senders: enough to keep the schedule while answers are slow
SAMPLE_SECONDS = 0.1  # how often the server's RSS is read


@dataclass(frozen=True)
class Reading:
    at: float  # perf_counter
    server_cpu: float | None  # seconds, the server's process tree
    client_cpu: float  # seconds, this process
    stages: dict[str, float]  # seconds per stage from the server's /metrics, if published


def reading(server: Server) -> Reading:
    return Reading(
        time.perf_counter(), server.cpu_seconds(), time.process_time(), server.stage_seconds()
    )


@dataclass(frozen=True)
class Variant:
    side: str  # "" or, when comparing, "A 1a2b3c4" / "B ."
    source: Path  # source tree the server runs
    wire: str

    @property
    def label(self) -> str:
        return f"{self.side} {self.wire}".strip()


def run_once(
    variant: Variant, bodies: list[bytes], args: argparse.Namespace, rate: float | None
) -> Result:
    with tempfile.TemporaryDirectory(prefix="gatewatch-bench-") as tmp:
        server = start_server(variant.source, Path(tmp), grpc=variant.wire == "grpc")
        try:
            return _load(server, variant, bodies, args, rate)
        except Exception:
            print(f"  server log:\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            server.stop()


def _load(
    server: Server,
    variant: Variant,
    bodies: list[bytes],
    args: argparse.Namespace,
    rate: float | None,
) -> Result:
    load_start = proc.load_average()
    begin = time.perf_counter()
    window_start = begin + args.warmup
    window_end = window_start + args.seconds
    load = Load(
        bodies,
        connector(variant.wire, server.port, server.grpc_port, args.batch_size),
        begin=begin,
        stop_at=window_end,
        interval=args.batch_size / rate if rate else None,
    )
    concurrency = args.concurrency or (PACED_CONCURRENCY if rate else 4)
    threads = [
        threading.Thread(target=load.sender, name=f"sender-{i}", daemon=True)
        for i in range(concurrency)
    ]
    for t in threads:
        t.start()
    peak_rss = 0
    start: Reading | None = None
    stop: Reading | None = None
    # Senders stop by themselves at window_end (plus answers in flight, each bounded by
    # bench.load.TIMEOUT); this loop samples RSS meanwhile and reads CPU at the window's edges.
    while any(t.is_alive() for t in threads):
        now = time.perf_counter()
        if start is None and now >= window_start:
            start = reading(server)
        if stop is None and now >= window_end:
            stop = reading(server)
        peak_rss = max(peak_rss, server.memory_bytes())
        edge = window_start if start is None else window_end if stop is None else math.inf
        time.sleep(min(SAMPLE_SECONDS, max(0.0, edge - time.perf_counter())))
    for t in threads:
        t.join()
    start = start or reading(server)
    stop = stop or reading(server)
    peak_rss = max(peak_rss, server.memory_bytes(), server.peak_rss_bytes())
    health = server.settled_health()

    # If the pool ran out, the window ends there: the rate is over the time actually loaded.
    end = min(window_end, load.exhausted_at or window_end)
    window_seconds = end - window_start
    in_window = [a for a in load.acks if window_start <= a.done <= end]
    window_spans = sum(a.spans for a in in_window)
    latencies_ms = [a.latency * 1000 for a in in_window]
    elapsed = max(stop.at - start.at, 1e-9)
    server_cpu = (
        stop.server_cpu - start.server_cpu
        if stop.server_cpu is not None and start.server_cpu is not None
        else None
    )
    return Result(
        spans_per_second=window_spans / window_seconds if window_seconds > 0 else math.nan,
        offered_per_second=sum(window_start <= s <= end for s in load.sends)
        * args.batch_size
        / max(window_seconds, 1e-9),
        window_spans=window_spans,
        window_seconds=window_seconds,
        p50_ms=percentile(latencies_ms, 50),
        p99_ms=percentile(latencies_ms, 99),
        refused=load.refused,
        acknowledged=sum(a.spans for a in load.acks),
        stored=int(health.get("stored_rows", -1)),
        errors=load.errors,
        server_cores=server_cpu / elapsed if server_cpu is not None else None,
        server_us_per_span=server_cpu / window_spans * 1e6
        if server_cpu is not None and window_spans
        else None,
        stage_us_per_span={
            stage: (seconds - start.stages.get(stage, 0.0)) / window_spans * 1e6
            for stage, seconds in stop.stages.items()
        }
        if stop.stages and window_spans
        else {},
        client_cores=(stop.client_cpu - start.client_cpu) / elapsed,
        peak_rss_bytes=peak_rss,
        load_start=load_start,
        load_end=proc.load_average(),
        exhausted=load.exhausted_at is not None and load.exhausted_at < window_end,
        rate=rate,
    )


def measure(
    variants: list[Variant],
    pools: dict[str, list[bytes]],
    args: argparse.Namespace,
    rates: dict[str, float | None],
) -> dict[str, list[Result]]:
    """`--runs` runs of every variant, interleaved (A, B, A, B ...) so they share the noise."""
    groups: dict[str, list[Result]] = {v.label: [] for v in variants}
    for n in range(1, args.runs + 1):
        for v in variants:
            result = run_once(v, pools[pool_of(v.wire)], args, rates[v.label])
            print_run(v.label, n, args.runs, result)
            groups[v.label].append(result)
    print_summary(groups, references(variants))
    return groups


def references(variants: list[Variant]) -> list[tuple[str, str]]:
    """(variant, what its figures are divided by): the same side's protobuf figure for the
    other wires, and side A's same wire when comparing."""
    by_key = {(v.side, v.wire): v.label for v in variants}
    first_side = variants[0].side
    pairs = []
    for (side, wire), label in by_key.items():
        if wire != PROTOBUF and (side, PROTOBUF) in by_key:
            pairs.append((label, by_key[(side, PROTOBUF)]))
        if side != first_side:
            pairs.append((label, by_key[(first_side, wire)]))
    return pairs


def ensure_pools(
    pools: dict[str, list[bytes]], wires: list[str], rate: float, args: argparse.Namespace
) -> None:
    """Encode enough distinct bodies per pool for `rate` over warmup + window."""
    fresh = math.ceil(rate * (args.warmup + args.seconds) / args.batch_size)
    # Plus two per sender: bodies taken when the window closes, and retries still pending.
    needed = max(fresh + 2 * PACED_CONCURRENCY if rate else 0, args.breakdown_batches + 1)
    for pool in dict.fromkeys(pool_of(w) for w in wires):
        have = pools.setdefault(pool, [])
        if len(have) >= needed:
            continue
        print(f"encoding {needed - len(have):,} {pool} batches x {args.batch_size} spans ...")
        more, seconds = encode_pool(pool, len(have), needed - len(have), args.batch_size, args.seed)
        have.extend(more)
        mb = sum(map(len, have)) / 1e6
        covers = f", covers {rate:,.0f} spans/s for {args.warmup:g} + {args.seconds:g} s"
        print(
            f"  {seconds:.1f} s; pool {len(have):,} batches, {mb:,.0f} MB "
            f"({mb * 1e6 / len(have) / args.batch_size:,.0f} bytes/span){covers if rate else ''}"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Sustained ingest throughput, ack latency, CPU and RSS of a real serve.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--runs", type=int, default=3, help="runs, each against a fresh serve")
    p.add_argument("--seconds", type=float, default=20.0, help="measured window per run")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured load before the window")
    p.add_argument("--batch-size", type=int, default=512, help="spans per export request")
    p.add_argument(
        "--concurrency",
        type=int,
        help=f"sender threads (connections); default 4, or {PACED_CONCURRENCY} when paced",
    )
    p.add_argument(
        "--wire",
        default=PROTOBUF,
        help=f"comma-separated wires to measure, interleaved: {', '.join(WIRES)}",
    )
    pace = p.add_mutually_exclusive_group()
    pace.add_argument(
        "--rate", type=float, help="send at this many spans/s instead of back to back"
    )
    pace.add_argument(
        "--overload",
        type=float,
        metavar="FACTOR",
        help="after the back-to-back runs, run again paced at FACTOR x the median measured",
    )
    p.add_argument(
        "--compare",
        nargs=2,
        metavar=("REV_A", "REV_B"),
        help="serve each revision from a git worktree (`.` = this checkout as is), same bodies",
    )
    p.add_argument(
        "--max-rate",
        type=float,
        default=30_000.0,
        help="spans/s the pre-encoded batches must cover for warmup + window, back to back "
        "(a run that exhausts them says so)",
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the generated spans")
    p.add_argument(
        "--breakdown-batches", type=int, default=20, help="batches timed in the breakdown"
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--no-breakdown", action="store_true", help="skip the stage breakdown")
    mode.add_argument("--breakdown", action="store_true", help="only the stage breakdown")
    args = p.parse_args(argv)
    for name in ("runs", "batch_size", "breakdown_batches"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.concurrency is not None and args.concurrency < 1:
        p.error("--concurrency must be at least 1")
    if args.seconds <= 0 or args.warmup < 0 or args.max_rate <= 0:
        p.error("--seconds and --max-rate must be positive, --warmup not negative")
    if (args.rate is not None and args.rate <= 0) or (
        args.overload is not None and args.overload <= 0
    ):
        p.error("--rate and --overload must be positive")
    args.wires = list(dict.fromkeys(w.strip() for w in args.wire.split(",") if w.strip()))
    if not args.wires or not set(args.wires) <= set(WIRES):
        p.error(f"--wire takes {', '.join(WIRES)}")
    return args


def print_breakdowns(
    variants: list[Variant],
    groups: dict[str, list[Result]],
    pools: dict[str, list[bytes]],
    args: argparse.Namespace,
) -> None:
    """Per stage: the server's own /metrics when it has them, else timed in process, `--runs`
    times interleaved across source trees, the median per stage."""

    def from_metrics(v: Variant) -> bool:
        results = groups.get(v.label, [])
        return bool(results) and all(r.stage_us_per_span for r in results)

    timed = [v for v in variants if not from_metrics(v)]
    keys = list(dict.fromkeys((v.source, pool_of(v.wire)) for v in timed))
    samples: dict[tuple[Path, str], list[dict[str, float] | str]] = {k: [] for k in keys}
    for _ in range(args.runs if keys else 0):
        for source, pool in keys:
            body = pools[pool][: args.breakdown_batches + 1]
            samples[(source, pool)].append(breakdown_in(source, body, pool))
    for v in variants:
        if v not in timed:
            print_stages(v.label, groups[v.label])
            continue
        pool = pool_of(v.wire)
        title = (
            f"{v.label}: where the time goes (in process, no HTTP, {args.breakdown_batches} "
            f"batches x {args.batch_size} spans{', as protobuf' if v.wire != pool else ''}, "
            f"median of {args.runs}):"
        )
        print_breakdown(title, median_stages(samples[(v.source, pool)]))


def median_stages(samples: list[dict[str, float] | str]) -> dict[str, float] | str:
    """Per-stage medians of the breakdowns that worked; the first error if none did."""
    good = [s for s in samples if isinstance(s, dict)]
    if not good:
        return samples[0]
    return {stage: statistics.median(s[stage] for s in good) for stage in good[0]}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    pools: dict[str, list[bytes]] = {}
    with source_trees(ROOT, args.compare or []) as trees:
        sides = trees or [("", ROOT)]
        variants = [Variant(side, source, wire) for side, source in sides for wire in args.wires]
        ensure_pools(pools, args.wires, 0 if args.breakdown else (args.rate or args.max_rate), args)
        groups: dict[str, list[Result]] = {}
        if not args.breakdown:
            concurrency = args.concurrency or (PACED_CONCURRENCY if args.rate else 4)
            how = f"paced at {args.rate:,.0f} spans/s" if args.rate else "back to back"
            print(
                f"\n{args.runs} run(s) x {len(variants)}: {concurrency} senders {how}, "
                f"{args.warmup:g} s warmup + {args.seconds:g} s measured, fresh serve each\n"
            )
            groups = measure(
                variants, pools, args, dict.fromkeys((v.label for v in variants), args.rate)
            )
            if args.overload:
                rates = {
                    label: args.overload * (median(rs, lambda r: r.spans_per_second) or 0.0)
                    for label, rs in groups.items()
                }
                ensure_pools(pools, args.wires, max(rates.values()), args)
                print(f"\noverload: paced at {args.overload:g} x each variant's median\n")
                overloaded = measure(variants, pools, args, rates)
                groups = {**groups, **{f"{k} x{args.overload:g}": v for k, v in overloaded.items()}}
        if not args.no_breakdown:
            print_breakdowns(variants, groups, pools, args)
    return 0 if all(r.ok for rs in groups.values() for r in rs) else 1


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C: the running serve is stopped


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
