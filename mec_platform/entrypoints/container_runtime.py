"""Brings up the container runtime for `serve`: `podman system service` on the platform's own
socket (unless MEC_PODMAN_URL names one), restarted whenever it ends, and the app network,
whose gateway address the HTTP server also listens on so that app containers reach the APIs."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass

from mec_platform.config import Settings
from mec_platform.entrypoints.bridge_anchor import anchor_bridge
from mec_platform.errors import PlatformError
from mec_platform.lifecycle.podman_runtime import PodmanRuntime
from mec_platform.lifecycle.podman_service import PodmanService
from mec_platform.lifecycle.runtime import ContainerRuntimeError

log = logging.getLogger("mec_platform.serve")

READY_WITHIN = 30.0
CHECK_EVERY = 1.0


class SupervisedPodman:
    """A PodmanService started again when it exits; app containers outlive it meanwhile."""

    def __init__(self, service: PodmanService) -> None:
        self._service = service
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="podman-watch", daemon=True)
        self.restarts = 0

    def start(self) -> SupervisedPodman:
        self._service.start()
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stopping.wait(CHECK_EVERY):
            if self._service.running:
                continue
            log.error("podman system service exited; starting it again")
            try:
                self._service.start()
                self.restarts += 1
            except ContainerRuntimeError as exc:
                log.error("podman system service failed to start", extra={"detail": exc.detail})

    def stop(self) -> None:
        self._stopping.set()
        self._service.stop()


@dataclass
class RuntimeUp:
    """The supervised Podman service (None when external) and the app network's gateway."""

    service: SupervisedPodman | None
    gateway: str | None


def start_container_runtime(settings: Settings) -> RuntimeUp | None:
    """Start Podman's API service and the app network; None when Podman is not usable."""
    service = None
    if os.geteuid() != 0:
        # App networks (bridge, firewall rules) and the app containers need root here.
        log.error("not running as root: the app lifecycle APIs are switched off")
        return None
    if settings.podman_url is None:
        if shutil.which("podman") is None:
            log.error("podman is not installed: the app lifecycle APIs are switched off")
            return None
        podman = PodmanService(
            settings.podman_socket,
            containers_conf=settings.containers_conf,
            log=settings.podman_socket.parent / "podman.log",
        )
        try:
            service = SupervisedPodman(podman).start()
        except ContainerRuntimeError as exc:
            log.error(
                "Podman did not start: app lifecycle switched off", extra={"detail": exc.detail}
            )
            return None
    runtime = PodmanRuntime(settings.podman_api_url)
    deadline = time.monotonic() + READY_WITHIN
    while True:
        try:
            network = runtime.ensure_network(settings.app_network, settings.app_subnet)
            break
        except ContainerRuntimeError as exc:
            if time.monotonic() > deadline:
                log.error(
                    "Podman does not answer: app lifecycle switched off",
                    extra={"detail": exc.detail},
                )
                if service is not None:
                    service.stop()
                return None
            time.sleep(0.2)
    try:
        anchor_bridge(network)
    except PlatformError as exc:
        # Apps still run; they reach the APIs only if the server listens on the gateway.
        log.error("app network bridge not anchored", extra={"detail": exc.detail})
        return RuntimeUp(service, None)
    log.info("container runtime ready", extra={"network": network.name, "gateway": network.gateway})
    return RuntimeUp(service, network.gateway)
