"""Where week tasks run: on a Ray cluster (a running one, or a local one started for the
run), or one after another in this process (`--workers 0`, for a quick look at a small lake).

Ray does the scheduling, the placement of tasks on workers and the retry of a task whose
worker died; a task is idempotent (it rewrites its week's results and view whole), so a
retried task changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# A worker killed mid-task (e.g. out of memory) is retried this many times by Ray.
TASK_RETRIES = 2


class Executor(Protocol):
    workers: int

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]: ...

    def close(self) -> None: ...


class InlineExecutor:
    workers = 1

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        return (fn(item) for item in items)

    def close(self) -> None:
        pass


class RayExecutor:
    """Tasks on Ray, one CPU each. With `address` (e.g. `127.0.0.1:6379`, or `auto`) it joins
    that cluster; without, it starts a local one of `workers` CPUs and stops it on close."""

    def __init__(self, *, address: str | None = None, workers: int | None = None) -> None:
        import ray

        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            if address:
                ray.init(address=address, logging_level="warning", log_to_driver=False)
            else:
                ray.init(
                    num_cpus=workers or os.cpu_count() or 1,
                    include_dashboard=False,
                    logging_level="warning",
                    log_to_driver=False,
                    # this machine only: the local cluster listens on loopback
                    _node_ip_address="127.0.0.1",
                )
                self._started = True
        self.workers = int(ray.cluster_resources().get("CPU", 1))

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        ray = self._ray
        remote = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(fn)
        pending = [remote.remote(item) for item in items]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def make_executor(*, address: str | None, workers: int | None) -> Executor:
    if workers == 0 and not address:
        return InlineExecutor()
    return RayExecutor(address=address, workers=workers)
