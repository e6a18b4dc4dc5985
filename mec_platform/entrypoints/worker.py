"""The notification worker process: drains the outbox until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from types import FrameType

from mec_platform import logs
from mec_platform.bootstrap import bootstrap
from mec_platform.config import Settings
from mec_platform.notifications.http_sender import HttpCallbackSender
from mec_platform.notifications.model import RetryPolicy
from mec_platform.notifications.service import Chore, DeliveryOptions, DeliveryWorker
from mec_platform.notifications.wakeup import WakeupListener, wakeup_path
from mec_platform.storage.engine import safe_database_url

log = logging.getLogger("mec_platform.worker")

LIVENESS_SWEEP_EVERY = 1.0
TERMINATION_SWEEP_EVERY = 0.5


def build_worker(settings: Settings) -> DeliveryWorker:
    """Wire a delivery worker from settings (also used by tests)."""
    platform = bootstrap(settings)
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    options = DeliveryOptions(
        owner=owner,
        lease=settings.delivery_lease,
        concurrency=settings.delivery_concurrency,
        poll_interval=settings.worker_poll_interval,
        policy=RetryPolicy(settings.retry_base_delay, settings.retry_max_delay),
    )
    sender = HttpCallbackSender(settings.delivery_timeout)
    liveness = Chore("liveness sweep", LIVENESS_SWEEP_EVERY, platform.registry.sweep_liveness)
    terminations = Chore(
        "graceful termination deadlines",
        TERMINATION_SWEEP_EVERY,
        platform.apps.finish_due_terminations,
    )
    return DeliveryWorker(platform.uows, sender, platform.clock, options, [liveness, terminations])


def run(settings: Settings) -> int:
    """Run until told to stop; in-flight deliveries are finished first."""
    logs.configure(settings.log_level, settings.log_json)
    worker = build_worker(settings)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    log.info(
        "notification worker started", extra={"database": safe_database_url(settings.database_url)}
    )
    listener = WakeupListener(wakeup_path(settings.database_url), worker.wake).start()
    try:
        worker.run(stop)
    finally:
        listener.close()
    log.info("notification worker stopped")
    return 0
