"""A real local HTTP receiver for alert deliveries: an `http.server` thread on 127.0.0.1 that
keeps every JSON body it is posted, per path, and can answer a path with a given status for
its first N requests (a flaky or broken webhook)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str
    bodies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)  # every POST, failed ones included
    failures: dict[str, tuple[int, int]] = field(default_factory=dict)  # path → (status, times)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, path: str, status: int, times: int) -> None:
        with self.lock:
            self.failures[path] = (status, times)

    def received(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.bodies.get(path, []))

    def states(self, path: str) -> list[tuple[str, str]]:
        """(state, key) of every webhook body received at `path`, in order."""
        return [(b["state"], b["key"]) for b in self.received(path)]


@contextmanager
def alert_receiver() -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.requests[self.path] = receiver.requests.get(self.path, 0) + 1
                status, times = receiver.failures.get(self.path, (200, 0))
                if times > 0:
                    receiver.failures[self.path] = (status, times - 1)
                else:
                    status = 200
                    receiver.bodies.setdefault(self.path, []).append(json.loads(body))
            answer = b"ok" if status == 200 else b"unavailable"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
