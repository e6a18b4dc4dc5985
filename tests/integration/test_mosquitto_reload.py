"""Integration tests of account changes on a running Mosquitto 2.0 (SIGHUP reloads), for the
managed broker and for an operator's broker fed through ExternalBroker.

What 2.0.11 does on a reload: clients whose account is gone or whose password changed are
disconnected at once; the others keep their connection and get the new ACL on their next
publish and on every later delivery.
"""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from mec_platform.mqtt.accounts import (
    AclRule,
    MqttAccount,
    app_account,
    device_account,
    hash_password,
    system_account,
)
from mec_platform.mqtt.mosquitto import BrokerError, ExternalBroker, die_with_parent, find_mosquitto
from tests.support.mosquitto import (
    Collector,
    ManagedBroker,
    Refused,
    connect,
    disconnect,
    wait_listening,
)
from tests.support.net import free_port, wait_until

PASSWORD = "pw-" + uuid.uuid4().hex
HASHED = hash_password(PASSWORD)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def dropped(client: mqtt.Client) -> threading.Event:
    """Set when the broker closes the client's connection (paho would then retry: stop it)."""
    event = threading.Event()

    def on_disconnect(*_: Any) -> None:
        event.set()
        client.reconnect_delay_set(60, 120)

    client.on_disconnect = on_disconnect
    return event


def refused_reason(port: int, user: str, password: str = PASSWORD) -> str | None:
    try:
        disconnect(connect(port, user, password))
    except Refused as refused:
        return str(refused.reason)
    return None


def test_removing_an_account_disconnects_its_clients_at_once(tmp_path: Path) -> None:
    gone, stays = unique("s"), unique("app")
    accounts = [device_account(gone, HASHED), app_account(stays, HASHED, [f"sensors/{gone}/#"])]
    with ManagedBroker(tmp_path, accounts) as broker:
        device = connect(broker.port, gone, PASSWORD)
        device_dropped = dropped(device)
        app = connect(broker.port, stays, PASSWORD)
        app_dropped = dropped(app)
        assert broker.apply(accounts[1:])
        assert device_dropped.wait(5)
        assert refused_reason(broker.port, gone) == "Not authorized"
        assert not app_dropped.is_set() and app.is_connected()
        device.loop_stop()
        disconnect(app)


def test_a_new_password_disconnects_and_only_the_new_one_gets_in(tmp_path: Path) -> None:
    app = unique("app")
    with ManagedBroker(tmp_path, [app_account(app, HASHED, ())]) as broker:
        client = connect(broker.port, app, PASSWORD)
        was_dropped = dropped(client)
        assert broker.apply([app_account(app, hash_password("new-" + PASSWORD), ())])
        assert was_dropped.wait(5)
        assert refused_reason(broker.port, app) == "Not authorized"
        assert refused_reason(broker.port, app, "new-" + PASSWORD) is None
        client.loop_stop()


def test_acl_changes_apply_to_connected_clients(tmp_path: Path) -> None:
    sensor, app = unique("s"), unique("app")
    topic = f"sensors/{sensor}/temperature"
    before = [device_account(sensor, HASHED), app_account(app, HASHED, [topic])]
    with ManagedBroker(tmp_path, before) as broker:
        device = connect(broker.port, sensor, PASSWORD)
        client = connect(broker.port, app, PASSWORD)
        was_dropped = dropped(client)
        inbox = Collector(client, [topic, f"apps/{app}/#"])
        device.publish(topic, b"1", qos=1).wait_for_publish(5)
        inbox.wait_count(1)
        # The read right goes: the subscription stays but nothing more is delivered.
        assert broker.apply([before[0], app_account(app, HASHED, ())])
        wait_until(lambda: _delivers(device, client, app, inbox, topic) is False, timeout=5)
        # It comes back: deliveries resume on the same subscription and connection.
        assert broker.apply(before)
        wait_until(lambda: _delivers(device, client, app, inbox, topic), timeout=5)
        assert not was_dropped.is_set()
        disconnect(device)
        disconnect(client)


def _delivers(
    device: mqtt.Client, app: mqtt.Client, name: str, inbox: Collector, topic: str
) -> bool:
    """Whether a reading published now reaches the app; decided by a marker published
    afterwards to the app's own tree (one broker, delivered in order)."""
    seen = len(inbox.messages)
    marker = uuid.uuid4().hex.encode()
    device.publish(topic, b"probe", qos=1).wait_for_publish(5)
    app.publish(f"apps/{name}/marker", marker, qos=1).wait_for_publish(5)
    wait_until(lambda: any(p == marker for _, p in inbox.messages[seen:]), timeout=5)
    return any(p == b"probe" for _, p in inbox.messages[seen:])


