"""The sensor bridge process: sensor topics of the box's broker into stored readings, MEC 011
services and threshold notifications; silent sensors suspended. One per host."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from mec_platform import logs
from mec_platform.bootstrap import bootstrap
from mec_platform.config import Settings
from mec_platform.errors import PlatformError
from mec_platform.mqtt.system_credentials import system_credentials
from mec_platform.sensors.paho_bridge import BridgeOptions, PahoSensorBridge
from mec_platform.sensors.payloads import PayloadLimits
from mec_platform.sensors.topics import SensorTopics

log = logging.getLogger("mec_platform.sensor_bridge")

BRIDGE_USER = "umec-sensor-bridge"
SWEEP_EVERY = 1.0
PRUNE_EVERY = 60.0


class Chores:
    """Silence sweep every second, history pruning every minute; failures are logged."""

    def __init__(self, sweep: Callable[[], int], prune: Callable[[], int]) -> None:
        self._jobs = [(SWEEP_EVERY, sweep, 0.0), (PRUNE_EVERY, prune, 0.0)]

    def __call__(self) -> None:
        now = time.monotonic()
        for index, (every, job, last) in enumerate(self._jobs):
            if now - last < every:
                continue
            self._jobs[index] = (every, job, now)
            try:
                job()
            except PlatformError as exc:
                log.error("sensor chore failed", extra={"detail": exc.detail})


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
            host=sensors.listen[0] if sensors.broker == "managed" else settings.mqtt_host,
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
        bridge.run(stop, Chores(platform.sensor_ingest.sweep, platform.sensor_ingest.prune))
    finally:
        platform.close()
    log.info("sensor bridge stopped")
    return 0
