"""Keeps the app network's bridge on the host, with its gateway address, while the platform
runs: netavark creates the bridge with the first container and deletes it with the last, but
the HTTP server must listen on the gateway address before any app runs, and a socket bound
to an address that vanished does not receive again. A veth pair attached to the bridge makes
it never empty, so netavark leaves it (and its address) alone."""

from __future__ import annotations

import ipaddress
import logging
import subprocess

from mec_platform.errors import PlatformError
from mec_platform.lifecycle.runtime import NetworkInfo

log = logging.getLogger("mec_platform.serve")


def _ip(*arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *arguments], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise PlatformError(f"ip {' '.join(arguments)}: {result.stderr.strip()}")
    return result


def anchor_name(interface: str) -> str:
    """The host end of the anchor pair (interface names have at most 15 characters)."""
    return f"umec-{interface}"[:15]


def anchor_bridge(network: NetworkInfo) -> None:
    """Create the bridge with the gateway address (unless it exists) and attach the anchor."""
    if not network.interface or not network.gateway:
        raise PlatformError(f"network {network.name}: Podman reports no bridge or gateway")
    bridge = network.interface
    prefix = ipaddress.ip_network(network.subnet, strict=False).prefixlen
    if _ip("link", "show", bridge, check=False).returncode != 0:
        _ip("link", "add", bridge, "type", "bridge")
    addresses = _ip("-o", "addr", "show", "dev", bridge).stdout
    if f" {network.gateway}/" not in addresses:
        _ip("addr", "add", f"{network.gateway}/{prefix}", "dev", bridge)
    _ip("link", "set", bridge, "up")
    anchor = anchor_name(bridge)
    if _ip("link", "show", anchor, check=False).returncode != 0:
        _ip("link", "add", anchor, "type", "veth", "peer", "name", f"{anchor[:13]}-p")
    _ip("link", "set", anchor, "master", bridge)
    _ip("link", "set", anchor, "up")
    log.info("app network bridge anchored", extra={"bridge": bridge, "gateway": network.gateway})
