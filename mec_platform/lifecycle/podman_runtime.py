"""The container runtime port on Podman's REST API (`podman system service`) through podman-py.

Only podman-py's transport (`podman.api.APIClient`: the unix socket, the libpod URL prefix) is
used, with request bodies of our own: its higher-level managers add an inspect after create,
read image archives into memory and drop `nano_cpus`. Each operation costs the fewest round
trips that give its answer (create: one, or two when the runtime picks a host port; start:
two). Nothing is pulled: libpod's create only looks at local images. Every podman-py and
requests exception becomes one of our errors, with Podman's own message as `detail`. A call
that cannot reach the service drops the connection pool, so the next call connects afresh
(the service may have been restarted).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from podman.api import APIClient, frames
from podman.errors import APIError

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
    PortMapping,
    RuntimeUnavailable,
)

DEFAULT_TIMEOUT = 30.0
# Loading an archive of several hundred MB takes a while after the upload has ended.
LOAD_TIMEOUT = 600.0
# The kernel's default CFS period (µs); the quota is the CPU count times it.
CPU_PERIOD = 100_000
_JSON = {"Content-Type": "application/json"}
_TAR = {"Content-Type": "application/x-tar"}
# libpod answers 500 (not 404) when create names a missing image; the cause is this text.
_IMAGE_UNKNOWN = "image not known"
_STATE_IMPROPER = "container state improper"
_STATUSES = {
    "configured": ContainerStatus.CREATED,
    "created": ContainerStatus.CREATED,
    "running": ContainerStatus.RUNNING,
    # Stopping: the process still runs until the stop signal or the timeout ends it.
    "stopping": ContainerStatus.RUNNING,
    "paused": ContainerStatus.PAUSED,
    "stopped": ContainerStatus.STOPPED,
    "exited": ContainerStatus.EXITED,
    "removing": ContainerStatus.REMOVING,
}


class PodmanRuntime:
    """ContainerRuntime on the libpod endpoints of a Podman service at `base_url`."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self._lock = threading.Lock()
        self._client: APIClient | None = self._new_client()

    def version(self) -> str:
        return str(self._json("GET", "/version")["Version"])

    def host_resources(self) -> HostResources:
        host = self._json("GET", "/info")["host"]
        return HostResources(cpus=int(host["cpus"]), memory_bytes=int(host["memTotal"]))

    def load_image(self, archive: Path) -> ImageInfo:
        try:
            stream = archive.open("rb")
        except OSError as exc:
            raise ContainerRuntimeError(f"cannot read image archive {archive}: {exc}") from exc
        with stream:
            # A file object is streamed by requests in blocks, never read whole.
            loaded = self._json(
                "POST", "/images/load", data=stream, headers=_TAR, read=LOAD_TIMEOUT
            )
        names = loaded.get("Names") or []
        if not names:
            raise ContainerRuntimeError(f"Podman loaded no image from {archive.name}")
        return self.image(names[0])

    def image(self, reference: str) -> ImageInfo:
        if not reference.strip():
            raise ImageNotFound("an empty image reference names no image")
        data = self._json("GET", f"/images/{_ref(reference)}/json", missing=ImageNotFound)
        return ImageInfo(data["Id"], tuple(data.get("RepoTags") or ()), int(data.get("Size", 0)))

    def remove_image(self, reference: str) -> None:
        # 404: already gone; 409: a container still uses it (the port says: leave it).
        self._call("DELETE", f"/images/{_ref(reference)}", tolerate=(404, 409))

    def ensure_network(self, name: str, subnet: str | None = None) -> NetworkInfo:
        path = f"/networks/{quote(name, safe='')}/json"
        found = self._call("GET", path, tolerate=(404,))
        if found is not None:
            return _network(found.json())
        body: dict[str, Any] = {"name": name, "driver": "bridge", "dns_enabled": True}
        if subnet is not None:
            body["subnets"] = [{"subnet": subnet}]
        # 409: another process created it between our two calls.
        created = self._call(
            "POST", "/networks/create", data=json.dumps(body), headers=_JSON, tolerate=(409,)
        )
        return _network(created.json() if created is not None else self._json("GET", path))

    def create(self, spec: ContainerSpec) -> ContainerState:
        body = json.dumps(_create_body(spec))
        answer = self._json("POST", "/containers/create", data=body, headers=_JSON)
        container_id = str(answer["Id"])
        if any(port.host_port is None for port in spec.ports):
            # Podman picks free host ports at create time; only an inspect tells which.
            return self.inspect(container_id)
        status, labels, ports = ContainerStatus.CREATED, dict(spec.labels), tuple(spec.ports)
        return ContainerState(container_id, spec.name, spec.image, status, labels, ports=ports)

    def start(self, container_id: str) -> ContainerState:
        self._call("POST", f"/containers/{_id(container_id)}/start", missing=ContainerNotFound)
        return self.inspect(container_id)

    def stop(self, container_id: str, timeout: int) -> ContainerState:
        path = f"/containers/{_id(container_id)}/stop"
        # The answer comes after up to `timeout` seconds of grace: wait that much longer.
        params = {"timeout": timeout}
        self._call(
            "POST", path, params=params, missing=ContainerNotFound, read=self.timeout + timeout
        )
        return self.inspect(container_id)

    def kill(self, container_id: str) -> None:
        path = f"/containers/{_id(container_id)}/kill"
        try:
            self._call("POST", path, params={"signal": "SIGKILL"}, missing=ContainerNotFound)
        except ContainerRuntimeError as exc:
            # A container that does not run has nothing left to kill.
            if isinstance(exc, ContainerNotFound) or _STATE_IMPROPER not in exc.detail:
                raise

    def remove(self, container_id: str, force: bool = True) -> None:
        # force: a running container is killed at once (timeout 0); `stop` is the gentle way.
        params = {"force": force, "v": True, "timeout": 0}
        self._call("DELETE", f"/containers/{_id(container_id)}", params=params, tolerate=(404,))

    def inspect(self, container_id: str) -> ContainerState:
        path = f"/containers/{_id(container_id)}/json"
        return _inspected(self._json("GET", path, missing=ContainerNotFound))

    def list_labelled(self, label: str, value: str | None = None) -> list[ContainerState]:
        wanted = label if value is None else f"{label}={value}"
        params = {"all": True, "filters": json.dumps({"label": [wanted]})}
        return [_listed(item) for item in self._json("GET", "/containers/json", params=params)]

    def logs(self, container_id: str, tail: int = 20) -> str:
        path = f"/containers/{_id(container_id)}/logs"
        params = {"stdout": True, "stderr": True, "tail": tail}
        response = self._call("GET", path, params=params, missing=ContainerNotFound)
        assert response is not None
        # Without a terminal, libpod multiplexes stdout and stderr in 8-byte-headed frames.
        return b"".join(frames(response)).decode(errors="replace")

    def close(self) -> None:
        """Close the pooled connections (the next call opens new ones)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _new_client(self) -> APIClient:
        try:
            return APIClient(self.base_url, timeout=self.timeout)
        except (ValueError, APIError) as exc:
            raise RuntimeUnavailable(f"unusable Podman URL {self.base_url!r}: {exc}") from exc

    def _connection(self) -> APIClient:
        with self._lock:
            if self._client is None:
                self._client = self._new_client()
            return self._client

    def _drop(self, client: APIClient) -> None:
        with self._lock:
            if self._client is client:
                self._client = None
        client.close()

    def _json(self, method: str, path: str, **options: Any) -> Any:
        response = self._call(method, path, **options)
        assert response is not None
        try:
            return response.json()
        except ValueError as exc:
            raise ContainerRuntimeError(f"Podman answered {path} with invalid JSON") from exc

    def _call(
        self,
        method: str,
        path: str,
        *,
        missing: type[ContainerRuntimeError] = ContainerRuntimeError,
        tolerate: Sequence[int] = (),
        read: float | None = None,
        **options: Any,
    ) -> Any:
        """The response, or None for a tolerated error status; raises our errors."""
        # A GET is safe to repeat once: the first attempt may have met a connection that the
        # service closed (it restarted) just as the request went out.
        attempts = 2 if method == "GET" else 1
        for attempt in range(attempts):
            client = self._connection()
            try:
                send = getattr(client, method.lower())
                response = send(path, timeout=(self.timeout, read or self.timeout), **options)
            except APIError as exc:
                _close_failed_sockets(exc)
                self._drop(client)
                if attempt + 1 == attempts:
                    raise self._unreachable(exc) from exc
                continue
            if response.status_code in tolerate:
                return None
            if response.status_code >= 400:
                raise _refused(response, missing)
            return response
        raise AssertionError("unreachable")

    def _unreachable(self, exc: APIError) -> RuntimeUnavailable:
        cause = exc.__cause__
        if isinstance(cause, requests.Timeout):
            return RuntimeUnavailable(f"Podman at {self.base_url} did not answer in time")
        reason = str(exc)
        while cause is not None:  # the innermost OSError says why: refused, no such file...
            reason = getattr(cause, "strerror", None) or reason
            cause = cause.__cause__ or cause.__context__
        return RuntimeUnavailable(f"Podman at {self.base_url} cannot be reached: {reason}")


def _close_failed_sockets(error: BaseException) -> None:
    """Close the sockets the frames of a failed connect still hold.

    podman-py's UDSSocket.connect raises without closing its socket (docker-py has the same
    slip, fixed by its PR #3356), which costs a descriptor until garbage collection and then
    a ResourceWarning; the failed frames are the only place that socket is referenced from.
    """
    seen: BaseException | None = error
    while seen is not None:
        trace = seen.__traceback__
        while trace is not None:
            for value in trace.tb_frame.f_locals.values():
                if isinstance(value, socket.socket):
                    value.close()
            trace = trace.tb_next
        seen = seen.__cause__ or seen.__context__


def _refused(response: Any, missing: type[ContainerRuntimeError]) -> ContainerRuntimeError:
    """Our error for a libpod error answer, quoting Podman's message."""
    try:
        body = response.json()
        cause, message = str(body.get("cause", "")), str(body.get("message", ""))
    except (ValueError, AttributeError):
        cause, message = "", ""
    message = message or response.text.strip() or f"HTTP {response.status_code}"
    if response.status_code == 404:
        return missing(message)
    if cause == _IMAGE_UNKNOWN:
        return ImageNotFound(message)
    return ContainerRuntimeError(message)


