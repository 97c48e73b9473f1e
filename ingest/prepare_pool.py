"""Decoding and mapping off the event loop: raw bodies → `Prepared` Arrow batches.

Decompression, decoding, convention mapping and the Arrow build are pure CPU work. Run on the
event loop (or any thread of the owner) they hold the GIL that HTTP handling, the gRPC
receiver and the single writer also need, which capped ingest at about one core. `serve`
therefore runs them in worker processes, one per core, and keeps in the owner only what must
stay there: the sockets, the one DuckDB writer and the answers. A worker returns the batch as
Arrow (pickled through Arrow's IPC format, no per-row work in the owner).

`InlinePreparer` runs the same function in the calling thread: tests, `gatewatch ingest` and
`serve --ingest-workers 0` use it.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Literal, Protocol

from ingest import normalize
from ingest.limits import ValueLimits, applied
from ingest.payloads import (
    Prepared,
    decompress,
    prepare_logs,
    prepare_request_logs,
    prepare_traces,
)

Kind = Literal["traces", "logs", "requests"]
PR_SET_PDEATHSIG = 1  # prctl(2)


class PrepareSaturated(Exception):
    """Every worker is busy and the bodies waiting for one are at their bound (→ 503)."""


@dataclass(frozen=True, slots=True)
class PrepareJob:
    kind: Kind
    body: bytes  # as received (maybe compressed)
    content_encoding: str | None
    encoding: str  # PROTOBUF or JSON (unused for request logs)
    tenant: str | None
    max_body_bytes: int
    limits: ValueLimits


def run_job(job: PrepareJob) -> Prepared:
    """Decompress (limit after decompression), decode and map one body under the limits; the
    cuts the limits made are counted in the batch's warnings."""
    body = decompress(job.body, job.content_encoding, job.max_body_bytes)
    with applied(job.limits) as cuts:
        if job.kind == "traces":
            prepared = prepare_traces(body, job.encoding, tenant=job.tenant)
        elif job.kind == "logs":
            prepared = prepare_logs(body, job.encoding, tenant=job.tenant)
        else:
            prepared = prepare_request_logs(body, tenant=job.tenant)
    prepared.warnings.update(cuts)
    return prepared


def run_job_in_worker(job: PrepareJob) -> Prepared:
    """`run_job` with the cyclic collector paused: a body's views, rows and columns form no
    cycles and die together, yet their tens of thousands of allocations would set off
    collections that walk them again and again (a worker runs nothing else meanwhile; a cycle
    an error leaves is collected after the job)."""
    gc.disable()
    try:
        return run_job(job)
    finally:
        gc.enable()


class Preparer(Protocol):
    async def prepare(self, job: PrepareJob) -> Prepared: ...

    def prepare_blocking(self, job: PrepareJob) -> Prepared: ...

    def close(self) -> None: ...


class InlinePreparer:
    """In the calling thread (the event loop's, for the HTTP API)."""

    async def prepare(self, job: PrepareJob) -> Prepared:
        return run_job(job)

    def prepare_blocking(self, job: PrepareJob) -> Prepared:
        return run_job(job)

    def close(self) -> None:
        pass


def _die_with(owner_pid: int) -> None:
    """End this worker when the owner ends, also by `kill -9`: a worker blocked on its task
    queue would otherwise outlive it (and a restarted owner would leak a set per crash)."""
    try:  # Linux: the kernel signals the child when its parent dies
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != owner_pid:  # the owner died before the line above took effect
        os._exit(0)


def _start_worker(
    owner_pid: int,
    providers: Mapping[str, str],
    models: Mapping[str, str],
    apps: Mapping[str, str],
) -> None:
    """A worker dies with its owner and maps with its alias tables (built-in plus the user's
    config)."""
    _die_with(owner_pid)
    normalize.register_aliases(providers=providers, models=models, apps=apps)
    freeze_startup_objects()


def freeze_startup_objects() -> None:
    """Keep what start-up built (modules, and the owner's app and dashboard) out of the cyclic
    collector: a body's mapping allocates tens of thousands of objects, and every full
    collection they trigger would otherwise walk all of it again (most of a worker's CPU in a
    process that imported the dashboard with serve)."""
    gc.collect()
    gc.freeze()


# Bodies waiting for a worker, beyond the one each is decoding: enough for a collector's
# concurrent exports to keep every worker busy, few enough (and at most MAX_WAITING_BYTES of
# bodies in all) that an overload is answered 503 at once instead of growing the owner.
WAITING_PER_WORKER = 8
MAX_WAITING_BYTES = 256 * 1024 * 1024


class ProcessPreparer:
    """`workers` processes and a bound on the bodies queued for them."""

    def __init__(
        self,
        workers: int,
        *,
        max_waiting: int | None = None,
        max_waiting_bytes: int = MAX_WAITING_BYTES,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        # spawn: the owner has threads (writer, gRPC, scheduler), which a plain fork could
        # copy mid-lock; and each worker is the owner's own child, so it can die with it.
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(
                os.getpid(),
                dict(normalize.PROVIDER_ALIASES),
                dict(normalize.MODEL_ALIASES),
                dict(normalize.APP_ALIASES),
            ),
        )
        waiting = WAITING_PER_WORKER * workers if max_waiting is None else max_waiting
        self._limit = workers + waiting
        self._byte_limit = max_waiting_bytes
        self._in_flight = 0
        self._in_flight_bytes = 0
        self._lock = threading.Lock()
        # Start every worker now (imports take a second), not on the first request.
        for future in [self._pool.submit(os.getpid) for _ in range(workers)]:
            future.result()

    def _submit(self, job: PrepareJob) -> Future[Prepared]:
        size = len(job.body)
        with self._lock:
            # One body is always let in, whatever its size (the body limit bounds it).
            busy = self._in_flight > 0
            if self._in_flight >= self._limit or (
                busy and self._in_flight_bytes + size > self._byte_limit
            ):
                raise PrepareSaturated(
                    f"{self._in_flight} bodies ({self._in_flight_bytes} bytes) are being decoded"
                )
            self._in_flight += 1
            self._in_flight_bytes += size
        future = self._pool.submit(run_job_in_worker, job)
        future.add_done_callback(lambda _: self._done(size))
        return future

    def _done(self, size: int) -> None:
        with self._lock:
            self._in_flight -= 1
            self._in_flight_bytes -= size

    @property
    def in_flight(self) -> int:
        """Bodies handed to the workers and not prepared yet."""
        return self._in_flight

    async def prepare(self, job: PrepareJob) -> Prepared:
        return await asyncio.wrap_future(self._submit(job))

    def prepare_blocking(self, job: PrepareJob) -> Prepared:
        return self._submit(job).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def make_preparer(workers: int) -> Preparer:
    """`workers` processes, or inline for 0."""
    return ProcessPreparer(workers) if workers > 0 else InlinePreparer()
