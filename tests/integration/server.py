"""A real `gatewatch serve` subprocess on free local ports, and the CLI as a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.server import free_port, keep_every_row, serve_command, wait_healthy


def run_cli(*args: str, db: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "gatewatch.cli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"gatewatch {' '.join(args)} failed:\n{result.stderr}")
    return result


@dataclass
class Served:
    db: Path
    ingest_url: str
    dashboard_url: str
    grpc_endpoint: str  # OTLP/gRPC, as an exporter's `endpoint`
    process: subprocess.Popen[bytes]
    log: Path | None = None  # its stdout and stderr

    def log_text(self) -> str:
        return self.log.read_text() if self.log is not None else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill_hard(self) -> None:
        self.process.kill()  # SIGKILL: no shutdown code runs
        self.process.wait()


def start_serve(db: Path, *, jobs_every: str = "1h", timeout: float = 60.0) -> Served:
    ingest_port, grpc_port, dashboard_port = free_port(), free_port(), free_port()
    log = open(db.parent / f"serve-{ingest_port}.log", "wb")  # noqa: SIM115 - lives with process
    process = subprocess.Popen(
        serve_command(db, ingest_port, grpc_port, dashboard_port, jobs_every),
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **keep_every_row(db.parent)},
    )
    served = Served(
        db,
        f"http://127.0.0.1:{ingest_port}",
        f"http://127.0.0.1:{dashboard_port}",
        f"http://127.0.0.1:{grpc_port}",
        process,
        db.parent / log.name,
    )
    wait_healthy(process, served.ingest_url, db.parent / log.name, timeout)
    return served