def _ref(reference: str) -> str:
    # Image references keep their slashes, colon and @: libpod's route takes them as they are.
    return quote(reference, safe="/:@")


def _id(container_id: str) -> str:
    return quote(container_id, safe="")


def _create_body(spec: ContainerSpec) -> dict[str, Any]:
    """libpod's SpecGenerator for one app container."""
    body: dict[str, Any] = {
        "name": spec.name,
        "image": spec.image,
        "labels": dict(spec.labels),
        "env": dict(spec.environment),
        "netns": {"nsmode": "bridge"},
        "networks": {spec.network: {"aliases": list(spec.aliases)}},
        "portmappings": [_port_body(port) for port in spec.ports],
        "stop_timeout": spec.stop_timeout,
    }
    limits: dict[str, Any] = {}
    if spec.cpus is not None:
        limits["cpu"] = {"quota": round(spec.cpus * CPU_PERIOD), "period": CPU_PERIOD}
    if spec.memory_bytes is not None:
        limits["memory"] = {"limit": spec.memory_bytes}
    if limits:
        body["resource_limits"] = limits
    if spec.command is not None:
        body["command"] = list(spec.command)
    return body


def _port_body(port: PortMapping) -> dict[str, Any]:
    # Host port 0 asks Podman to pick a free one.
    return {
        "container_port": port.container_port,
        "host_port": port.host_port or 0,
        "host_ip": port.host_ip,
        "protocol": port.protocol,
    }


