"""A callback receiver on 127.0.0.1 that timestamps every POST as it arrives.

ThreadingHTTPServer speaking HTTP/1.1 with keep-alive, one thread per connection, a listen
backlog large enough for a burst of concurrent connections (the standard library's default of
5 would drop SYNs and add retransmission delays), and TCP_NODELAY on accepted sockets.
Arrival times are CLOCK_MONOTONIC, comparable with time.monotonic() in other processes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Arrival:
    """One POST: when its body had been read, on which path, with which bytes."""

    at: float
    path: str
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512


class TimingReceiver:
    """Answers every POST with 204 and records it; `wait_for(n)` blocks until n arrived."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._arrivals: list[Arrival] = []
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrival = Arrival(time.monotonic(), self.path, body)
                with receiver._cond:
                    receiver._arrivals.append(arrival)
                    receiver._cond.notify_all()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        return Handler

    def start(self) -> TimingReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def take(self) -> list[Arrival]:
        """Everything received so far, in arrival order; the record is emptied."""
        with self._cond:
            arrivals, self._arrivals = self._arrivals, []
        return arrivals

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until at least `count` POSTs are recorded; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._arrivals) >= count, timeout)

    def count(self) -> int:
        with self._cond:
            return len(self._arrivals)
