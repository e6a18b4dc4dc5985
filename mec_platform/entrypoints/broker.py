"""The broker process: runs the box's Mosquitto (or feeds an external one) and keeps its
password and ACL files in line with the database.

It renders the accounts at start, whenever another process wakes it (an app got or lost
its credentials, an operator changed an account) and every second, so an app removed by any
path loses its MQTT access at once. A broker that dies is started again.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType

from mec_platform import logs
from mec_platform.bootstrap import bootstrap
from mec_platform.config import Settings
from mec_platform.errors import InvalidInput, PlatformError
from mec_platform.export.model import parse_export_settings
from mec_platform.mqtt.accounts import MqttAccount, hash_password, system_account
from mec_platform.mqtt.mosquitto import BrokerError, ExternalBroker, MosquittoBroker
from mec_platform.mqtt.mosquitto_config import BrokerSettings
from mec_platform.mqtt.system_credentials import BRIDGE_USER, EXPORT_USER, system_credentials
from mec_platform.notifications.wakeup import WakeupListener, wakeup_path
from mec_platform.sensors.mqtt_accounts import enforced_accounts

log = logging.getLogger("mec_platform.broker")

SYNC_EVERY = 1.0
RESTART_PAUSE = 2.0
MAX_PAUSE = 60.0


def system_accounts(settings: Settings) -> list[MqttAccount]:
    """The platform's own accounts: the sensor bridge and the export."""
    passwords = system_credentials(settings.sensors.mqtt_dir(settings.data_dir))
    try:
        export = parse_export_settings(settings.sensors.export_env, socket.gethostname())
    except InvalidInput as exc:
        # A broken export setting stops the export (which says why), never the broker.
        log.error(
            "export settings refused: umec-export reads nothing", extra={"detail": exc.detail}
        )
        export = None
    return [
        system_account(BRIDGE_USER, hash_password(passwords[BRIDGE_USER]), ("sensors/#",)),
        system_account(
            EXPORT_USER,
            hash_password(passwords[EXPORT_USER]),
            export.topics if export is not None else (),
        ),
    ]


def broker_for(settings: Settings) -> MosquittoBroker | ExternalBroker:
    """The managed Mosquitto, or the file writer for an operator's own broker."""
    directory = settings.sensors.mqtt_dir(settings.data_dir)
    if settings.sensors.broker == "external":
        return ExternalBroker(settings.sensors.pid_file, directory / "auth")
    listeners = tuple((host, settings.mqtt_port) for host in settings.sensors.listen)
    return MosquittoBroker(
        BrokerSettings(
            listeners=listeners,
            state_dir=directory / "broker",
            max_queued_messages=settings.sensors.max_queued,
        )
    )


def run(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT; the managed broker stops with this process."""
    logs.configure(settings.log_level, settings.log_json)
    platform = bootstrap(settings)
    system = system_accounts(settings)
    broker = broker_for(settings)

    def accounts() -> list[MqttAccount]:
        with platform.uows() as uow:
            return system + enforced_accounts(uow)

    stop = threading.Event()
    wake = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()
        wake.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    listener = WakeupListener(wakeup_path(settings.database_url, "mqtt"), wake.set).start()
    try:
        broker.apply(accounts())
        pause = RESTART_PAUSE
        if isinstance(broker, MosquittoBroker) and _restart(broker):
            log.info("MQTT broker started", extra={"listeners": list(settings.sensors.listen)})
        while not stop.is_set():
            wake.wait(SYNC_EVERY)
            wake.clear()
            if stop.is_set():
                break
            _sync(broker, accounts)
            if isinstance(broker, MosquittoBroker) and not broker.running:
                # A broker that cannot start (its port taken, say) is retried ever more slowly.
                if stop.wait(pause):
                    break
                pause = RESTART_PAUSE if _restart(broker) else min(pause * 2, MAX_PAUSE)
    finally:
        listener.close()
        if isinstance(broker, MosquittoBroker):
            broker.stop()
        platform.close()
    return 0


def _sync(
    broker: MosquittoBroker | ExternalBroker, accounts: Callable[[], list[MqttAccount]]
) -> None:
    try:
        if broker.apply(accounts()):
            log.info("MQTT accounts changed: broker reloaded")
    except PlatformError as exc:
        log.error("MQTT accounts not rendered", extra={"detail": exc.detail})


def _restart(broker: MosquittoBroker) -> bool:
    """Start the broker; False (and a log line saying why) when it did not start."""
    try:
        broker.start()
    except BrokerError as exc:
        log.error("MQTT broker did not start", extra={"detail": exc.detail})
        return False
    return True