def _network(data: Mapping[str, Any]) -> NetworkInfo:
    subnets = data.get("subnets") or [{}]
    first = subnets[0]
    return NetworkInfo(
        name=str(data["name"]),
        subnet=str(first.get("subnet", "")),
        gateway=str(first.get("gateway", "")),
        dns_enabled=bool(data.get("dns_enabled", False)),
        interface=str(data.get("network_interface") or "") or None,
    )


def _status(text: str) -> ContainerStatus:
    return _STATUSES.get(text.lower(), ContainerStatus.UNKNOWN)


def _exit_code(status: ContainerStatus, code: Any) -> int | None:
    # Only a container that ran and ended has an exit code; Podman reports 0 before that.
    finished = status in (ContainerStatus.STOPPED, ContainerStatus.EXITED)
    return int(code) if finished and code is not None else None


def _inspected(data: Mapping[str, Any]) -> ContainerState:
    """A ContainerState from libpod's container inspect answer."""
    state = data.get("State") or {}
    status = _status(str(state.get("Status", "")))
    settings = data.get("NetworkSettings") or {}
    bindings = settings.get("Ports") or (data.get("HostConfig") or {}).get("PortBindings") or {}
    return ContainerState(
        container_id=str(data["Id"]),
        name=str(data.get("Name", "")),
        image=str(data.get("ImageName") or data.get("Image", "")),
        status=status,
        labels=dict((data.get("Config") or {}).get("Labels") or {}),
        exit_code=_exit_code(status, state.get("ExitCode")),
        ip_address=_ip_address(settings),
        ports=_bound_ports(bindings),
        started_at=_timestamp(state.get("StartedAt")),
        finished_at=_timestamp(state.get("FinishedAt")),
    )


