"""The Podman adapter, loaded on first use: podman-py (with requests and rich) costs about a
fifth of a second at start-up, and most processes (admin commands, the notification worker,
the data plane, a platform run without the app lifecycle) never call Podman."""

from __future__ import annotations

import threading
from typing import Any, cast

from mec_platform.lifecycle.runtime import ContainerRuntime


class _DeferredRuntime:
    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._runtime: ContainerRuntime | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._runtime is None:
                from mec_platform.lifecycle.podman_runtime import PodmanRuntime

                self._runtime = PodmanRuntime(self._base_url)
        return getattr(self._runtime, name)


def podman_runtime(base_url: str) -> ContainerRuntime:
    """A ContainerRuntime on the Podman service at `base_url`, connected when first used."""
    return cast(ContainerRuntime, _DeferredRuntime(base_url))
