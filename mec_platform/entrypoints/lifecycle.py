"""The lifecycle process: runs MEC 010-2 operation occurrences on Podman and reconciles the
platform's records with the containers Podman has, at start and every few seconds.

HTTP requests only record occurrences and wake this process; several lifecycle processes may
run against one PostgreSQL database (occurrences are leased), though one per host is usual.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from urllib.parse import urlsplit

from mec_platform import logs
from mec_platform.bootstrap import Platform, bootstrap
from mec_platform.config import Settings
from mec_platform.errors import PlatformError
from mec_platform.lifecycle.containers import ContainerPlan
from mec_platform.lifecycle.reconcile import Reconciler
from mec_platform.lifecycle.runner import OperationRunner, RunnerOptions
from mec_platform.lifecycle.runtime import NetworkInfo
from mec_platform.notifications.wakeup import WakeupListener, wakeup_path
from mec_platform.registry.model import JsonObject
from mec_platform.sensors.app_mqtt import container_environment

log = logging.getLogger("mec_platform.lifecycle")

POLL_EVERY = 0.5


def app_api_root(settings: Settings, network: NetworkInfo) -> str:
    """The platform's API root as app containers see it: the network's gateway by default."""
    if settings.app_api_root_override:
        return settings.app_api_root_override.rstrip("/")
    scheme = "https" if settings.tls else "http"
    return f"{scheme}://{network.gateway}:{settings.port}"


@dataclass
class LifecycleProcess:
    """The runner and the reconciler of one process."""

    platform: Platform
    runner: OperationRunner
    reconciler: Reconciler

    def reconcile(self) -> None:
        """One reconciliation pass; a runtime or database outage is logged, not fatal."""
        try:
            report = self.reconciler.run()
        except PlatformError as exc:
            log.error("reconciliation skipped", extra={"detail": exc.detail})
            return
        if report.died or report.missing or report.restarted:
            log.info(
                "reconciled",
                extra={
                    "died": report.died,
                    "missing": report.missing,
                    "restarted": report.restarted,
                },
            )

    def step(self) -> None:
        """Start what is waiting; a database outage is logged and retried."""
        try:
            self.runner.step()
        except PlatformError as exc:
            log.error("could not claim operations", extra={"detail": exc.detail})


def _mqtt_environment(
    settings: Settings, platform: Platform, plan: ContainerPlan
) -> Callable[[str, JsonObject], dict[str, str]] | None:
    # Apps reach the broker on the host they reach the APIs on (the app network's gateway).
    if settings.sensors.broker == "off":
        return None
    host = urlsplit(plan.app_api_root).hostname or settings.mqtt_host
    return container_environment(platform.app_mqtt, host)


def build_lifecycle(settings: Settings, platform: Platform | None = None) -> LifecycleProcess:
    """Wire the runner and the reconciler (also used by tests and benchmarks)."""
    platform = platform or bootstrap(settings)
    network = platform.runtime.ensure_network(settings.app_network, settings.app_subnet)
    plan = ContainerPlan(
        network=settings.app_network,
        app_api_root=app_api_root(settings, network),
        auth_enabled=settings.auth_enabled,
    )
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    runner = OperationRunner(
        platform.uows,
        platform.runtime,
        platform.apps,
        platform.auth.credentials,
        platform.lcm_notifier,
        plan,
        platform.clock,
        RunnerOptions(
            owner=owner,
            concurrency=settings.lifecycle_concurrency,
            default_graceful_timeout=settings.graceful_timeout,
        ),
        notify_worker=platform.wakeup,
        mqtt_environment=_mqtt_environment(settings, platform, plan),
    )
    reconciler = Reconciler(
        platform.uows,
        platform.runtime,
        platform.lcm_notifier,
        restart_limit=settings.restart_limit,
        notify_worker=platform.wakeup,
        wind_down=lambda app_id: platform.apps.wind_down(app_id, revoke_credentials=False),
    )
    return LifecycleProcess(platform, runner, reconciler)


def _build_when_ready(settings: Settings, stop: threading.Event) -> LifecycleProcess | None:
    # Podman may still be starting (serve starts both): wait for it rather than die.
    pause = 0.2
    while not stop.is_set():
        try:
            return build_lifecycle(settings)
        except PlatformError as exc:
            log.warning("container runtime not ready; waiting", extra={"detail": exc.detail})
            stop.wait(pause)
            pause = min(pause * 2, 5.0)
    return None


def run(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT."""
    logs.configure(settings.log_level, settings.log_json)
    wake = threading.Event()
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()
        wake.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    process = _build_when_ready(settings, stop)
    if process is None:
        return 0
    listener = WakeupListener(wakeup_path(settings.database_url, "lifecycle"), wake.set).start()
    log.info("lifecycle process started", extra={"network": settings.app_network})
    next_reconcile = 0.0
    try:
        while not stop.is_set():
            wake.clear()
            if time.monotonic() >= next_reconcile:
                process.reconcile()
                next_reconcile = time.monotonic() + settings.reconcile_interval
            process.step()
            wake.wait(POLL_EVERY)
    finally:
        listener.close()
        process.runner.close(wait=True)
        process.platform.close()
    log.info("lifecycle process stopped")
    return 0
