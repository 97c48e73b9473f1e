"""/proc readings of a process tree: CPU seconds and resident memory (Linux only).

The server may run worker processes, so CPU and memory are summed over the process and
every descendant alive at the time of reading; the CPU of children that already exited and
were waited for is in the root's cutime + cstime.
"""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; the fields start after the last ")".
    return text.rsplit(")", 1)[1].split()


def descendants(pid: int) -> list[int]:
    """`pid` and all of its living descendants (children of every thread, recursively)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue  # the thread ended meanwhile
    return found


def tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of `pid` and its descendants, reaped ones included; None if gone."""
    root = _stat_fields(pid)
    if root is None:
        return None
    # Fields after the name: utime, stime, cutime, cstime are the 12th to 15th (0-based 11..14).
    ticks = int(root[13]) + int(root[14])
    for child in descendants(pid):
        fields = _stat_fields(child)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def _kib(path: str, key: str) -> int | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def tree_memory_bytes(pid: int) -> int:
    """Resident memory now of `pid` and its descendants. Forked workers share pages with
    their parent, so each process counts its proportional share (Pss), which sums to the
    tree's real footprint; VmRSS where smaps_rollup is not readable."""
    total = 0
    for p in descendants(pid):
        kib = _kib(f"/proc/{p}/smaps_rollup", "Pss")
        total += kib if kib is not None else _kib(f"/proc/{p}/status", "VmRSS") or 0
    return total * 1024


def peak_rss_bytes(pid: int) -> int:
    """The kernel's high-water mark of `pid`'s own resident memory (VmHWM)."""
    return (_kib(f"/proc/{pid}/status", "VmHWM") or 0) * 1024


def load_average() -> float:
    """The 1-minute load average: how busy the shared machine was."""
    return os.getloadavg()[0]
