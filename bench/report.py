"""One run's figures and the benchmark's printed lines and tables."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass
class Result:
    spans_per_second: float  # stored (acknowledged) in the window
    offered_per_second: float  # spans in the requests sent in the window, retries included
    window_spans: int
    window_seconds: float
    p50_ms: float
    p99_ms: float
    refused: int  # 503 / UNAVAILABLE answers over the whole run
    acknowledged: int  # spans acknowledged over the whole run
    stored: int  # the server's stored_rows after the run
    errors: list[str]
    server_cores: float | None
    server_us_per_span: float | None  # server process tree CPU in the window / spans stored
    stage_us_per_span: dict[str, float]  # from the server's /metrics; empty if not published
    client_cores: float
    peak_rss_bytes: int
    load_start: float
    load_end: float
    exhausted: bool
    rate: float | None  # the paced rate, None for closed loop

    @property
    def ok(self) -> bool:
        return self.stored == self.acknowledged and not self.errors and not self.exhausted


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def print_run(label: str, n: int, runs: int, r: Result) -> None:
    check = "=" if r.stored == r.acknowledged else "!="
    paced = f"paced {r.rate:,.0f}/s, offered {r.offered_per_second:,.0f}/s, " if r.rate else ""
    print(
        f"{label} run {n}/{runs}: {r.spans_per_second:,.0f} spans/s stored ({paced}"
        f"{r.window_spans:,} in {r.window_seconds:.1f} s)  ack p50 {r.p50_ms:.1f} ms "
        f"p99 {r.p99_ms:.1f} ms  503s {r.refused}"
    )
    print(
        f"    server {_num(r.server_us_per_span, 1)} us/span CPU ({_num(r.server_cores, 2)} cores)"
        f"  peak RSS {r.peak_rss_bytes / 2**20:,.0f} MiB  client {r.client_cores:.2f} cores  "
        f"load {r.load_start:.2f} -> {r.load_end:.2f}  "
        f"stored_rows {r.stored:,} {check} acknowledged {r.acknowledged:,}"
    )
    if r.exhausted:
        print(
            "    WARNING: the pre-encoded batches ran out before the window ended; the run is "
            f"shorter than asked. Raise --max-rate above {r.spans_per_second:,.0f}."
        )
    for error in r.errors[:5]:
        print(f"    error: {error}")
    if len(r.errors) > 5:
        print(f"    ... {len(r.errors) - 5} more errors")
    if r.stored != r.acknowledged:
        print("    MISMATCH: stored rows differ from acknowledged spans")


def median(results: Sequence[Result], figure: Callable[[Result], float | None]) -> float | None:
    values = [v for r in results if (v := figure(r)) is not None and not math.isnan(v)]
    return statistics.median(values) if values else None


COLUMNS = (
    # heading, width, figure of the runs, digits
    ("stored/s", 9, lambda rs: median(rs, lambda r: r.spans_per_second), 0),
    ("offered/s", 9, lambda rs: median(rs, lambda r: r.offered_per_second), 0),
    ("p50 ms", 7, lambda rs: median(rs, lambda r: r.p50_ms), 1),
    ("p99 ms", 7, lambda rs: median(rs, lambda r: r.p99_ms), 1),
    ("us/span", 7, lambda rs: median(rs, lambda r: r.server_us_per_span), 1),
    ("cores", 5, lambda rs: median(rs, lambda r: r.server_cores), 2),
    ("RSS MiB", 7, lambda rs: max(r.peak_rss_bytes for r in rs) / 2**20, 0),
    ("503s", 6, lambda rs: sum(r.refused for r in rs), 0),
)


def print_summary(groups: dict[str, list[Result]], references: list[tuple[str, str]]) -> None:
    """Medians per variant (peak RSS: the highest of the runs; 503s: the total), then the
    ratio of stored spans/s and server CPU per span of each variant to its `reference`."""
    title = f"median of {max(len(rs) for rs in groups.values())} run(s)"
    width = max(len(title), *map(len, groups)) + 1
    print(f"\n{title}".ljust(width + 1), end="")
    print(" ".join(heading.rjust(w) for heading, w, _, _ in COLUMNS), " load")
    for label, rs in groups.items():
        cells = [_num(figure(rs), digits).rjust(w) for _, w, figure, digits in COLUMNS]
        loads = f"{min(r.load_start for r in rs):.1f}-{max(r.load_end for r in rs):.1f}"
        print(label.ljust(width), " ".join(cells), "", loads)
    for label, base in references:
        rate, base_rate = (median(groups[x], lambda r: r.spans_per_second) for x in (label, base))
        cpu, base_cpu = (median(groups[x], lambda r: r.server_us_per_span) for x in (label, base))
        ratio = _num(rate / base_rate, 2) if rate and base_rate else "-"
        cpu_ratio = _num(cpu / base_cpu, 2) if cpu and base_cpu else "-"
        print(f"{label} / {base}: stored spans/s x{ratio}, server CPU per span x{cpu_ratio}")
    if not all(r.ok for rs in groups.values() for r in rs):
        print("WARNING: at least one run had errors, a row-count mismatch or ran short")


STAGE_ORDER = ("decode", "map", "mapping", "arrow", "commit")


def print_stages(label: str, results: Sequence[Result]) -> None:
    """Per-stage server time from /metrics, median over the runs: each preparation stage's
    CPU as a share of the server's, and the writer's commit wall time as its busy share."""
    found = {stage for r in results for stage in r.stage_us_per_span}
    stages = [s for s in STAGE_ORDER if s in found] + sorted(found - set(STAGE_ORDER))
    server = median(results, lambda r: r.server_us_per_span) or math.nan
    print(f"\n{label}: per stage, from the server's /metrics (median of {len(results)} run(s)):")
    rate = median(results, lambda r: r.spans_per_second) or math.nan
    for stage in stages:
        us = median(results, lambda r, s=stage: r.stage_us_per_span.get(s)) or 0.0
        if stage == "commit":  # wall time: how busy the single writer thread was
            share = f"wall; the writer committed {us * rate / 1e6:.0%} of the window"
        else:
            share = f"CPU; {us / server:.1%} of the server's"
        print(f"  {stage:<8} {us:7.2f} us/span  ({share})")
    print(f"  {'server':<8} {server:7.2f} us/span  whole process tree CPU, HTTP included")
