"""Real Mosquitto brokers for tests, on free loopback ports: the platform's managed broker
(accounts and ACLs) and a plain anonymous one (an upstream broker); paho clients for them."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from mec_platform.mqtt.accounts import MqttAccount
from mec_platform.mqtt.mosquitto import MosquittoBroker, die_with_parent, find_mosquitto
from mec_platform.mqtt.mosquitto_config import BrokerSettings
from tests.support.net import free_port


class ManagedBroker:
    """The platform's MosquittoBroker with the given accounts on a free port; a context
    manager that starts and stops it (or call `start`/`stop`)."""

    def __init__(self, directory: Path, accounts: Sequence[MqttAccount] = ()) -> None:
        self.port = free_port()
        self.settings = BrokerSettings(
            listeners=(("127.0.0.1", self.port),), state_dir=directory / f"broker-{self.port}"
        )
        self.broker = MosquittoBroker(self.settings)
        self.broker.apply(accounts)

    def __enter__(self) -> ManagedBroker:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self.broker.pid

    @property
    def log_path(self) -> Path:
        return self.broker.log_path

    def start(self) -> ManagedBroker:
        self.broker.start()
        return self

    def apply(self, accounts: Sequence[MqttAccount]) -> bool:
        return self.broker.apply(accounts)

    def restart(self) -> None:
        self.broker.restart()

    def stop(self) -> None:
        self.broker.stop()


class PlainBroker:
    """An anonymous Mosquitto with persistence, as an upstream broker looks; `stop` and
    `start` keep its port and its persisted sessions."""

    def __init__(self, directory: Path | None = None, port: int | None = None) -> None:
        self.directory = directory or Path(tempfile.mkdtemp(prefix="upstream-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.config = self.directory / "mosquitto.conf"
        self.log_path = self.directory / "mosquitto.log"
        # `user root`: a pytest folder is private to root, so user mosquitto could not
        # write the persistence file there (ignored when the tests do not run as root).
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\nuser root\n"
            f"persistence true\npersistence_location {self.directory}/\n"
            "max_queued_messages 0\nmax_inflight_messages 1000\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PlainBroker:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> PlainBroker:
        binary = find_mosquitto()
        assert binary is not None, "mosquitto is not installed"
        parent = os.getpid()
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [binary, "-c", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=lambda: die_with_parent(parent),
            )
        wait_listening(self.port)
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def wait_listening(port: int, timeout: float = 10) -> None:
    """Until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


class Refused(Exception):
    """The broker refused the connection; `reason` is its CONNACK reason code."""

    def __init__(self, reason: ReasonCode | None) -> None:
        super().__init__(f"connection refused: {reason}")
        self.reason = reason


def connect(
    port: int,
    username: str | None = None,
    password: str | None = None,
    client_id: str | None = None,
    clean_session: bool = True,
    timeout: float = 5,
    on_message: Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None] | None = None,
) -> mqtt.Client:
    """A connected MQTT 3.1.1 paho client with its network loop running; Refused if not.

    `on_message` is installed before connecting, so messages a persistent session had
    queued (sent right after CONNACK) are not missed.
    """
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id or "", clean_session=clean_session
    )
    if username is not None:
        client.username_pw_set(username, password)
    outcome: dict[str, ReasonCode] = {}
    done = threading.Event()

    def on_connect(_c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        outcome["reason"] = reason
        done.set()

    def on_disconnect(_c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        outcome.setdefault("reason", reason)
        done.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    reason = outcome.get("reason") if done.wait(timeout) else None
    if reason is None or reason.is_failure or not client.is_connected():
        client.disconnect()
        client.loop_stop()
        raise Refused(reason)
    client.on_connect = None
    client.on_disconnect = None
    return client


def disconnect(client: mqtt.Client) -> None:
    """Disconnect cleanly and stop the client's network loop."""
    client.disconnect()
    client.loop_stop()


class Collector:
    """Records (topic, payload) of received messages in arrival order.

    `Collector(client, topics)` subscribes the client (QoS 1 unless given); `Collector()`
    makes one to pass as `connect(..., on_message=collector.on_message)` first.
    `granted` holds the SUBACK reason codes of the last subscription.
    """

    def __init__(
        self, client: mqtt.Client | None = None, topics: Sequence[str] = (), qos: int = 1
    ) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.granted: list[ReasonCode] = []
        self._lock = threading.Lock()
        if client is not None:
            self.subscribe(client, topics, qos)

    def subscribe(self, client: mqtt.Client, topics: Sequence[str], qos: int = 1) -> None:
        """Subscribe `client` to `topics` and record what it receives; waits for the SUBACK."""
        subscribed = threading.Event()

        def on_subscribe(_c: Any, _u: Any, _mid: int, codes: list[ReasonCode], _p: Any) -> None:
            self.granted = list(codes)
            subscribed.set()

        client.on_message = self.on_message
        client.on_subscribe = on_subscribe
        client.subscribe([(topic, qos) for topic in topics])
        assert subscribed.wait(5), "no SUBACK"

    def on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        """paho's message callback: record the message."""
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def wait_count(self, count: int, timeout: float = 10) -> list[tuple[str, bytes]]:
        """The messages once at least `count` arrived; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.01)
        raise AssertionError(f"got {len(self.messages)} of {count} messages: {self.messages}")
