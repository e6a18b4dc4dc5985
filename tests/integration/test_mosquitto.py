"""Integration tests of the managed Mosquitto (a real 2.0 broker on a free loopback port):
password hashes, authentication, topic rights, persistence, process supervision."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mec_platform.mqtt.accounts import (
    MqttAccount,
    app_account,
    device_account,
    hash_password,
    system_account,
)
from mec_platform.mqtt.mosquitto import BrokerError, MosquittoBroker
from mec_platform.mqtt.mosquitto_config import BrokerSettings
from tests.support.mosquitto import Collector, ManagedBroker, Refused, connect, disconnect
from tests.support.net import free_port, wait_until

PASSWORD = "s3cret-" + uuid.uuid4().hex


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_hash_matches_mosquitto_passwd(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(path), "alice", PASSWORD], check=True)
    written = path.read_text().strip().split(":", 1)[1]
    salt = base64.b64decode(written.split("$")[3])
    assert hash_password(PASSWORD, salt=salt) == written


def test_only_the_right_password_gets_in(tmp_path: Path) -> None:
    user = unique("sys")
    with ManagedBroker(tmp_path, [system_account(user, hash_password(PASSWORD), ())]) as broker:
        with pytest.raises(Refused) as anonymous:
            connect(broker.port)
        with pytest.raises(Refused) as wrong:
            connect(broker.port, user, PASSWORD + "x")
        with pytest.raises(Refused) as stranger:
            connect(broker.port, unique("nobody"), PASSWORD)
        for refused in (anonymous, wrong, stranger):
            assert str(refused.value.reason) == "Not authorized"
        disconnect(connect(broker.port, user, PASSWORD))


@pytest.fixture
def sensors_and_app(tmp_path: Path) -> Iterator[tuple[ManagedBroker, str, str, str, str]]:
    """A broker with devices `mine` and `other`, an app reading `mine`'s temperature and an
    operator reading everything (to see what gets through at all)."""
    mine, other, app, spy = unique("s"), unique("s"), unique("app"), unique("op")
    hashed = hash_password(PASSWORD)
    accounts = [
        device_account(mine, hashed),
        device_account(other, hashed),
        app_account(app, hashed, [f"sensors/{mine}/temperature"]),
        system_account(spy, hashed, ["#"]),
    ]
    with ManagedBroker(tmp_path, accounts) as broker:
        yield broker, mine, other, app, spy


def publish(port: int, user: str, messages: list[tuple[str, bytes]]) -> None:
    """Publish at QoS 1 and wait for every PUBACK (Mosquitto acks refused ones too)."""
    client = connect(port, user, PASSWORD)
    for topic, payload in messages:
        client.publish(topic, payload, qos=1).wait_for_publish(5)
    disconnect(client)


def test_app_receives_only_the_sensor_topics_it_may_read(
    sensors_and_app: tuple[ManagedBroker, str, str, str, str],
) -> None:
    broker, mine, other, app, _spy = sensors_and_app
    inbox = Collector(connect(broker.port, app, PASSWORD), ["sensors/#"])
    publish(broker.port, other, [(f"sensors/{other}/temperature", b"1")])
    publish(broker.port, mine, [(f"sensors/{mine}/humidity", b"2")])
    publish(broker.port, mine, [(f"sensors/{mine}/temperature", b"3")])
    # One publisher per topic: the last message arriving alone shows the others never will.
    assert inbox.wait_count(1) == [(f"sensors/{mine}/temperature", b"3")]


def test_app_publishes_under_its_own_tree_only(
    sensors_and_app: tuple[ManagedBroker, str, str, str, str],
) -> None:
    broker, mine, _other, app, spy = sensors_and_app
    everything = Collector(connect(broker.port, spy, PASSWORD), ["#"])
    own = Collector(connect(broker.port, app, PASSWORD), [f"apps/{app}/#"])
    outside = [(f"apps/{unique('x')}/out", b"a"), (f"sensors/{mine}/temperature", b"b")]
    publish(broker.port, app, [*outside, ("elsewhere", b"c"), (f"apps/{app}/out", b"d")])
    assert everything.wait_count(1) == [(f"apps/{app}/out", b"d")]
    assert own.wait_count(1) == [(f"apps/{app}/out", b"d")]


def test_device_publishes_under_its_own_topics_only(
    sensors_and_app: tuple[ManagedBroker, str, str, str, str],
) -> None:
    broker, mine, other, _app, spy = sensors_and_app
    everything = Collector(connect(broker.port, spy, PASSWORD), ["#"])
    device = connect(broker.port, mine, PASSWORD)
    own = Collector(device, [f"sensors/{mine}/#"])  # granted, but a device reads nothing
    publish(
        broker.port,
        mine,
        [
            (f"sensors/{other}/temperature", b"1"),
            (f"apps/{unique('x')}/in", b"2"),
            (f"sensors/{mine}/$status", b"online"),
            (f"sensors/{mine}/temperature", b"21.5"),
        ],
    )
    assert everything.wait_count(2) == [
        (f"sensors/{mine}/$status", b"online"),
        (f"sensors/{mine}/temperature", b"21.5"),
    ]
    assert own.messages == []


def test_persistent_session_keeps_queued_messages_across_a_restart(tmp_path: Path) -> None:
    app, client_id = unique("app"), unique("cid")
    with ManagedBroker(tmp_path, [app_account(app, hash_password(PASSWORD), ())]) as broker:
        subscriber = connect(broker.port, app, PASSWORD, client_id=client_id, clean_session=False)
        Collector(subscriber, [f"apps/{app}/#"])
        disconnect(subscriber)
        sent = [(f"apps/{app}/q", str(n).encode()) for n in range(5)]
        publish(broker.port, app, sent)
        broker.restart()
        inbox = Collector()
        connect(
            broker.port,
            app,
            PASSWORD,
            client_id=client_id,
            clean_session=False,
            on_message=inbox.on_message,
        )
        assert inbox.wait_count(5) == sent
        publish(broker.port, app, [(f"apps/{app}/q", b"after")])
        assert inbox.wait_count(6)[-1] == (f"apps/{app}/q", b"after")


def test_start_stop_and_restart(tmp_path: Path) -> None:
    broker = ManagedBroker(tmp_path, [])
    assert not broker.broker.running and broker.pid is None
    try:
        broker.start()
        pid = broker.pid
        broker.start()  # already running: nothing happens
        assert broker.pid == pid and broker.broker.running
        broker.restart()
        assert broker.pid not in (None, pid)
        assert "New connection from 127.0.0.1" in broker.log_path.read_text()
    finally:
        broker.stop()
    assert broker.pid is None and not broker.broker.running
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", broker.port)) != 0
    broker.stop()  # stopping twice is fine


def test_a_port_another_server_listens_on_is_refused(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = BrokerSettings((("127.0.0.1", taken.getsockname()[1]),), tmp_path)
        broker = MosquittoBroker(settings)
        with pytest.raises(BrokerError, match="already in use"):
            broker.start()
    assert not broker.running


def test_a_broker_that_cannot_listen_raises_with_its_log(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))  # bound, not listening: only the bind fails
        settings = BrokerSettings((("127.0.0.1", taken.getsockname()[1]),), tmp_path)
        broker = MosquittoBroker(settings)
        with pytest.raises(BrokerError, match=r"exited at start: .*Address already in use"):
            broker.start()
    assert not broker.running


def test_a_missing_binary_raises(tmp_path: Path) -> None:
    settings = BrokerSettings((("127.0.0.1", free_port()),), tmp_path)
    with pytest.raises(BrokerError, match="not installed"):
        MosquittoBroker(settings, binary=str(tmp_path / "no-mosquitto")).start()


def test_broker_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    port = free_port()
    script = (
        "import sys, time\nfrom pathlib import Path\n"
        "from mec_platform.mqtt.mosquitto import MosquittoBroker\n"
        "from mec_platform.mqtt.mosquitto_config import BrokerSettings\n"
        f"b = MosquittoBroker(BrokerSettings((('127.0.0.1', {port}),), Path({str(tmp_path)!r})))\n"
        "b.start()\nprint(b.pid, flush=True)\ntime.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2]
    )
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    parent.stdout.close()
    wait_until(lambda: not _alive(pid), timeout=10)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(os.geteuid() != 0, reason="Mosquitto only changes user when started as root")
def test_as_root_the_broker_runs_as_user_mosquitto(tmp_path: Path) -> None:
    # A folder every parent of which others may enter, as /var/lib/umec is.
    folder = Path(tempfile.mkdtemp(prefix="umec-mqtt-test-", dir="/var/tmp"))
    folder.chmod(0o755)
    try:
        user = unique("app")
        accounts: list[MqttAccount] = [app_account(user, hash_password(PASSWORD), ())]
        with ManagedBroker(folder, accounts) as broker:
            assert Path(f"/proc/{broker.pid}").stat().st_uid != 0
            inbox = Collector(connect(broker.port, user, PASSWORD), [f"apps/{user}/#"])
            other = unique("app")
            broker.apply([*accounts, app_account(other, hash_password(PASSWORD), ())])
            wait_until(lambda: _connects(broker.port, other), timeout=5)
            publish(broker.port, user, [(f"apps/{user}/x", b"1")])
            inbox.wait_count(1)
            broker.restart()
            disconnect(connect(broker.port, other, PASSWORD))
    finally:
        subprocess.run(["rm", "-rf", str(folder)], check=True)


def _connects(port: int, user: str) -> bool:
    try:
        disconnect(connect(port, user, PASSWORD))
    except Refused:
        return False
    return True
