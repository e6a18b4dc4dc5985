"""Sensor ingest and publish-to-REST latency of the sensor bridge, against a bare paho
subscriber on the same broker in the same run.

The platform runs as deployed (`mec-platform serve`: its own Mosquitto, the sensor bridge,
SQLite). A publisher process (paho, QoS 1, up to 1,000 messages in flight) sends `--messages`
readings spread over `--sensors` simulated sensors, as fast as the broker takes them. In
turns, `--rounds` times:

- baseline: the readings go to `bench/<sensor>/<quantity>`, which only a bare paho subscriber
  in this process reads (QoS 1, persistent session, acknowledging on receipt); timed from
  the first publish until the subscriber has seen them all;
- bridge: the same readings go to `sensors/<sensor>/<quantity>`; timed from the first
  publish until all are stored (counted in the database), then loss = sent - stored.

Target: bridge/baseline messages/s >= 0.5 with zero loss. Then `--samples` single readings
are published one at a time and `GET /sensors/v1/sensors/{id}/{quantity}` is polled (every
2 ms) until it shows the value: publish-to-REST latency, p50/p99.

    python -m bench.sensors
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import (
    LoadMonitor,
    admin_headers,
    bench_env,
    running,
    summary_ms,
    verdict,
    workspace,
    write_result,
)
from tests.support.net import free_port
from tests.support.processes import PlatformProcess, admin

TARGET = 0.5

PUBLISHER = """
import sys, time, json
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
port, user, password, root, ids, sensors, total = sys.argv[1:8]
sensors, total = int(sensors), int(total)
client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{ids}")
client.username_pw_set(user, password)
client.max_inflight_messages_set(1000)
client.max_queued_messages_set(0)
client.connect("127.0.0.1", int(port))
client.loop_start()
base = time.time() - 3600
infos = []
start = time.time()
for i in range(total):
    payload = json.dumps({"value": i, "unit": "Cel", "time": base + i * 0.001})
    topic = f"{root}/{ids}s{i % sensors:03d}/temperature"
    infos.append(client.publish(topic, payload, qos=1))
for info in infos:
    info.wait_for_publish()
