"""DNS and traffic rules taking effect on the host, through the running platform.

The platform runs its data plane (started by `serve`): dnsmasq on a free loopback port,
queried with dnspython, and nftables inside a network namespace made by the test, where a
client namespace sends real packets to a listener in the "box" namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mec_platform.dataplane.dns_query import lookup
from tests.e2e.conftest import Stack, run_stack
from tests.support.net import free_port, wait_until
from tests.support.netns import NetnsPair, listener, netns_pair, reach
from tests.support.processes import admin

pytestmark = pytest.mark.e2e

LISTENER_PORT = 8080


def world_searchable_dir() -> Path:
    """dnsmasq reads its hosts file as `nobody`: pytest's tmp_path (0700) would not do."""
    folder = Path(tempfile.mkdtemp(prefix="mec-dns-", dir="/tmp"))
    os.chmod(folder, 0o755)
    return folder


@pytest.fixture
def dns_stack(tmp_path: Path) -> Iterator[tuple[Stack, int]]:
    port = free_port()
    folder = world_searchable_dir()
    try:
        for stack in run_stack(
            f"sqlite:///{tmp_path / 'mec.db'}",
            tmp_path,
            MEC_DATAPLANE="true",
            MEC_TRAFFIC_RULES="false",
            MEC_DNS_PORT=str(port),
            MEC_DNS_DIR=str(folder / "dns"),
        ):
            yield stack, port
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def resolve(port: int, name: str) -> frozenset[str] | None:
    return lookup("127.0.0.1", port, name, "A", 0.5)


def dns_body(name: str, state: str, address: str = "10.20.30.40") -> dict[str, Any]:
    return {
        "dnsRuleId": "web",
        "domainName": name,
        "ipAddressType": "IP_V4",
        "ipAddress": address,
        "ttl": 30,
        "state": state,
    }


def test_dns_rule_resolves_while_active(dns_stack: tuple[Stack, int]) -> None:
    stack, port = dns_stack
    name = f"web-{uuid.uuid4().hex[:6]}.example.mec"
    app = stack.add_app("dns", "--dns-rule", json.dumps(dns_body(name, "INACTIVE")))
    rule = f"{stack.app_api}/applications/{app}/dns_rules/web"
    wait_until(lambda: resolve(port, name) is not None, timeout=15)  # DNS server is up
    assert resolve(port, name) == frozenset()

    for _ in range(3):
        assert stack.http.put(rule, json=dns_body(name, "ACTIVE")).status_code == 200
        started = time.monotonic()
        wait_until(lambda: resolve(port, name) == {"10.20.30.40"}, timeout=1)
        assert time.monotonic() - started < 1
        assert stack.http.put(rule, json=dns_body(name, "INACTIVE")).status_code == 200
        started = time.monotonic()
        wait_until(lambda: resolve(port, name) == frozenset(), timeout=1)
        assert time.monotonic() - started < 1

    # Another application may not take over a name that is being served.
    stack.http.put(rule, json=dns_body(name, "ACTIVE")).raise_for_status()
    rival = stack.add_app("rival", "--dns-rule", json.dumps(dns_body(name, "INACTIVE")))
    taken = stack.http.put(
        f"{stack.app_api}/applications/{rival}/dns_rules/web", json=dns_body(name, "ACTIVE")
    )
    assert taken.status_code == 409

    def metric(name: str) -> float:
        text = stack.http.get(f"{stack.server.root}/metrics").text
        lines = [line for line in text.splitlines() if line.startswith(f"{name} ")]
        return float(lines[0].split()[1])

    wait_until(
        lambda: metric("mec_rules_applied_version") == metric("mec_rules_version"), timeout=5
    )
    assert metric("mec_dns_rules_active") == 1
    # dnsmasq dies: the data plane starts it again with the rules in force.
    subprocess.run(["pkill", "-KILL", "-f", f"dnsmasq .*--port={port} "], check=True)
    wait_until(lambda: resolve(port, name) == {"10.20.30.40"}, timeout=10)
    # The data plane itself is killed: `serve` restarts it, and the new one replaces the
    # orphaned dnsmasq that still holds the port.
    assert stack.server.proc is not None
    found = subprocess.run(
        ["pgrep", "-P", str(stack.server.proc.pid), "-f", "mec_platform.cli dataplane"],
        capture_output=True,
        text=True,
        check=True,
    )
    subprocess.run(["kill", "-KILL", found.stdout.split()[0]], check=True)
    stack.http.put(rule, json=dns_body(name, "ACTIVE", address="10.20.30.41")).raise_for_status()
    wait_until(lambda: resolve(port, name) == {"10.20.30.41"}, timeout=15)
    # The application goes away: its names stop resolving.
    assert admin(stack.env, "app", "remove", app).returncode == 0
    wait_until(lambda: resolve(port, name) == frozenset(), timeout=1)