def test_a_write_right_granted_applies_to_the_next_publish(tmp_path: Path) -> None:
    writer, reader = unique("op"), unique("sys")
    spy = system_account(reader, HASHED, ["#"])
    without = MqttAccount(writer, HASHED, (AclRule("write", "ops/a"),))
    with ManagedBroker(tmp_path, [spy, without]) as broker:
        inbox = Collector(connect(broker.port, reader, PASSWORD), ["#"])
        client = connect(broker.port, writer, PASSWORD)
        client.publish("ops/b", b"refused", qos=1).wait_for_publish(5)
        client.publish("ops/a", b"marker", qos=1).wait_for_publish(5)
        assert inbox.wait_count(1) == [("ops/a", b"marker")]
        with_b = MqttAccount(writer, HASHED, (AclRule("write", "ops/a"), AclRule("write", "ops/b")))
        assert broker.apply([spy, with_b])
        wait_until(lambda: _publish_reaches(client, inbox, "ops/b"), timeout=5)
        disconnect(client)


def _publish_reaches(client: mqtt.Client, inbox: Collector, topic: str) -> bool:
    seen = len(inbox.messages)
    client.publish(topic, b"now", qos=1).wait_for_publish(5)
    client.publish("ops/a", b"marker", qos=1).wait_for_publish(5)
    wait_until(lambda: ("ops/a", b"marker") in inbox.messages[seen:], timeout=5)
    return (topic, b"now") in inbox.messages[seen:]


def test_apply_rewrites_only_what_changed(tmp_path: Path) -> None:
    accounts = [system_account(unique("sys"), HASHED, ["a/#"])]
    with ManagedBroker(tmp_path, accounts) as broker:
        files = (broker.settings.password_file, broker.settings.acl_file)
        inodes = [path.stat().st_ino for path in files]
        assert not broker.apply(list(accounts))
        assert [path.stat().st_ino for path in files] == inodes
        assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
        assert broker.apply([system_account(accounts[0].username, HASHED, ["b/#"])])
        assert broker.settings.password_file.stat().st_ino == inodes[0]
        assert broker.settings.acl_file.stat().st_ino != inodes[1]


def test_accounts_applied_before_start_are_used(tmp_path: Path) -> None:
    user = unique("sys")
    broker = ManagedBroker(tmp_path, [])
    assert broker.apply([system_account(user, HASHED, ())])  # not running: no signal to send
    with broker:
        assert refused_reason(broker.port, user) is None


@pytest.fixture
def operator_broker(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    """An operator's Mosquitto reading its accounts from `auth/` and writing a PID file."""
    port, auth, pid_file = free_port(), tmp_path / "auth", tmp_path / "mosquitto.pid"
    ExternalBroker(None, auth).apply([])  # the files must exist before Mosquitto starts
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"user root\npid_file {pid_file}\nallow_anonymous false\n"
        f"password_file {auth}/passwords\nacl_file {auth}/acl\nlistener {port} 127.0.0.1\n"
    )
    binary = find_mosquitto()
    assert binary is not None
    parent = os.getpid()
    with open(tmp_path / "mosquitto.log", "ab") as log:
        process = subprocess.Popen(
            [binary, "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: die_with_parent(parent),
        )
    try:
        wait_listening(port)
        wait_until(pid_file.exists, timeout=5)
        yield port, auth, pid_file
    finally:
        process.terminate()
        process.wait(10)


def test_external_broker_gets_files_and_a_reload(operator_broker: tuple[int, Path, Path]) -> None:
    port, auth, pid_file = operator_broker
    user = unique("app")
    external = ExternalBroker(pid_file, auth)
    assert refused_reason(port, user) == "Not authorized"
    assert external.apply([app_account(user, HASHED, ())])
    wait_until(lambda: refused_reason(port, user) is None, timeout=5)
    for path in (external.password_file, external.acl_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        assert path.stat().st_gid == auth.stat().st_gid
    assert not external.apply([app_account(user, HASHED, ())])


def test_external_broker_reports_a_pid_it_cannot_signal(tmp_path: Path) -> None:
    pid_file = tmp_path / "gone.pid"
    pid_file.write_text("not a pid\n")
    with pytest.raises(BrokerError, match="cannot signal"):
        ExternalBroker(pid_file, tmp_path / "auth").apply([system_account("x", HASHED, ())])