print(start, time.time(), flush=True)
client.disconnect()
client.loop_stop()
"""


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sensors", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of each (3)")
    parser.add_argument("--messages", type=int, default=20_000, help="readings per round")
    parser.add_argument("--sensors", type=int, default=100, help="simulated sensors (100)")
    parser.add_argument("--samples", type=int, default=200, help="latency samples (200)")
    return parser.parse_args(argv)


def _account(env: dict[str, str], name: str, *topics: str) -> str:
    made = admin(env, "mqtt", "add-operator", name, *topics)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the platform's broker never listened on {port}")


def _publish(port: int, password: str, root: str, ids: str, sensors: int, total: int) -> float:
    """Publish in a process of its own; the moment of the first publish."""
    command = [sys.executable, "-c", PUBLISHER, str(port), "bench-pub", password, root, ids]
    out = subprocess.run(
        [*command, str(sensors), str(total)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.split()[0])


class BareSubscriber:
    """The baseline: paho with a persistent QoS 1 session, counting what arrives."""

    def __init__(self, port: int, password: str) -> None:
        self.count = 0
        self.last = 0.0
        ready = threading.Event()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="bench-sub", clean_session=False
        )
        client.username_pw_set("bench-sub", password)
        client.on_message = self._on_message
        client.on_subscribe = lambda *_: ready.set()
        client.on_connect = lambda c, *_: c.subscribe("bench/+/+", qos=1)
        client.connect("127.0.0.1", port)
        client.loop_start()
        if not ready.wait(10):
            raise RuntimeError("the baseline subscriber did not subscribe")
        self.client = client

    def _on_message(self, _c: Any, _u: Any, _m: Any) -> None:
        self.count += 1
        self.last = time.time()

    def round(self, port: int, password: str, sensors: int, total: int, index: int) -> float:
        """Messages per second from the first publish to the last one received."""
        self.count = 0
        start = _publish(port, password, "bench", f"b{index}", sensors, total)
        deadline = time.monotonic() + 120
        while self.count < total and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.count != total:
            raise RuntimeError(f"the baseline saw {self.count} of {total}")
        return total / (self.last - start)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _stored(database: Path, ids: str) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as conn:
        row = conn.execute(
            "SELECT count(*) FROM sensor_readings WHERE sensor_id LIKE ?", (f"{ids}s%",)
        ).fetchone()
    return int(row[0])


def _bridge_round(
    database: Path, port: int, password: str, sensors: int, total: int, index: int
) -> tuple[float, int]:
    """(messages per second from the first publish until all are stored, messages lost)."""
    ids = f"r{index}"
    start = _publish(port, password, "sensors", ids, sensors, total)
    deadline = time.monotonic() + 300
    stored = 0
    while time.monotonic() < deadline:
        stored = _stored(database, ids)
        if stored >= total:
            break
        time.sleep(0.02)
    done = time.time()
    time.sleep(1)
    stored = _stored(database, ids)
    return total / (done - start), total - stored


def _latency(
    root: str, headers: dict[str, str], port: int, password: str, samples: int
) -> list[float]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-latency")
    client.username_pw_set("bench-pub", password)
    client.connect("127.0.0.1", port)
    client.loop_start()
    url = f"{root}/sensors/v1/sensors/lat/temperature"
    seen: list[float] = []
    with httpx.Client(headers=headers, timeout=10) as http:
        for k in range(samples + 5):
            value = float(k + 1)
            begun = time.perf_counter()
            client.publish("sensors/lat/temperature", str(value), qos=1)
            while True:
                response = http.get(url)
                if response.status_code == 200 and response.json().get("value") == value:
                    break
                time.sleep(0.002)
            if k >= 5:  # the first ones create the stream and warm the caches
                seen.append(time.perf_counter() - begun)
    client.disconnect()
    client.loop_stop()
    return seen


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    with workspace("sensors") as folder:
        port = free_port()
        env = bench_env(folder)
        env.update(MEC_MQTT_BROKER="managed", MEC_MQTT_PORT=str(port))
        with running(PlatformProcess(env, workers=2)) as server:
            _wait_port(port)
            publisher = _account(env, "bench-pub", "--write", "sensors/#", "--write", "bench/#")
            reader = _account(env, "bench-sub", "--read", "bench/#")
            time.sleep(1.5)  # the broker process renders new accounts within a second
            headers = admin_headers(env)
            monitor = LoadMonitor()
            baseline = BareSubscriber(port, reader)
            bare: list[float] = []
            bridge: list[float] = []
            lost = 0
            for index in range(args.rounds):
                bare.append(baseline.round(port, publisher, args.sensors, args.messages, index))
                rate, missing = _bridge_round(
                    folder / "mec.db", port, publisher, args.sensors, args.messages, index
                )
                bridge.append(rate)
                lost += missing
                print(
                    f"round {index + 1}: bare paho {bare[-1]:.0f}/s, "
                    f"bridge {rate:.0f}/s, lost {missing}"
                )
            baseline.close()
            latency = _latency(server.root, headers, port, publisher, args.samples)
            load = monitor.end()
    ratio = statistics.median(bridge) / statistics.median(bare)
    result: dict[str, Any] = {
        "messages_per_round": args.messages,
        "sensors": args.sensors,
        "bare_paho_per_s": [round(r, 1) for r in bare],
        "bridge_per_s": [round(r, 1) for r in bridge],
        "ratio_median": round(ratio, 3),
        "lost": lost,
        "verdict": verdict(ratio, TARGET, higher_is_better=True) if lost == 0 else "missed (loss)",
        "publish_to_rest": summary_ms(latency),
        "machine_load": load,
    }
    path = write_result("sensors", result)
    print(
        f"ingest: bridge median {statistics.median(bridge):.0f}/s vs bare paho "
        f"{statistics.median(bare):.0f}/s -> ratio {ratio:.3f} (target >= {TARGET}: "
        f"{result['verdict']}), lost {lost}"
    )
    print(f"publish -> REST: {result['publish_to_rest']}")
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
