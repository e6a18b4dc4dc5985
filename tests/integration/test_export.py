"""The export against real brokers: the box's managed Mosquitto (accounts and ACLs) and a plain
upstream Mosquitto, with `mec-platform export` as a real process. Outages of either broker
and a killed exporter must lose nothing the box's broker handed over, and keep the order of
first arrivals (QoS 1 may repeat a message around a reconnect)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from mec_platform.mqtt.mosquitto import find_mosquitto
from tests.support.export_helpers import (
    PUBLISHER,
    BoxBroker,
    ExporterProcess,
    TlsUpstream,
    first_arrivals,
    numbers,
    publish_numbered,
)
from tests.support.mosquitto import Collector, PlainBroker, connect, disconnect
from tests.support.net import wait_until

pytestmark = pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed")


@dataclass
class Setup:
    data_dir: Path
    box: BoxBroker
    upstream: PlainBroker
    publisher: mqtt.Client
    collector: Collector
    topic: str

    def exporter(self, **env: str) -> ExporterProcess:
        env.setdefault("MEC_EXPORT_URL", f"mqtt://127.0.0.1:{self.upstream.port}")
        return ExporterProcess(self.data_dir, self.box.port, **env)

    def arrived(self) -> list[int]:
        return numbers(self.collector.messages, self.topic)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    data_dir = tmp_path / "box"
    with BoxBroker(data_dir) as box, PlainBroker(tmp_path / "upstream") as upstream:
        publisher = connect(box.port, PUBLISHER, box.publisher_password)
        collector = Collector()
        # A persistent session: what the exporter sends while this client reconnects after
        # an upstream restart still reaches it.
        watcher = connect(
            upstream.port,
            client_id=f"watch-{uuid.uuid4().hex[:8]}",
            clean_session=False,
            on_message=collector.on_message,
        )
        collector.subscribe(watcher, ["#"])
        sensor = f"s-{uuid.uuid4().hex[:8]}"
        try:
            yield Setup(data_dir, box, upstream, publisher, collector, f"sensors/{sensor}/temp")
        finally:
            disconnect(publisher)
            disconnect(watcher)


def test_messages_flow_with_prefix_retain_and_status(setup: Setup) -> None:
    exporter = setup.exporter(MEC_EXPORT_PREFIX="site-7").start()
    try:
        exporter.wait_connected()
        sensor = setup.topic.split("/")[1]
        setup.publisher.publish(f"sensors/{sensor}/$announce", b'{"quantities":{}}', 1, True)
        setup.publisher.publish(f"apps/{sensor}/x", b"not exported", 1).wait_for_publish(5)
        publish_numbered(setup.publisher, setup.topic, range(300))
        wanted = f"site-7/{setup.topic}"
        wait_until(lambda: len(numbers(setup.collector.messages, wanted)) >= 300, 20)
        assert first_arrivals(numbers(setup.collector.messages, wanted)) == list(range(300))
        assert not any(t.startswith(("apps/", "site-7/apps/")) for t, _ in setup.collector.messages)
        # The announcement stays retained upstream: a newcomer gets it.
        late = Collector()
        newcomer = connect(setup.upstream.port, on_message=late.on_message)
        late.subscribe(newcomer, [f"site-7/sensors/{sensor}/$announce"])
        assert late.wait_count(1)[0][1] == b'{"quantities":{}}'
        disconnect(newcomer)
        exporter.wait_for(lambda status: status.backlog == 0, 10)
        (status,) = exporter.status()
        assert status.connected and status.delivered >= 301
        assert status.upstream == f"mqtt://127.0.0.1:{setup.upstream.port}"
        assert status.topics == ("sensors/#",)
    finally:
        assert exporter.stop() == 0  # SIGTERM: a clean stop
    assert exporter.status()[0].connected is False
    assert '"level": "ERROR"' not in exporter.log_text()


def test_upstream_outage_loses_nothing(setup: Setup) -> None:
    exporter = setup.exporter().start()
    try:
        exporter.wait_connected()
        publish_numbered(setup.publisher, setup.topic, range(100))
        wait_until(lambda: len(setup.arrived()) >= 100, 20)
        setup.upstream.stop()
        publish_numbered(setup.publisher, setup.topic, range(100, 3000))
        # The status file is rewritten every second.
        exporter.wait_for(lambda status: status.last_error is not None)
        down = exporter.wait_for(lambda status: status.backlog == 2900)
        assert not down.connected and "Connection refused" in str(down.last_error)
        assert down.oldest_queued_at is not None and down.oldest_queued_at <= time.time()
        setup.upstream.start()
        wait_until(lambda: len(set(setup.arrived())) >= 3000, 40)
        assert first_arrivals(setup.arrived()) == list(range(3000))
        exporter.wait_for(lambda status: status.backlog == 0, 10)
    finally:
        exporter.stop()


def test_killed_exporter_loses_nothing_acknowledged(setup: Setup) -> None:
    """SIGKILL twice while messages flow in: everything the box's broker accepted arrives,
    first arrivals in publishing order."""
    exporter = setup.exporter().start()
    total = 6000
    feeding = threading.Thread(
        target=publish_numbered, args=(setup.publisher, setup.topic, range(total))
    )
    try:
        exporter.wait_connected()
        feeding.start()
        for _ in range(2):
            before = len(setup.arrived())
            wait_until(lambda: len(setup.arrived()) > before + 500, 20)  # noqa: B023
            exporter.kill()
            exporter.start()
        feeding.join(60)
        wait_until(lambda: len(set(setup.arrived())) >= total, 60)
        exporter.wait_for(lambda status: status.backlog == 0, 20)
    finally:
        feeding.join(60)
        exporter.stop()
    assert first_arrivals(setup.arrived()) == list(range(total))
    assert exporter.status()[0].delivered >= total


def test_box_broker_restart_resumes(setup: Setup) -> None:
    exporter = setup.exporter().start()
    try:
        exporter.wait_connected()
        publish_numbered(setup.publisher, setup.topic, range(200))
        wait_until(lambda: len(setup.arrived()) >= 200, 20)
        setup.box.restart()
        wait_until(setup.publisher.is_connected, 20)
        publish_numbered(setup.publisher, setup.topic, range(200, 400))
        wait_until(lambda: len(set(setup.arrived())) >= 400, 30)
        assert first_arrivals(setup.arrived()) == list(range(400))
    finally:
        exporter.stop()


def test_full_queue_leaves_messages_with_the_box_broker(setup: Setup) -> None:
    exporter = setup.exporter(MEC_EXPORT_QUEUE_LIMIT="50").start()
    try:
        exporter.wait_connected()
        setup.upstream.stop()
        publish_numbered(setup.publisher, setup.topic, range(400))
        exporter.wait_for(lambda status: status.backlog == 50, 20)
        time.sleep(0.5)
        assert exporter.status()[0].backlog == 50  # no more than the limit
        status_file = json.loads((setup.data_dir / "export" / "status.json").read_text())
        wait_until(
            lambda: (
                json.loads((setup.data_dir / "export" / "status.json").read_text())["queue_full"]
                >= 1
            ),
            5,
        )
        assert status_file["dropped"] == 0
        setup.upstream.start()
        wait_until(lambda: len(set(setup.arrived())) >= 400, 40)
        assert first_arrivals(setup.arrived()) == list(range(400))
    finally:
        exporter.stop()
    assert "export queue full" in exporter.log_text()


def test_topics_left_out_of_the_settings_stop_flowing(tmp_path: Path) -> None:
    """The persistent session outlives a run: subscriptions the settings dropped go."""
    data_dir = tmp_path / "box"
    with (
        BoxBroker(data_dir, ("sensors/#", "other/#")) as box,
        PlainBroker(tmp_path / "upstream") as upstream,
    ):
        url = f"mqtt://127.0.0.1:{upstream.port}"
        before = ExporterProcess(
            data_dir, box.port, MEC_EXPORT_URL=url, MEC_EXPORT_TOPICS="sensors/#,other/#"
        ).start()
        before.wait_connected()
        assert before.stop() == 0
        collector = Collector()
        watcher = connect(upstream.port, on_message=collector.on_message)
        collector.subscribe(watcher, ["#"])
        publisher = connect(box.port, PUBLISHER, box.publisher_password)
        after = ExporterProcess(data_dir, box.port, MEC_EXPORT_URL=url).start()
        try:
            after.wait_connected()
            time.sleep(0.5)  # the unsubscription follows the subscription
            publisher.publish("other/x", b"left out", 1).wait_for_publish(5)
            publish_numbered(publisher, "sensors/s1/t", range(20))
            collector.wait_count(20)
            after.wait_for(lambda status: status.delivered >= 20)
            assert [t for t, _ in collector.messages] == ["sensors/s1/t"] * 20
        finally:
            after.stop()
            disconnect(publisher)
            disconnect(watcher)


def test_a_second_exporter_gives_up(setup: Setup) -> None:
    first = setup.exporter().start()
    try:
        first.wait_connected()
        second = setup.exporter().start()
        assert second.proc is not None
        assert second.proc.wait(30) == 1
        assert "another exporter" in second.log_text()
    finally:
        first.stop()


def test_tls_upstream_with_credentials(setup: Setup, tmp_path: Path) -> None:
    """mqtts:// with a user and password in the URL, verified against MEC_EXPORT_CA_FILE."""
    with TlsUpstream(tmp_path / "tls", "site-7", "p@ss:word") as upstream:
        collector = Collector()
        watcher = upstream.client("site-7", "p@ss:word", collector.on_message)
        collector.subscribe(watcher, ["#"])
        exporter = setup.exporter(
            MEC_EXPORT_URL=f"mqtts://site-7:p%40ss%3Aword@localhost:{upstream.port}",
            MEC_EXPORT_CA_FILE=str(upstream.ca_file),
        ).start()
        try:
            status = exporter.wait_connected()
            assert status.upstream == f"mqtts://localhost:{upstream.port}"
            publish_numbered(setup.publisher, setup.topic, range(50))
            wait_until(lambda: len(numbers(collector.messages)) >= 50, 20)
            assert first_arrivals(numbers(collector.messages)) == list(range(50))
        finally:
            exporter.stop()
            disconnect(watcher)
    assert "p@ss" not in exporter.log_text() and "p%40ss" not in exporter.log_text()


@pytest.mark.parametrize(
    ("userinfo", "with_ca", "error"),
    [
        ("site-7:p%40ss%3Aword@", False, "CERTIFICATE_VERIFY_FAILED"),  # system CAs only
        ("site-7:wrong@", True, "refused"),
    ],
)
def test_tls_upstream_refusals_show_in_the_status(
    setup: Setup, tmp_path: Path, userinfo: str, with_ca: bool, error: str
) -> None:
    with TlsUpstream(tmp_path / "tls", "site-7", "p@ss:word") as upstream:
        env = {"MEC_EXPORT_URL": f"mqtts://{userinfo}localhost:{upstream.port}"}
        if with_ca:
            env["MEC_EXPORT_CA_FILE"] = str(upstream.ca_file)
        exporter = setup.exporter(**env).start()
        try:
            exporter.wait_subscribed()
            publish_numbered(setup.publisher, setup.topic, range(5))
            exporter.wait_for(lambda status: error in str(status.last_error))
            assert exporter.wait_for(lambda status: status.backlog == 5).connected is False
        finally:
            exporter.stop()
    assert "wrong" not in exporter.log_text()
