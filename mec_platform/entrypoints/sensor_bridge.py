"""The sensor bridge process: sensor topics of the box's broker into stored readings, MEC 011
services and threshold notifications; silent sensors suspended. One per host."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence
from types import FrameType

from mec_platform import logs
from mec_platform.bootstrap import bootstrap
from mec_platform.config import Settings
from mec_platform.errors import PlatformError
from mec_platform.mqtt.system_credentials import BRIDGE_USER, system_credentials
from mec_platform.notifications.service import Chore
from mec_platform.sensors.paho_bridge import BridgeOptions, PahoSensorBridge
from mec_platform.sensors.payloads import PayloadLimits
from mec_platform.sensors.topics import SensorTopics

log = logging.getLogger("mec_platform.sensor_bridge")

SWEEP_EVERY = 1.0
PRUNE_EVERY = 60.0


class Chores:
    """Runs each chore when due (its `every` seconds); a failure is logged, not fatal."""

    def __init__(self, chores: Sequence[Chore]) -> None:
        self._last = {chore: float("-inf") for chore in chores}

    def __call__(self) -> None:
        now = time.monotonic()
        for chore, last in self._last.items():
            if now - last < chore.every:
                continue
            self._last[chore] = now
            try:
                chore.run()
            except PlatformError as exc:
                log.error("sensor chore failed", extra={"chore": chore.name, "detail": exc.detail})


def run(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT."""
    logs.configure(settings.log_level, settings.log_json)
    platform = bootstrap(settings)
    sensors = settings.sensors
    password = system_credentials(sensors.mqtt_dir(settings.data_dir))[BRIDGE_USER]
    bridge = PahoSensorBridge(
        platform.sensor_ingest,
        SensorTopics(sensors.topic_pattern),
        BridgeOptions(
            host=sensors.broker_host(settings.mqtt_host),
            port=settings.mqtt_port,
            username=BRIDGE_USER,
            password=password,
        ),
        PayloadLimits(max_bytes=sensors.max_payload),
    )
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    log.info("sensor bridge started", extra={"topics": sensors.topic_pattern})
    try:
        ingest = platform.sensor_ingest
        chores = [
            Chore("silence sweep", SWEEP_EVERY, ingest.sweep),
            Chore("history pruning", PRUNE_EVERY, ingest.prune),
        ]
        bridge.run(stop, Chores(chores))
    finally:
        platform.close()
    log.info("sensor bridge stopped")
    return 0
