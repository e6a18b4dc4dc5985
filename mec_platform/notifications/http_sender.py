"""Callback sender on the standard library's http.client: any 2xx counts as delivered.

Each delivery thread keeps its own keep-alive connection per callback origin, so threads never
contend for a shared pool and a notification costs one request on a warm connection. (An
httpx pool measured about three times the CPU per notification under fan-out.)
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from urllib.parse import urlsplit

from mec_platform.notifications.model import DeliveryResult
from mec_platform.registry.model import JsonObject

Origin = tuple[str, str, int]
_HEADERS = {"Content-Type": "application/json", "User-Agent": "mec-platform"}
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class HttpCallbackSender:
    """POSTs JSON notifications with a timeout over per-thread keep-alive connections."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._local = threading.local()
        self._tls = ssl.create_default_context()
        self._open: set[http.client.HTTPConnection] = set()  # of every thread, for close()
        self._lock = threading.Lock()

    def send(self, message_id: int, uri: str, payload: JsonObject) -> DeliveryResult:
        parts = urlsplit(uri)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            return DeliveryResult(message_id, False, error=f"unsupported callback URI {uri!r}")
        default_port = 443 if parts.scheme == "https" else 80
        origin = (parts.scheme, parts.hostname, parts.port or default_port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body = json.dumps(payload, separators=(",", ":")).encode()
        try:
            try:
                reused = origin in self._connections()
                status = self._post(origin, target, body)
            except _STALE:
                if not reused:
                    raise
                # The peer closed an idle keep-alive connection: try once on a fresh one.
                self._forget(origin)
                status = self._post(origin, target, body)
        except (OSError, http.client.HTTPException) as exc:
            self._forget(origin)
            return DeliveryResult(message_id, False, error=f"{type(exc).__name__}: {exc}"[:500])
        delivered = 200 <= status < 300
        error = None if delivered else f"callback answered HTTP {status}"
        return DeliveryResult(message_id, delivered, status, error)

    def close(self) -> None:
        with self._lock:
            connections, self._open = self._open, set()
        for connection in connections:
            connection.close()

    def _post(self, origin: Origin, target: str, body: bytes) -> int:
        connection = self._connection(origin)
        connection.request("POST", target, body=body, headers=_HEADERS)
        response = connection.getresponse()
        response.read()  # drain, so the connection can carry the next request
        if response.will_close:
            self._forget(origin)
        return response.status

    def _connections(self) -> dict[Origin, http.client.HTTPConnection]:
        if not hasattr(self._local, "connections"):
            self._local.connections = {}
        connections: dict[Origin, http.client.HTTPConnection] = self._local.connections
        return connections

    def _connection(self, origin: Origin) -> http.client.HTTPConnection:
        connections = self._connections()
        if origin not in connections:
            scheme, host, port = origin
            if scheme == "https":
                connections[origin] = http.client.HTTPSConnection(
                    host, port, timeout=self._timeout, context=self._tls
                )
            else:
                connections[origin] = http.client.HTTPConnection(host, port, timeout=self._timeout)
            with self._lock:
                self._open.add(connections[origin])
        return connections[origin]

    def _forget(self, origin: Origin) -> None:
        connection = self._connections().pop(origin, None)
        if connection is not None:
            with self._lock:
                self._open.discard(connection)
            connection.close()
