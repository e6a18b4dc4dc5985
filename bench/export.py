"""What the export costs: messages per second forwarded to the upstream broker by the running
exporter against a bare paho relay, and how long a 100,000-message backlog takes to drain
after an upstream outage.

Brokers: the box's managed Mosquitto (accounts and ACLs, as the platform runs it) and a plain
upstream Mosquitto, both on free loopback ports. The exporter is `mec-platform export` as in a
deployment; the baseline relay is a separate Python process with two paho clients that
subscribes on the box's broker (QoS 1, acknowledged by paho at once, nothing on disk) and
republishes upstream with QoS 1 and the same window of 200 messages in flight. Each runs on
its own topic tree, so both stay connected throughout and neither sees the other's messages.

Live: `--rounds` times, in turns, one publisher process sends `--messages` QoS 1 messages to
the box's broker; a subscriber on the upstream broker records arrivals. The rate is arrivals
per second from the first to the last arrival, so process start-up does not count.

Drain: the upstream broker is stopped, `--backlog` messages are published and queued by the
exporter (timed: its intake rate), then the upstream broker is started again and the time
until the subscriber saw every message is taken; the exporter's reconnect back-off (up to
10 s) is reported apart from the drain itself.

    python -m bench.export
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from statistics import median
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import LoadMonitor, verdict, workspace, write_result
from mec_platform.mqtt.accounts import AclRule, MqttAccount, hash_password, new_password
from tests.support.export_helpers import PUBLISHER, BoxBroker, ExporterProcess
from tests.support.mosquitto import PlainBroker
from tests.support.net import wait_until

TARGET = 0.5  # exporter / relay messages per second
EXPORT_TREE = "bench/exp"
RELAY_TREE = "bench/relay"
RELAY_USER = "bench-relay"
WINDOW = 200


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="live rounds of each (3)")
    parser.add_argument("--messages", type=int, default=20_000, help="per live round (20000)")
    parser.add_argument("--backlog", type=int, default=100_000, help="drained backlog (100000)")
    return parser.parse_args(argv)


class Arrivals:
    """A persistent-session subscriber on the upstream broker: per topic, the distinct
    payloads seen and the times of the first and latest arrival."""

    def __init__(self, port: int) -> None:
        self._seen: dict[str, set[bytes]] = {}
        self._times: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"bench-sub-{uuid.uuid4().hex[:8]}",
            clean_session=False,
        )
        self.client.reconnect_delay_set(0.05, 0.2)  # type: ignore[arg-type]
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("bench/#", 1)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        with self._lock:
            self._seen.setdefault(message.topic, set()).add(bytes(message.payload))
            times = self._times.setdefault(message.topic, [now, now])
            times[1] = now

    def count(self, topic: str) -> int:
        with self._lock:
            return len(self._seen.get(topic, ()))

    def window(self, topic: str) -> tuple[float, float]:
        with self._lock:
            first, last = self._times[topic]
            return first, last

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _spawn(*role: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.export", *role], stdout=subprocess.PIPE, text=True
    )


def _publish(box: BoxBroker, topic: str, count: int) -> float:
    """Publish `count` QoS 1 messages from a separate process; seconds until all were taken."""
    began = time.perf_counter()
    proc = _spawn("publish", str(box.port), box.publisher_password, topic, str(count))
    assert proc.wait(600) == 0, "publisher failed"
    return time.perf_counter() - began


def _live_round(box: BoxBroker, arrivals: Arrivals, tree: str, count: int) -> float:
    topic = f"{tree}/{uuid.uuid4().hex[:8]}"
    _publish(box, topic, count)
    wait_until(lambda: arrivals.count(topic) >= count, 300, 0.01)
    first, last = arrivals.window(topic)
    return (count - 1) / (last - first)


def _measure_live(box: BoxBroker, arrivals: Arrivals, args: argparse.Namespace) -> dict[str, Any]:
    for tree in (EXPORT_TREE, RELAY_TREE):  # warm-up: both paths subscribed and running
        _live_round(box, arrivals, tree, 500)
    rates: dict[str, list[float]] = {"exporter": [], "relay": []}
    for number in range(args.rounds):
        sides = [("exporter", EXPORT_TREE), ("relay", RELAY_TREE)]
        for name, tree in sides if number % 2 == 0 else sides[::-1]:
            rates[name].append(_live_round(box, arrivals, tree, args.messages))
    return {
        name: {"per_round": [round(r) for r in values], "median": round(median(values))}
        for name, values in rates.items()
    }


def _measure_drain(
    box: BoxBroker,
    upstream: PlainBroker,
    arrivals: Arrivals,
    exporter: ExporterProcess,
    count: int,
) -> dict[str, Any]:
    topic = f"{EXPORT_TREE}/drain-{uuid.uuid4().hex[:8]}"
    upstream.stop()
    began = time.perf_counter()
    published = _publish(box, topic, count)
    wait_until(lambda: exporter.status()[0].backlog >= count, 600, 0.05)
    queued = time.perf_counter() - began
    started = time.perf_counter()
    upstream.start()
    wait_until(lambda: arrivals.count(topic) >= count, 600, 0.01)
    done = time.perf_counter()
    first, _ = arrivals.window(topic)
    return {
        "messages": count,
        "publish_s": round(published, 2),
        "queued_s": round(queued, 2),
        "intake_per_s": round(count / queued),
        "total_s": round(done - started, 2),
        "reconnect_s": round(first - started, 2),
        "drain_s": round(done - first, 2),
        "drain_per_s": round(count / (done - first)),
    }


def measure(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    relay_password = new_password()
    relay_account = MqttAccount(
        RELAY_USER, hash_password(relay_password), (AclRule("read", f"{RELAY_TREE}/#"),)
    )
    data_dir = folder / "box"
    with (
        BoxBroker(data_dir, (f"{EXPORT_TREE}/#",), (relay_account,)) as box,
        PlainBroker(folder / "upstream") as upstream,
    ):
        arrivals = Arrivals(upstream.port)
        exporter = ExporterProcess(
            data_dir,
            box.port,
            MEC_EXPORT_URL=f"mqtt://127.0.0.1:{upstream.port}",
            MEC_EXPORT_TOPICS=f"{EXPORT_TREE}/#",
            MEC_EXPORT_WINDOW=str(WINDOW),
            MEC_LOG_LEVEL="WARNING",
        ).start()
        relay = _spawn("relay", str(box.port), relay_password, str(upstream.port))
        try:
            exporter.wait_connected()
            assert relay.stdout is not None and relay.stdout.readline().strip() == "ready"
            live = _measure_live(box, arrivals, args)
            relay.send_signal(signal.SIGTERM)
            relay.wait(30)
            drain = _measure_drain(box, upstream, arrivals, exporter, args.backlog)
        finally:
            relay.kill()
            exporter.stop()
            arrivals.close()
    return {"live": live, "drain": drain}


def _report(result: dict[str, Any], args: argparse.Namespace) -> float:
    live, drain = result["live"], result["drain"]
    ratio = round(float(live["exporter"]["median"]) / float(live["relay"]["median"]), 3)
    print(
        f"live, {args.messages} messages x {args.rounds} rounds: exporter "
        f"{live['exporter']['median']} msg/s (rounds {live['exporter']['per_round']}) vs bare "
        f"paho relay {live['relay']['median']} msg/s (rounds {live['relay']['per_round']}); "
        f"ratio = {ratio:.3f}  (target >= {TARGET}: {verdict(ratio, TARGET, True)})"
    )
    print(
        f"backlog of {drain['messages']}: queued in {drain['queued_s']} s with upstream down "
        f"({drain['intake_per_s']} msg/s; publisher done after {drain['publish_s']} s); after "
        f"upstream start: first message {drain['reconnect_s']} s (reconnect back-off), all "
        f"{drain['total_s']} s; drain itself {drain['drain_s']} s ({drain['drain_per_s']} msg/s)"
    )
    return ratio


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    monitor = LoadMonitor()
    with workspace("export") as tmp:
        result = measure(tmp, args)
    load = monitor.end()
    ratio = _report(result, args)
    path = write_result(
        "export",
        {
            "machine_load": load,
            **result,
            "ratio": ratio,
            "target": f">= {TARGET}",
            "args": vars(args),
        },
    )
    print(f"wrote {path.relative_to(path.parents[2])}")
    return 0


# -- helper processes ------------------------------------------------------------------------
def _publisher(port: str, password: str, topic: str, count: str) -> int:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex}")
    client.username_pw_set(PUBLISHER, password)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", int(port))
    client.loop_start()
    # paho's packet ids wrap at 65535: keep far fewer messages than that waiting in paho.
    waiting: deque[mqtt.MQTTMessageInfo] = deque()
    for i in range(int(count)):
        waiting.append(client.publish(topic, str(i).encode(), qos=1))
        if len(waiting) >= 20_000:
            waiting.popleft().wait_for_publish(300)
    for info in waiting:
        info.wait_for_publish(300)
    client.disconnect()
    client.loop_stop()
    return 0


def _relay(box_port: str, password: str, upstream_port: str) -> int:
    out = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-relay-{uuid.uuid4().hex}")
    out.max_inflight_messages_set(WINDOW)
    out.connect("127.0.0.1", int(upstream_port))
    out.loop_start()
    subscribed = threading.Event()
    inbound = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{RELAY_USER}-{uuid.uuid4()}")
    inbound.username_pw_set(RELAY_USER, password)

    def forward(_c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        out.publish(message.topic, message.payload, 1, message.retain)

    inbound.on_message = forward
    inbound.on_subscribe = lambda *_: subscribed.set()
    inbound.connect("127.0.0.1", int(box_port))
    inbound.subscribe(f"{RELAY_TREE}/#", 1)
    inbound.loop_start()
    assert subscribed.wait(10)
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    inbound.disconnect()
    inbound.loop_stop()
    out.disconnect()
    out.loop_stop()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "publish":
        raise SystemExit(_publisher(*sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "relay":
        raise SystemExit(_relay(*sys.argv[2:]))
    raise SystemExit(main())
