"""The http.client callback sender against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import socket
import threading

from mec_platform.notifications.http_sender import HttpCallbackSender
from tests.support.net import free_port
from tests.support.receiver import CallbackReceiver


def test_delivers_and_reuses_the_connection(receiver: CallbackReceiver) -> None:
    sender = HttpCallbackSender(timeout=2)
    for index in range(3):
        result = sender.send(index, receiver.url(f"/n?i={index}"), {"n": index})
        assert (result.delivered, result.status_code, result.error) == (True, 204, None)
    assert [r.path for r in receiver.received] == ["/n?i=0", "/n?i=1", "/n?i=2"]
    assert receiver.received[0].headers["Content-Type"] == "application/json"
    assert [r.body for r in receiver.received] == [{"n": 0}, {"n": 1}, {"n": 2}]
    sender.close()


def test_non_2xx_and_refused_connections_are_failures(receiver: CallbackReceiver) -> None:
    sender = HttpCallbackSender(timeout=2)
    receiver.status = 500
    failed = sender.send(1, receiver.url(), {"n": 1})
    assert (failed.delivered, failed.status_code) == (False, 500)
    assert "500" in (failed.error or "")
    refused = sender.send(2, f"http://127.0.0.1:{free_port()}/cb", {"n": 2})
    assert not refused.delivered and refused.status_code is None
    assert "ConnectionRefused" in (refused.error or "")
    unsupported = sender.send(3, "ftp://example.org/x", {})
    assert not unsupported.delivered
    sender.close()


def test_a_silent_callback_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts the connection, never answers
    try:
        sender = HttpCallbackSender(timeout=0.3)
        result = sender.send(1, f"http://127.0.0.1:{listener.getsockname()[1]}/cb", {})
        assert not result.delivered
        assert "timed out" in (result.error or "")
    finally:
        listener.close()


def test_a_keep_alive_connection_closed_by_the_peer_is_replaced() -> None:
    """The first request's connection is closed by the server; the second must still go."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    bodies: list[bytes] = []

    def serve_one_request_per_connection() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(rest) < length:
                rest += conn.recv(4096)
            bodies.append(rest)
            # Keep-alive promised, then the connection is closed right away: it goes stale.
            conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            conn.close()

    thread = threading.Thread(target=serve_one_request_per_connection, daemon=True)
    thread.start()
    try:
        sender = HttpCallbackSender(timeout=2)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/cb"
        assert sender.send(1, url, {"n": 1}).delivered
        thread.join(0.2)
        assert sender.send(2, url, {"n": 2}).delivered
        thread.join(2)
        assert bodies == [b'{"n":1}', b'{"n":2}']
        sender.close()
    finally:
        listener.close()
