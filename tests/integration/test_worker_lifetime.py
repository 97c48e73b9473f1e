"""The decoding workers live and die with `serve`: a `kill -9` of serve ends them too, so a
crash (and a supervisor's restart) never leaves worker processes behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.integration.server import start_serve

pytestmark = pytest.mark.integration


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def test_kill_9_of_serve_ends_its_workers(tmp_path: Path) -> None:
    served = start_serve(tmp_path / "gatewatch.duckdb")
    workers = children(served.process.pid)
    assert len(workers) >= (os.cpu_count() or 1)  # one per core (plus any helper process)
    served.kill_hard()
    deadline = time.monotonic() + 10
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if alive(w)]