def _ip_address(settings: Mapping[str, Any]) -> str | None:
    for network in (settings.get("Networks") or {}).values():
        if network.get("IPAddress"):
            return str(network["IPAddress"])
    return None


def _bound_ports(bindings: Mapping[str, Any]) -> tuple[PortMapping, ...]:
    """`{"8080/tcp": [{"HostIp": ..., "HostPort": "41234"}]}` as PortMappings."""
    ports = []
    for key, hosts in bindings.items():
        number, _, protocol = key.partition("/")
        for host in hosts or ():
            ip = host.get("HostIp") or "0.0.0.0"  # empty: every address of the host
            ports.append(PortMapping(int(number), protocol or "tcp", int(host["HostPort"]), ip))
    return tuple(ports)


def _timestamp(value: Any) -> str | None:
    # Go's zero time (year 1) means "never".
    if not value or str(value).startswith("0001-"):
        return None
    return str(value)


def _epoch(seconds: Any) -> str | None:
    # The list answer gives Unix seconds, negative (Go's zero time) for "never".
    if not isinstance(seconds, int) or seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _listed(item: Mapping[str, Any]) -> ContainerState:
    """A ContainerState from one entry of libpod's container list (no IP address in it)."""
    status = _status(str(item.get("State", "")))
    ports = tuple(_listed_port(port) for port in item.get("Ports") or ())
    return ContainerState(
        container_id=str(item["Id"]),
        name=str((item.get("Names") or [""])[0]),
        image=str(item.get("Image", "")),
        status=status,
        labels=dict(item.get("Labels") or {}),
        exit_code=_exit_code(status, item.get("ExitCode")),
        ports=ports,
        started_at=_epoch(item.get("StartedAt")),
        finished_at=_epoch(item.get("ExitedAt")),
    )


def _listed_port(port: Mapping[str, Any]) -> PortMapping:
    protocol = port.get("protocol") or "tcp"
    host_ip = port.get("host_ip") or "0.0.0.0"
    return PortMapping(int(port["container_port"]), protocol, int(port["host_port"]), host_ip)
