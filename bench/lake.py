"""Lake-mode benchmark: ingest throughput of 1 and 2 stateless nodes (`gatewatch serve
--lake`) on one lake, and the time of a full `lake jobs` run on Ray per 10 M rows, for 1, 2
and 4 workers. Prints the machine's load average with the figures: on a shared machine they
are only comparable to each other.

    .venv/bin/python bench/lake.py                         # 10 s per node count; 10 M rows
    .venv/bin/python bench/lake.py --rows 2000000 --workers 1,2 --seconds 5
    .venv/bin/python bench/lake.py --skip-ingest --keep /tmp/lake-10m   # reuse a built lake

Ingest: 4 senders post OTLP protobuf bodies of GenAI spans back to back, spread over the
nodes; each node decodes in cores/nodes worker processes, so the nodes share the machine's
cores as separate machines would not. Jobs: the sample generator's 90 days, copied with fresh
request ids up to `--rows`, written as one segment per day and copy (as a busy lake holds
after compaction); every week is recomputed (`--full`) into a fresh stats database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from bench.bodies import PROTOBUF, encode_pool  # noqa: E402
from bench.jobs import stamped  # noqa: E402
from bench.load import Load, connector  # noqa: E402
from bench.server import free_port, lake_node_command, wait_healthy  # noqa: E402
from lake.executors import RayExecutor  # noqa: E402
from lake.jobs import run_lake_jobs  # noqa: E402
from lake.layout import REQUEST_SEGMENT_SCHEMA, REQUESTS, day_dir  # noqa: E402
from lake.store import LakeStore  # noqa: E402
from sample_data.generator import generate  # noqa: E402
from warehouse.db import Warehouse  # noqa: E402

END = dt.date(2026, 11, 22)
DAYS = 90
PER_10M = 10_000_000


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


# --- ingest ---------------------------------------------------------------------------------


def start_node(lake: Path, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        lake_node_command(lake, port),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "GATEWATCH_INGEST_WORKERS": str(workers)},
    )
    try:
        wait_healthy(process, f"http://127.0.0.1:{port}", log)
    except RuntimeError as e:
        raise SystemExit(f"lake node: {e}") from e
    return process, port


def ingest_rate(nodes: int, bodies: list[bytes], args: argparse.Namespace, work: Path) -> float:
    lake = work / f"ingest-{nodes}"
    workers = max(1, (os.cpu_count() or 1) // nodes)
    started = [start_node(lake, workers, work / f"node-{nodes}-{i}.log") for i in range(nodes)]
    try:
        ports = itertools.cycle([port for _, port in started])
        lock = threading.Lock()

        def connect():  # type: ignore[no-untyped-def]  # each sender on the next node
            with lock:
                port = next(ports)
            return connector(PROTOBUF, port, 0, args.batch_size)()

        begin = time.perf_counter()
        window_start, window_end = begin + args.warmup, begin + args.warmup + args.seconds
        load = Load(bodies, connect, begin=begin, stop_at=window_end, interval=None)
        threads = [threading.Thread(target=load.sender, daemon=True) for _ in range(args.senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if load.errors:
            raise SystemExit(f"ingest errors: {load.errors[:3]}")
        stored = sum(a.spans for a in load.acks if window_start <= a.done <= window_end)
        return stored / args.seconds
    finally:
        for process, _ in started:
            process.send_signal(signal.SIGINT)
        for process, _ in started:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


# --- jobs -----------------------------------------------------------------------------------


def build_lake(path: Path, rows: int) -> int:
    """The generator's 90 days copied with fresh ids up to `rows`, one segment per day and copy."""
    base = generate(DAYS, end=END, seed=7).requests
    store = LakeStore(str(path))
    days = pc.strftime(base["started_at"], format="%Y-%m-%d")
    by_day = {d: base.filter(pc.equal(days, d)) for d in pc.unique(days).to_pylist()}
    copies = max(1, round(rows / base.num_rows))
    written = 0
    for copy in range(copies):
        for day, table in by_day.items():
            segment = stamped(table, copy)
            segment = (
                segment.append_column("_node", pa.array(["bench"] * segment.num_rows))
                .append_column("_commit", pa.array([copy] * segment.num_rows, pa.int64()))
                .append_column("_row", pa.array(range(segment.num_rows), pa.int64()))
                .cast(REQUEST_SEGMENT_SCHEMA)
            )
            store.write_parquet(f"{day_dir(REQUESTS, day)}/bench-{copy:05d}.parquet", segment)
            written += segment.num_rows
        print(f"  lake: {written:,} rows written", end="\r", flush=True)
    print()
    return written


def pq_rows(store: LakeStore) -> int:
    return sum(pq.ParquetFile(f.path).metadata.num_rows for f in store.list_files(REQUESTS))


def job_seconds(lake: Path, workers: int) -> float:
    executor = RayExecutor(workers=workers)
    stats = Warehouse.open(":memory:")
    try:
        started = time.perf_counter()
        run_lake_jobs(LakeStore(str(lake)), stats.connection, executor, full=True)
        return time.perf_counter() - started
    finally:
        stats.close()
        executor.close()


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured ingest window")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--batch-size", type=int, default=500, help="spans per body")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--rows", type=int, default=PER_10M, help="rows of the jobs' lake")
    parser.add_argument("--workers", default="1,2,4", help="Ray worker counts to time")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-jobs", action="store_true")
    parser.add_argument("--keep", type=Path, help="build the jobs' lake here (reused if present)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="gatewatch-bench-lake-"))
    try:
        print(f"before: {load_average()}")
        if not args.skip_ingest:
            distinct = 200
            bodies, seconds = encode_pool(PROTOBUF, 0, distinct, args.batch_size, seed=3)
            print(f"encoded {distinct} bodies of {args.batch_size} spans in {seconds:.1f}s")
            repeated = bodies * 50  # the lake stores repeats like new rows: same work per body
            for nodes in (1, 2):
                rate = ingest_rate(nodes, repeated, args, work)
                print(f"ingest, {nodes} node(s): {rate:,.0f} spans/s  ({load_average()})")
        if not args.skip_jobs:
            lake = args.keep or work / "jobs-lake"
            if args.keep and (lake / REQUESTS).exists():
                rows = pq_rows(LakeStore(str(lake)))
            else:
                rows = build_lake(lake, args.rows)
            for workers in (int(w) for w in args.workers.split(",")):
                seconds = job_seconds(lake, workers)
                per_10m = seconds * PER_10M / rows
                print(
                    f"lake jobs, {workers} Ray worker(s): {seconds:.1f}s for {rows:,} rows = "
                    f"{per_10m:.1f}s per 10 M rows  ({load_average()})"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
