"""An in-memory double of our ContainerRuntime port, for tests of the lifecycle core.

It keeps containers, images and networks in dictionaries and mirrors what the lifecycle relies
on from `podman_runtime.py`: create refuses an unknown image (ImageNotFound) or a name in use,
start and stop report the container afresh, remove of a missing container is a no-op, inspect
of one raises ContainerNotFound. Tests steer it: the next call of an operation can fail with a
given error (`fail_next`), a call can be held at a gate until the test lets it go (`gate`),
and containers can be killed, removed or planted behind the platform's back.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from mec_platform.lifecycle.runtime import (
    ContainerNotFound,
    ContainerRuntimeError,
    ContainerSpec,
    ContainerState,
    ContainerStatus,
    HostResources,
    ImageInfo,
    ImageNotFound,
    NetworkInfo,
    RuntimeUnavailable,
)

GATE_TIMEOUT = 10.0
FIRST_HOST_PORT = 40_000
ROOMY_HOST = HostResources(cpus=8, memory_bytes=16 * 2**30)


@dataclass
class Gate:
    """Holds one call: `entered` is set when the call arrives, it goes on once `release` is."""

    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class FakeContainer:
    """One container: the spec it was created from and its current state."""

    spec: ContainerSpec
    state: ContainerState


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FakeRuntime:
    """ContainerRuntime in memory; every call is recorded in `calls` as (operation, argument)."""

    def __init__(self, host: HostResources | None = ROOMY_HOST) -> None:
        # None: the runtime does not answer host_resources (as when Podman is down).
        self.host = host
        self.containers: dict[str, FakeContainer] = {}
        self.images: dict[str, ImageInfo] = {}
        self.networks: dict[str, NetworkInfo] = {}
        self.calls: list[tuple[str, str]] = []
        self._failures: dict[str, ContainerRuntimeError] = {}
        self._gates: dict[str, Gate] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # -- switches for tests -----------------------------------------------------------------
    def fail_next(self, operation: str, error: ContainerRuntimeError) -> None:
        """The next call of `operation` (create, start, stop, ...) raises `error`, once."""
        with self._lock:
            self._failures[operation] = error

    def gate(self, operation: str) -> Gate:
        """Hold the next call of `operation` until the test sets `release`."""
        gate = Gate()
        with self._lock:
            self._gates[operation] = gate
        return gate

    def add_image(self, reference: str) -> ImageInfo:
        """A local image under this name; its id is derived from the name."""
        image = ImageInfo(f"sha256:{_digest(reference)}", (reference,), 1024)
        with self._lock:
            self.images[image.image_id] = image
        return image

    def kill_behind_back(self, name: str, exit_code: int = 137) -> None:
        """The container's process dies without the platform asking."""
        with self._lock:
            found = self._find(name)
            found.state = replace(
                found.state, status=ContainerStatus.EXITED, exit_code=exit_code, ip_address=None
            )

    def remove_behind_back(self, name: str) -> None:
        """The container is removed without the platform asking."""
        with self._lock:
            del self.containers[self._find(name).state.container_id]

    def plant(self, name: str, labels: Mapping[str, str], running: bool = True) -> ContainerState:
        """A container somebody else created (with whatever labels)."""
        status = ContainerStatus.RUNNING if running else ContainerStatus.EXITED
        state = ContainerState(_digest(name), name, "localhost/other:1", status, dict(labels))
        spec = ContainerSpec(name=name, image=state.image, network="", labels=dict(labels))
        with self._lock:
            self.containers[state.container_id] = FakeContainer(spec, state)
        return state

    def by_name(self, name: str) -> FakeContainer | None:
        """The container of that name, if there is one."""
        with self._lock:
            return next((c for c in self.containers.values() if c.spec.name == name), None)

    def names(self) -> list[str]:
        """Names of every container, sorted."""
        with self._lock:
            return sorted(c.spec.name for c in self.containers.values())

    # -- the port ---------------------------------------------------------------------------
    def version(self) -> str:
        self._enter("version", "")
        return "5.0.0-fake"

    def host_resources(self) -> HostResources:
        self._enter("host_resources", "")
        if self.host is None:
            raise RuntimeUnavailable("fake runtime: host resources unavailable")
        return self.host

    def load_image(self, archive: Path) -> ImageInfo:
        self._enter("load_image", str(archive))
        return self.add_image(f"localhost/{archive.stem}:latest")

    def image(self, reference: str) -> ImageInfo:
        self._enter("image", reference)
        with self._lock:
            return self._image(reference)

    def remove_image(self, reference: str) -> None:
        self._enter("remove_image", reference)
        with self._lock:
            try:
                image = self._image(reference)
            except ImageNotFound:
                return
            used = any(c.spec.image in (image.image_id, *image.names) for c in self._all())
            if not used:
                del self.images[image.image_id]

    def ensure_network(self, name: str, subnet: str | None = None) -> NetworkInfo:
        self._enter("ensure_network", name)
        with self._lock:
            if name not in self.networks:
                self.networks[name] = NetworkInfo(
                    name, subnet or "10.89.0.0/24", "10.89.0.1", True, "podman1"
                )
            return self.networks[name]

    def create(self, spec: ContainerSpec) -> ContainerState:
        self._enter("create", spec.name)
        with self._lock:
            self._image(spec.image)
            if spec.network not in self.networks:
                raise ContainerRuntimeError(f"unable to find network with name {spec.network}")
            if self.by_name(spec.name) is not None:
                raise ContainerRuntimeError(f"the container name {spec.name!r} is already in use")
            number = next(self._ids)
            ports = tuple(
                replace(p, host_port=p.host_port or FIRST_HOST_PORT + number * 10 + i)
                for i, p in enumerate(spec.ports)
            )
            state = ContainerState(
                container_id=_digest(f"{spec.name}#{number}"),
                name=spec.name,
                image=spec.image,
                status=ContainerStatus.CREATED,
                labels=dict(spec.labels),
                ports=ports,
            )
            self.containers[state.container_id] = FakeContainer(spec, state)
            return state

    def start(self, container_id: str) -> ContainerState:
        self._enter("start", container_id)
        with self._lock:
            found = self._find(container_id)
            if not found.state.running:
                address = f"10.89.0.{2 + len(self.containers) % 250}"
                found.state = replace(
                    found.state,
                    status=ContainerStatus.RUNNING,
                    exit_code=None,
                    ip_address=address,
                    started_at="2024-01-01T00:00:00Z",
                )
            return found.state

    def stop(self, container_id: str, timeout: int) -> ContainerState:
        self._enter("stop", f"{container_id} timeout={timeout}")
        with self._lock:
            found = self._find(container_id)
            if found.state.running:
                found.state = replace(
                    found.state, status=ContainerStatus.EXITED, exit_code=0, ip_address=None
                )
            return found.state

    def kill(self, container_id: str) -> None:
        self._enter("kill", container_id)
        with self._lock:
            found = self._find(container_id)
            if found.state.running:
                found.state = replace(found.state, status=ContainerStatus.EXITED, exit_code=137)

    def remove(self, container_id: str, force: bool = True) -> None:
        self._enter("remove", container_id)
        with self._lock:
            try:
                found = self._find(container_id)
            except ContainerNotFound:
                return
            if found.state.running and not force:
                raise ContainerRuntimeError("cannot remove a running container without force")
            del self.containers[found.state.container_id]

    def inspect(self, container_id: str) -> ContainerState:
        self._enter("inspect", container_id)
        with self._lock:
            return self._find(container_id).state

    def list_labelled(self, label: str, value: str | None = None) -> list[ContainerState]:
        self._enter("list_labelled", label)
        with self._lock:
            return [
                c.state
                for c in self._all()
                if label in c.state.labels and value in (None, c.state.labels[label])
            ]

    def logs(self, container_id: str, tail: int = 20) -> str:
        self._enter("logs", container_id)
        with self._lock:
            self._find(container_id)
        return ""

    # -- inside -----------------------------------------------------------------------------
    def _enter(self, operation: str, argument: str) -> None:
        """Record the call, wait at its gate if one is set, raise its planned failure."""
        with self._lock:
            self.calls.append((operation, argument))
            gate = self._gates.pop(operation, None)
        if gate is not None:
            gate.entered.set()
            if not gate.release.wait(GATE_TIMEOUT):
                raise ContainerRuntimeError(f"fake runtime: the {operation} gate was never opened")
        with self._lock:
            failure = self._failures.pop(operation, None)
        if failure is not None:
            raise failure

    def _all(self) -> list[FakeContainer]:
        return list(self.containers.values())

    def _find(self, key: str) -> FakeContainer:
        # Podman takes a container id or a name wherever it takes either.
        found = self.containers.get(key) or self.by_name(key)
        if found is None:
            raise ContainerNotFound(f"no container with name or ID {key!r} found")
        return found

    def _image(self, reference: str) -> ImageInfo:
        for image in self.images.values():
            if reference in (image.image_id, image.image_id.removeprefix("sha256:"), *image.names):
                return image
        raise ImageNotFound(f"{reference}: image not known")
