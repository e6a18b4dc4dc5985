"""The container runtime port: what the lifecycle needs from Podman (or a fake in unit tests).

Every container the platform creates carries the label ``MANAGED_LABEL=PLATFORM_NAME`` and the
instance label, so reconciliation can tell our containers from anybody else's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from mec_platform.errors import PlatformError

PLATFORM_NAME = "mec-platform"
MANAGED_LABEL = "io.umec.managed-by"
INSTANCE_LABEL = "io.umec.app-instance-id"
APPD_LABEL = "io.umec.appd-id"


class ContainerRuntimeError(PlatformError):
    """The runtime refused or failed an operation; `detail` quotes what it said."""


class RuntimeUnavailable(ContainerRuntimeError):
    """The runtime's API cannot be reached (the service is down or the socket is missing)."""


class ImageNotFound(ContainerRuntimeError):
    """The image reference is not known to the local runtime (no registry is consulted)."""


class ContainerNotFound(ContainerRuntimeError):
    """No container has this id or name."""


class ContainerStatus(StrEnum):
    """Podman's container states, reduced to the ones the lifecycle tells apart."""

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    EXITED = "exited"
    REMOVING = "removing"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PortMapping:
    """A container port published on the host (host_port None: the runtime picks one)."""

    container_port: int
    protocol: str = "tcp"
    host_port: int | None = None
    host_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to create one app container."""

    name: str
    image: str
    network: str
    labels: Mapping[str, str]
    environment: Mapping[str, str] = field(default_factory=dict)
    aliases: Sequence[str] = ()
    cpus: float | None = None
    memory_bytes: int | None = None
    ports: Sequence[PortMapping] = ()
    command: Sequence[str] | None = None
    stop_timeout: int = 10


@dataclass(frozen=True)
class ContainerState:
    """What the runtime reports about one container."""

    container_id: str
    name: str
    image: str
    status: ContainerStatus
    labels: Mapping[str, str]
    exit_code: int | None = None
    ip_address: str | None = None
    ports: Sequence[PortMapping] = ()
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def running(self) -> bool:
        """True while the container's process runs."""
        return self.status is ContainerStatus.RUNNING


@dataclass(frozen=True)
class ImageInfo:
    """A local image: its id (sha256 of its config), the names it carries, its size."""

    image_id: str
    names: Sequence[str]
    size: int


@dataclass(frozen=True)
class NetworkInfo:
    """A runtime network: the gateway address is where containers reach the host."""

    name: str
    subnet: str
    gateway: str
    dns_enabled: bool
    # The host's bridge device (podman's network_interface), when the runtime reports one.
    interface: str | None = None


@dataclass(frozen=True)
class HostResources:
    """What the runtime's host offers, for refusing requests that can never fit."""

    cpus: int
    memory_bytes: int


class ContainerRuntime(Protocol):
    """Podman (through its REST service) or a fake; all calls block until done."""

    def version(self) -> str:
        """The runtime's version; raises RuntimeUnavailable when it cannot be reached."""
        ...

    def host_resources(self) -> HostResources: ...

    def load_image(self, archive: Path) -> ImageInfo:
        """Load a docker-archive or oci-archive tar file; the image it holds."""
        ...

    def image(self, reference: str) -> ImageInfo:
        """A local image by name or id; raises ImageNotFound."""
        ...

    def remove_image(self, reference: str) -> None:
        """Remove a local image; nothing happens when it is absent or still used."""
        ...

    def ensure_network(self, name: str, subnet: str | None = None) -> NetworkInfo:
        """Create the bridge network with DNS unless it exists; its details."""
        ...

    def create(self, spec: ContainerSpec) -> ContainerState:
        """Create (not start) a container; ContainerRuntimeError names what the runtime said."""
        ...

    def start(self, container_id: str) -> ContainerState: ...

    def stop(self, container_id: str, timeout: int) -> ContainerState:
        """SIGTERM (the image's stop signal), then SIGKILL after `timeout` seconds."""
        ...

    def kill(self, container_id: str) -> None: ...

    def remove(self, container_id: str, force: bool = True) -> None:
        """Remove a container; nothing happens when it is already gone."""
        ...

    def inspect(self, container_id: str) -> ContainerState:
        """The container by id or name; raises ContainerNotFound."""
        ...

    def list_labelled(self, label: str, value: str | None = None) -> list[ContainerState]:
        """Every container (running or not) that carries the label (with that value)."""
        ...

    def logs(self, container_id: str, tail: int = 20) -> str:
        """The last lines the container wrote (stdout and stderr), for error reports."""
        ...
