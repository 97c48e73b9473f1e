"""A real `gatewatch serve` for one benchmark run, started from a given source tree.

The server runs under the bench's own interpreter (the project's `.venv`) with the source
tree first on `PYTHONPATH` and as its working directory, so a `git worktree` of another
commit is served with this checkout's installed dependencies.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import proc

# Per-stage timings, if the server publishes them: a counter or histogram with a `stage`
# label (`gatewatch_ingest_stage_cpu_seconds_total{stage="decode"} 1.5`), and the writer's
# transactions (`gatewatch_ingest_batch_commit_seconds_sum 0.8`, wall time) as "commit".
STAGE_SUM = re.compile(
    r"^gatewatch_ingest_\w*stage\w*_seconds(?:_total|_sum)\{([^}]*)\}\s+(\S+)", re.M
)
STAGE_LABEL = re.compile(r'stage="([^"]*)"')
COMMIT_SUM = re.compile(r"^gatewatch_ingest_batch_commit_seconds_sum(?:\{\})?\s+(\S+)", re.M)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    grpc_port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict:
        answer = httpx.get(f"{self.url}/healthz", timeout=10)
        answer.raise_for_status()
        return answer.json()

    def settled_health(self, timeout: float = 30.0) -> dict:
        """/healthz once no acknowledged row waits aside of `requests` (rows committed during
        a checkpoint, counted in `stored_rows` when they move), or after `timeout`."""
        deadline = time.monotonic() + timeout
        while (health := self.health()).get("aside_rows", 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        return health

    def stage_seconds(self) -> dict[str, float]:
        """Seconds spent per ingest stage so far, from /metrics; empty if not published."""
        try:
            text = httpx.get(f"{self.url}/metrics", timeout=10).text
        except httpx.HTTPError:
            return {}
        totals: dict[str, float] = defaultdict(float)
        for labels, value in STAGE_SUM.findall(text):
            if stage := STAGE_LABEL.search(labels):
                totals[stage.group(1)] += float(value)
        if totals and (commit := COMMIT_SUM.search(text)):
            totals["commit"] += float(commit.group(1))
        return dict(totals)

    def cpu_seconds(self) -> float | None:
        return proc.tree_cpu_seconds(self.process.pid)

    def memory_bytes(self) -> int:
        return proc.tree_memory_bytes(self.process.pid)

    def peak_rss_bytes(self) -> int:
        return proc.peak_rss_bytes(self.process.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        """SIGINT to serve, which stops its own workers; a serve that hangs is killed with its
        process group (its own session, so nothing the bench did not start)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                print("  serve did not stop within 60 s of SIGINT; killing it", file=sys.stderr)
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def serve_command(
    db: Path, ingest_port: int, grpc_port: int, dashboard_port: int, jobs_every: str = "1h"
) -> list[str]:
    """The argv of a `gatewatch serve` on 127.0.0.1 with these ports (grpc 0 = off), run by
    this interpreter (the bench's servers and the integration tests' alike)."""
    return [
        sys.executable,
        "-m",
        "gatewatch.cli",
        "--db",
        str(db),
        "serve",
        "--host",
        "127.0.0.1",
        "--ingest-port",
        str(ingest_port),
        "--grpc-port",
        str(grpc_port),
        "--dashboard-port",
        str(dashboard_port),
        "--jobs-every",
        jobs_every,
    ]


def lake_node_command(lake: Path | str, ingest_port: int) -> list[str]:
    """The argv of a `gatewatch serve --lake` ingest node on 127.0.0.1 (gRPC off), run by this
    interpreter (the lake bench's nodes and the lake tests' alike)."""
    return [
        sys.executable,
        "-m",
        "gatewatch.cli",
        "serve",
        "--lake",
        str(lake),
        "--host",
        "127.0.0.1",
        "--ingest-port",
        str(ingest_port),
        "--grpc-port",
        "0",
    ]


def wait_healthy(
    process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 60
) -> None:
    """Until `url`/healthz answers 200; RuntimeError (with the log) if the process exits or
    the time runs out, which kills it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{url} did not become healthy in {timeout:.0f} s")


def keep_every_row(workdir: Path, source: Path | None = None) -> dict[str, str]:
    """Environment for a serve that must keep every row it stores: fixed-date test and bench
    traffic ages past the default retention (90 days), which serve's first jobs run applies.
    A config the caller's environment names is left as it is, and a source tree older than
    retention gets none (it would refuse the section)."""
    root = source or Path(__file__).resolve().parent.parent
    if os.environ.get("GATEWATCH_CONFIG") or not (root / "warehouse/retention.py").exists():
        return {}
    path = workdir / "keep-every-row.toml"
    path.write_text("[retention]\nrequests_days = 0\ntool_spans_days = 0\n")
    return {"GATEWATCH_CONFIG": str(path)}


def start_server(source: Path, workdir: Path, *, grpc: bool, timeout: float = 120.0) -> Server:
    ingest_port, dashboard_port = free_port(), free_port()
    grpc_port = free_port() if grpc else 0  # 0 turns gRPC off, leaving 4317 to others
    log_path = workdir / "serve.log"
    pythonpath = os.pathsep.join(filter(None, [str(source), os.environ.get("PYTHONPATH")]))
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            serve_command(workdir / "bench.duckdb", ingest_port, grpc_port, dashboard_port),
            cwd=source,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": pythonpath,
                **keep_every_row(workdir, source),
            },
            start_new_session=True,  # Ctrl-C reaches only the bench, which stops serve itself
        )
    server = Server(process, ingest_port, grpc_port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}:\n{server.log_tail()}")
        try:
            server.health()
            return server
        except httpx.TransportError:  # not listening yet; an error answer ends the wait
            time.sleep(0.2)
        except httpx.HTTPStatusError as e:
            server.stop()
            raise RuntimeError(f"serve answered /healthz with {e}:\n{server.log_tail()}") from e
    server.stop()
    raise RuntimeError(f"serve was not healthy within {timeout:.0f} s:\n{server.log_tail()}")
