"""How an app instance becomes a container: name, labels, limits, ports, network and the
environment that lets the app find the platform (MEC_API_ROOT, its OAuth2 credentials)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mec_platform.lifecycle.descriptors import requested_resources
from mec_platform.lifecycle.model import LcmInstance
from mec_platform.lifecycle.runtime import (
    APPD_LABEL,
    INSTANCE_LABEL,
    MANAGED_LABEL,
    PLATFORM_NAME,
    ContainerSpec,
    PortMapping,
)
from mec_platform.registry.model import JsonObject

DEFAULT_APP_PORT = 8080


def app_ports(appd: JsonObject) -> list[tuple[str, int, str]]:
    """(name, port, protocol) of appExtCpd[].additionalServiceData[].portData[]."""
    found = []
    for cpd in appd.get("appExtCpd") or []:
        for data in (cpd.get("additionalServiceData") or []) if isinstance(cpd, dict) else []:
            for port in (data.get("portData") or []) if isinstance(data, dict) else []:
                if isinstance(port, dict) and isinstance(port.get("port"), int):
                    protocol = str(port.get("protocol") or "TCP").lower()
                    found.append((str(port.get("name") or ""), port["port"], protocol))
    return found


@dataclass(frozen=True)
class ContainerPlan:
    """The platform-wide part of every app container."""

    network: str
    app_api_root: str
    auth_enabled: bool
    token_path: str = "/oauth2/token"
    publish_ip: str = "127.0.0.1"

    def container_name(self, app_instance_id: str) -> str:
        """One container per instance, named after it."""
        return f"umec-{app_instance_id}"

    def spec(
        self,
        instance: LcmInstance,
        appd: JsonObject,
        params: JsonObject,
        image: str,
        client_secret: str | None,
    ) -> ContainerSpec:
        """The container of one instantiation."""
        cpus, memory_mib = requested_resources(appd, params)
        ports = app_ports(appd)
        app_port = ports[0][1] if ports else DEFAULT_APP_PORT
        return ContainerSpec(
            name=self.container_name(instance.app_instance_id),
            image=image,
            network=self.network,
            labels={
                MANAGED_LABEL: PLATFORM_NAME,
                INSTANCE_LABEL: instance.app_instance_id,
                APPD_LABEL: instance.app_d_id,
            },
            environment=self._environment(instance, app_port, client_secret),
            aliases=_aliases(instance, appd),
            cpus=cpus,
            memory_bytes=memory_mib * 2**20 if memory_mib else None,
            ports=[
                PortMapping(container_port=port, protocol=protocol, host_ip=self.publish_ip)
                for _name, port, protocol in ports
            ],
            stop_timeout=_stop_timeout(appd),
        )

    def _environment(
        self, instance: LcmInstance, app_port: int, client_secret: str | None
    ) -> dict[str, str]:
        env = {
            "MEC_APP_INSTANCE_ID": instance.app_instance_id,
            "MEC_API_ROOT": self.app_api_root,
            "MEC_APP_PORT": str(app_port),
        }
        if self.auth_enabled and client_secret:
            env.update(
                {
                    "MEC_OAUTH2_TOKEN_URL": f"{self.app_api_root}{self.token_path}",
                    "MEC_OAUTH2_CLIENT_ID": instance.app_instance_id,
                    "MEC_OAUTH2_CLIENT_SECRET": client_secret,
                }
            )
        return env


def _aliases(instance: LcmInstance, appd: JsonObject) -> list[str]:
    # Other apps on the platform network reach it by instance id and by a name from its AppD.
    names = [instance.app_instance_id]
    name = str(appd.get("appName") or "").lower()
    cleaned = "".join(c if c.isalnum() or c == "-" else "-" for c in name).strip("-")
    if cleaned and instance.name is None:
        names.append(f"{cleaned}-{instance.app_instance_id[:8]}")
    if instance.name:
        names.append("".join(c if c.isalnum() or c == "-" else "-" for c in instance.name.lower()))
    return [n for n in names if n]


def _stop_timeout(appd: JsonObject) -> int:
    config: Any = appd.get("changeAppInstanceStateOpConfig") or {}
    value = config.get("minGracefulStopTimeout") if isinstance(config, dict) else None
    return int(value) if isinstance(value, int | float) and 0 <= value <= 600 else 10