@pytest.fixture
def netns() -> Iterator[NetnsPair]:
    with netns_pair() as pair:
        yield pair


@pytest.fixture
def filter_stack(tmp_path: Path, netns: NetnsPair) -> Iterator[Stack]:
    yield from run_stack(
        f"sqlite:///{tmp_path / 'mec.db'}",
        tmp_path,
        MEC_DATAPLANE="true",
        MEC_DNS="false",
        MEC_NFT_NETNS=netns.box,
        MEC_NFT_TABLE=f"mec_{uuid.uuid4().hex[:8]}",
    )


def drop_body(state: str, **extra: Any) -> dict[str, Any]:
    return {
        "trafficRuleId": "block",
        "filterType": "FLOW",
        "priority": 10,
        "trafficFilter": [{"dstPort": [str(LISTENER_PORT)], "protocol": ["TCP"]}],
        "action": "DROP",
        "state": state,
        **extra,
    }


def test_traffic_rule_drops_while_active(filter_stack: Stack, netns: NetnsPair) -> None:

    stack = filter_stack
    app = stack.add_app("filtered", "--traffic-rule", json.dumps(drop_body("INACTIVE")))
    rule = f"{stack.app_api}/applications/{app}/traffic_rules/block"

    def passed() -> int:
        return reach(netns.client, netns.box_v4, LISTENER_PORT, attempts=3, timeout=0.3)

    with listener(netns.box, netns.box_v4, LISTENER_PORT):
        assert passed() == 3
        assert stack.http.put(rule, json=drop_body("ACTIVE")).status_code == 200
        wait_until(lambda: passed() == 0, timeout=5)
        # A higher-priority PASSTHROUGH of another application for this client wins.
        allow = {
            "trafficRuleId": "allow",
            "filterType": "FLOW",
            "priority": 1,
            "trafficFilter": [{"srcAddress": [f"{netns.client_v4}/32"]}],
            "action": "PASSTHROUGH",
            "state": "ACTIVE",
        }
        other = stack.add_app("allowing", "--traffic-rule", json.dumps(allow))
        wait_until(lambda: passed() == 3, timeout=5)
        assert admin(stack.env, "app", "remove", other).returncode == 0
        wait_until(lambda: passed() == 0, timeout=5)

        assert stack.http.put(rule, json=drop_body("INACTIVE")).status_code == 200
        wait_until(lambda: passed() == 3, timeout=5)
        unsupported = stack.http.put(
            rule, json=drop_body("ACTIVE", action="DUPLICATE_ENCAPSULATED")
        )
        assert unsupported.status_code == 400
        assert passed() == 3  # nothing changed

        assert stack.http.put(rule, json=drop_body("ACTIVE")).status_code == 200
        wait_until(lambda: passed() == 0, timeout=5)
        assert admin(stack.env, "app", "remove", app).returncode == 0
        wait_until(lambda: passed() == 3, timeout=5)
