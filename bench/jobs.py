"""Batch-jobs benchmark: a full rebuild and an incremental run (one new day of traffic) of
every job in `analytics.jobs.ALL_JOBS`, on warehouses of 1 M and 10 M requests.

The traffic is the sample generator's (90 days, planted trends); sizes above the generated
base are copies of it with fresh request ids, so every size has the same mix and shape.
`ingested_at` is set to `started_at`, as if the traffic had arrived live, so an incremental
run sees exactly the new day. Each measurement runs `--repeats` times; the median is printed,
with the ratio of full to incremental.

    .venv/bin/python bench/jobs.py                      # 1 M and 10 M, 3 repeats
    .venv/bin/python bench/jobs.py --sizes 200000 --repeats 1
    .venv/bin/python bench/jobs.py --keep /tmp/bench-10m.duckdb   # then bench/pages.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from analytics.jobs import run_jobs  # noqa: E402
from sample_data.generator import generate  # noqa: E402
from warehouse.db import Warehouse  # noqa: E402

DAYS = 90
END = date(2026, 11, 22)


@dataclass(frozen=True, slots=True)
class Timing:
    rows: int
    full_seconds: list[float]
    incremental_seconds: list[float]
    per_job_full: dict[str, float]
    per_job_incremental: dict[str, float]


def stamped(table: pa.Table, copy: int, shift: timedelta = timedelta(0)) -> pa.Table:
    """`table` with ids made unique per copy, shifted in time, `ingested_at` = `started_at`."""
    started = pc.add(table["started_at"], pa.scalar(shift, pa.duration("us")))
    started = started.cast(table.schema.field("started_at").type)
    ids = pc.binary_join_element_wise(table["request_id"], pa.scalar(f"#{copy}"), "")
    table = table.set_column(table.schema.get_field_index("request_id"), "request_id", ids)
    table = table.set_column(table.schema.get_field_index("started_at"), "started_at", started)
    index = table.schema.get_field_index("ingested_at")
    return table.set_column(index, "ingested_at", started)


def insert(warehouse: Warehouse, table: pa.Table) -> None:
    con = warehouse.connection
    con.register("bench_rows", table)
    con.execute("INSERT INTO requests BY NAME SELECT * FROM bench_rows")
    con.unregister("bench_rows")


def new_day(base: pa.Table, day_number: int) -> pa.Table:
    """The base traffic's last day, moved `day_number` days past the end, fresh ids."""
    last_day = datetime(END.year, END.month, END.day, tzinfo=UTC)
    mask = pc.greater_equal(base["started_at"], pa.scalar(last_day, base["started_at"].type))
    return stamped(base.filter(mask), 1_000 + day_number, timedelta(days=day_number))


def measure(  # type: ignore[no-untyped-def]
    base: pa.Table, rows: int, repeats: int, say, keep: Path | None = None
) -> Timing:
    copies = max(1, round(rows / base.num_rows))
    with tempfile.TemporaryDirectory(prefix="gatewatch-bench-jobs-") as tmp:
        warehouse = Warehouse.open(keep or Path(tmp) / "bench.duckdb")
        started = time.perf_counter()
        for copy in range(copies):
            insert(warehouse, stamped(base, copy))
        count = warehouse.connection.execute("SELECT count(*) FROM requests").fetchone()
        total = int(count[0]) if count else 0
        say(f"  loaded {total:,} requests in {time.perf_counter() - started:.1f}s")
        full: list[float] = []
        per_job_full: dict[str, list[float]] = {}
        for _ in range(repeats):
            result = run_jobs(warehouse.connection, full=True)
            full.append(result.seconds)
            for job in result.jobs:
                per_job_full.setdefault(job.job, []).append(job.seconds)
        incremental: list[float] = []
        per_job_incremental: dict[str, list[float]] = {}
        for day_number in range(1, repeats + 1):
            insert(warehouse, new_day(base, day_number))
            result = run_jobs(warehouse.connection)
            incremental.append(result.seconds)
            for job in result.jobs:
                per_job_incremental.setdefault(job.job, []).append(job.seconds)
        warehouse.close()
    return Timing(
        rows=total,
        full_seconds=full,
        incremental_seconds=incremental,
        per_job_full={k: statistics.median(v) for k, v in per_job_full.items()},
        per_job_incremental={k: statistics.median(v) for k, v in per_job_incremental.items()},
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="requests per warehouse")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep", type=Path, help="keep the largest warehouse here (for bench/pages.py)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    base_rows = min(sizes)
    started = time.perf_counter()
    base = generate(DAYS, end=END, seed=args.seed, requests_per_day=max(1, base_rows // DAYS))
    seconds = time.perf_counter() - started
    say(f"generated {base.requests.num_rows:,} base requests in {seconds:.1f}s")
    timings = []
    if args.keep is not None:
        for leftover in (args.keep, Path(f"{args.keep}.wal")):
            leftover.unlink(missing_ok=True)
    for rows in sizes:
        say(f"{rows:,} requests:")
        keep = args.keep if rows == max(sizes) else None
        timings.append(measure(base.requests, rows, args.repeats, say, keep))

    print(f"\n{'requests':>12} {'full (s)':>10} {'incremental (s)':>16} {'full/incr':>10}")
    for t in timings:
        full, incremental = (
            statistics.median(t.full_seconds),
            statistics.median(t.incremental_seconds),
        )
        print(f"{t.rows:>12,} {full:>10.2f} {incremental:>16.3f} {full / incremental:>9.1f}x")
    for t in timings:
        print(f"\nper job, median seconds, {t.rows:,} requests (full / incremental):")
        for job, seconds in t.per_job_full.items():
            print(f"  {job:<28} {seconds:>8.3f} {t.per_job_incremental[job]:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
