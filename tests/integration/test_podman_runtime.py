"""PodmanRuntime against a real `podman system service` on a temporary socket: images, the
app network, the container lifecycle with everything a ContainerSpec asks for (checked with
the podman command line too), Podman's refusals as our errors, and a service restart that
leaves containers running and reachable."""

from __future__ import annotations

import ipaddress
import random
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mec_platform.lifecycle.podman_runtime import PodmanRuntime
from mec_platform.lifecycle.podman_service import PodmanService
from mec_platform.lifecycle.runtime import (
    INSTANCE_LABEL,
    MANAGED_LABEL,
    PLATFORM_NAME,
    ContainerNotFound,
    ContainerRuntimeError,
    ContainerSpec,
    ContainerStatus,
    ImageNotFound,
    NetworkInfo,
    PortMapping,
    RuntimeUnavailable,
)
from tests.support.net import free_port, wait_until
from tests.support.podman import (
    build_busybox_image,
    inspect_container,
    podman_cli,
    podman_env,
    remove_containers,
    running_podman_service,
)

MiB = 1024 * 1024
RUN_LABEL = "io.umec.test-run"
Names = Callable[[], str]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def runtime(podman_service: PodmanService) -> Iterator[PodmanRuntime]:
    """A client of the session's Podman service (tests/support/podman.py, via conftest)."""
    client = PodmanRuntime(podman_service.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def image(busybox_image: str) -> str:
    return busybox_image


@pytest.fixture(scope="module")
def network(runtime: PodmanRuntime) -> Iterator[NetworkInfo]:
    """An app network of this module's own, its subnet picked by Podman."""
    info = runtime.ensure_network(unique("mec-test-net"))
    yield info
    podman_cli("network", "rm", "--force", info.name, check=False)


@pytest.fixture
def names() -> Iterator[Names]:
    """New unique container names; every container named so is removed after the test."""
    made: list[str] = []

    def new() -> str:
        made.append(unique("mec-test"))
        return made[-1]

    yield new
    remove_containers(*made)


def app_spec(name: str, image: str, network: NetworkInfo, **changes: Any) -> ContainerSpec:
    labels = {MANAGED_LABEL: PLATFORM_NAME, INSTANCE_LABEL: name, **changes.pop("labels", {})}
    return ContainerSpec(name=name, image=image, network=network.name, labels=labels, **changes)


def wait_status(runtime: PodmanRuntime, name: str, *wanted: ContainerStatus) -> None:
    wait_until(lambda: runtime.inspect(name).status in wanted, timeout=20)


def test_version_and_host_resources(runtime: PodmanRuntime) -> None:
    info = podman_cli("info", "--format", "{{.Version.Version}} {{.Host.CPUs}} {{.Host.MemTotal}}")
    version, cpus, memory = info.stdout.split()
    assert runtime.version() == version
    resources = runtime.host_resources()
    assert (resources.cpus, resources.memory_bytes) == (int(cpus), int(memory))
    assert resources.cpus >= 1 and resources.memory_bytes > 64 * MiB


@pytest.mark.parametrize("archive_format", ["docker-archive", "oci-archive"])
def test_load_image_from_an_archive(
    runtime: PodmanRuntime, image: str, tmp_path: Path, archive_format: str
) -> None:
    tag = f"localhost/{unique('mec-test-load')}:1"
    archive = tmp_path / "image.tar"
    podman_cli("tag", image, tag)
    podman_cli("save", "--quiet", "--format", archive_format, "--output", str(archive), tag)
    podman_cli("untag", tag, tag)
    try:
        loaded = runtime.load_image(archive)
        assert tag in loaded.names
        assert loaded.image_id == runtime.image(image).image_id
        assert loaded.size > 1 * MiB  # the busybox binary alone is about 2 MB
    finally:
        runtime.remove_image(tag)
    with pytest.raises(ImageNotFound):
        runtime.image(tag)
    assert runtime.image(image).image_id == loaded.image_id  # only the tag went


def test_loading_something_else_quotes_podman(runtime: PodmanRuntime, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is no image archive\n" * 100)
    with pytest.raises(ContainerRuntimeError) as raised:
        runtime.load_image(junk)
    assert "supported image formats" in raised.value.detail
    with pytest.raises(ContainerRuntimeError, match="cannot read image archive"):
        runtime.load_image(tmp_path / "missing.tar")


def test_image_lookup(runtime: PodmanRuntime, image: str) -> None:
    found = runtime.image(image)
    assert image in found.names
    expected = podman_cli("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
    assert found.image_id == expected
    unknown = f"localhost/{unique('no-such-image')}:1"
    with pytest.raises(ImageNotFound) as raised:
        runtime.image(unknown)
    assert "image not known" in raised.value.detail
    for bad in ("Not A Reference", "", "localhost/UPPER:1"):
        with pytest.raises(ImageNotFound):
            runtime.image(bad)
    runtime.remove_image(unknown)  # absent: nothing happens


def test_an_image_in_use_is_kept(
    runtime: PodmanRuntime, network: NetworkInfo, names: Names
) -> None:
    # An image of its own (one name only): removing a second name would just untag.
    tag = build_busybox_image(f"localhost/{unique('mec-test-inuse')}:1")
    try:
        container = runtime.create(app_spec(names(), tag, network))
        runtime.remove_image(tag)
        assert list(runtime.image(tag).names) == [tag]
        runtime.remove(container.container_id)
        runtime.remove_image(tag)
        with pytest.raises(ImageNotFound):
            runtime.image(tag)
    finally:
        podman_cli("rmi", "--force", tag, check=False)


def test_ensure_network_is_idempotent(runtime: PodmanRuntime) -> None:
    name = unique("mec-test-net")
    subnet = ipaddress.ip_network(f"10.{random.randint(200, 250)}.{random.randint(0, 255)}.0/24")
    try:
        first = runtime.ensure_network(name, str(subnet))
        assert first.name == name and first.subnet == str(subnet) and first.dns_enabled
        assert ipaddress.ip_address(first.gateway) == next(subnet.hosts())
        assert runtime.ensure_network(name, str(subnet)) == first
        assert runtime.ensure_network(name) == first  # an existing network is kept as it is
        shown = podman_cli("network", "inspect", "--format", "{{.DNSEnabled}} {{.Driver}}", name)
        assert shown.stdout.split() == ["true", "bridge"]
    finally:
        podman_cli("network", "rm", "--force", name, check=False)


def test_a_network_without_subnet_gets_one(network: NetworkInfo) -> None:
    subnet = ipaddress.ip_network(network.subnet)
    assert ipaddress.ip_address(network.gateway) in subnet
    assert network.dns_enabled


def test_create_and_start_apply_the_spec(
    runtime: PodmanRuntime, image: str, network: NetworkInfo, names: Names
) -> None:
    name, alias = names(), unique("svc")
    fixed = free_port()
    environment = {"MEC_APP_INSTANCE_ID": name, "MEC_API_ROOT": "http://10.0.0.1:8080/x y"}
    # busybox httpd serves /www in the background; the shell stays PID 1 for the stop trap.
    serve = "trap 'exit 0' TERM; httpd -p 8080 -h /www; while :; do sleep 1 & wait $!; done"
    command = ["/bin/sh", "-c", f"mkdir /www && echo hello > /www/index.html && {serve}"]
    ports = [PortMapping(8080), PortMapping(8081, "udp", fixed)]
    limits = {"cpus": 0.5, "memory_bytes": 64 * MiB, "stop_timeout": 7}
    labels = {"io.umec.extra": "yes"}
    spec = app_spec(
        name,
        image,
        network,
        environment=environment,
        aliases=[alias],
        ports=ports,
        command=command,
        labels=labels,
        **limits,
    )

    created = runtime.create(spec)
    assert (created.name, created.image, created.status) == (name, image, ContainerStatus.CREATED)
    assert created.labels == spec.labels and created.exit_code is None
    picked = {(p.container_port, p.protocol): p for p in created.ports}
    assert picked[(8081, "udp")] == PortMapping(8081, "udp", fixed, "127.0.0.1")
    http_port = picked[(8080, "tcp")].host_port
    assert http_port is not None and picked[(8080, "tcp")].host_ip == "127.0.0.1"

    started = runtime.start(created.container_id)
    assert started.running and started.started_at is not None and started.finished_at is None
    assert started.container_id == created.container_id and started.labels == spec.labels
    assert sorted(started.ports, key=str) == sorted(created.ports, key=str)
    assert started.ip_address is not None
    assert ipaddress.ip_address(started.ip_address) in ipaddress.ip_network(network.subnet)
    assert runtime.inspect(name) == started

    seen: Any = inspect_container(name)
    assert {f"{k}={v}" for k, v in environment.items()} <= set(seen["Config"]["Env"])
    assert seen["HostConfig"]["Memory"] == 64 * MiB
    assert (seen["HostConfig"]["CpuQuota"], seen["HostConfig"]["CpuPeriod"]) == (50_000, 100_000)
    assert seen["Config"]["StopTimeout"] == 7
    assert {"Name": "RLIMIT_NOFILE", "Soft": 1024, "Hard": 1024} in seen["HostConfig"]["Ulimits"]
    assert alias in seen["NetworkSettings"]["Networks"][network.name]["Aliases"]

    page = f"http://127.0.0.1:{http_port}/index.html"
    wait_until(lambda: _answers(page), timeout=10)
    assert httpx.get(page).text == "hello\n"
    # aardvark-dns answers the alias on the app network.
    looked_up = podman_cli("exec", name, "nslookup", alias)
    assert started.ip_address in looked_up.stdout


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_stop_ends_a_cooperative_container_at_once(
    runtime: PodmanRuntime, image: str, network: NetworkInfo, names: Names
) -> None:
    state = runtime.create(app_spec(names(), image, network))
    runtime.start(state.container_id)
    began = time.monotonic()
    stopped = runtime.stop(state.container_id, timeout=10)
    assert time.monotonic() - began < 5
    assert stopped.status in (ContainerStatus.EXITED, ContainerStatus.STOPPED)
    assert stopped.exit_code == 0 and stopped.finished_at is not None and not stopped.running
    assert runtime.stop(state.container_id, timeout=10).exit_code == 0  # stopped: no error


def test_stop_kills_after_the_timeout(
    runtime: PodmanRuntime, image: str, network: NetworkInfo, names: Names
) -> None:
    stubborn = ["/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"]
    state = runtime.create(app_spec(names(), image, network, command=stubborn))
    runtime.start(state.container_id)
    began = time.monotonic()
    stopped = runtime.stop(state.container_id, timeout=1)
    assert 1 <= time.monotonic() - began < 10
    assert stopped.exit_code == 137  # 128 + SIGKILL


def test_kill(runtime: PodmanRuntime, image: str, network: NetworkInfo, names: Names) -> None:
    state = runtime.create(app_spec(names(), image, network))
    runtime.kill(state.container_id)  # never started: nothing to kill
    runtime.start(state.container_id)
    runtime.kill(state.container_id)
    wait_status(runtime, state.name, ContainerStatus.EXITED, ContainerStatus.STOPPED)
    assert runtime.inspect(state.name).exit_code == 137
    runtime.kill(state.container_id)
    with pytest.raises(ContainerNotFound):
        runtime.kill(unique("mec-test-missing"))


def test_remove(runtime: PodmanRuntime, image: str, network: NetworkInfo, names: Names) -> None:
    state = runtime.create(app_spec(names(), image, network))
    runtime.start(state.container_id)
    with pytest.raises(ContainerRuntimeError) as refused:
        runtime.remove(state.container_id, force=False)
    assert "cannot remove container" in refused.value.detail
    began = time.monotonic()
    runtime.remove(state.container_id)
    assert time.monotonic() - began < 5
    with pytest.raises(ContainerNotFound) as raised:
        runtime.inspect(state.container_id)
    assert "no such container" in raised.value.detail
    runtime.remove(state.container_id)  # gone already: nothing happens
    runtime.remove(unique("mec-test-missing"), force=False)


def test_list_labelled_returns_only_our_containers(
    runtime: PodmanRuntime, image: str, network: NetworkInfo, names: Names
) -> None:
    run = unique("run")
    first, second, other, foreign = names(), names(), names(), names()
    for name in (first, second):
        runtime.create(app_spec(name, image, network, labels={RUN_LABEL: run}))
    runtime.create(app_spec(other, image, network, labels={RUN_LABEL: unique("run")}))
    podman_cli("create", "--name", foreign, "--label", RUN_LABEL, image)
    started = runtime.start(first)

    listed = {state.name: state for state in runtime.list_labelled(RUN_LABEL, run)}
    assert set(listed) == {first, second}
    assert listed[first].status is ContainerStatus.RUNNING
    assert listed[first].container_id == started.container_id
    assert listed[first].started_at is not None and listed[first].image == image
    assert listed[second].status is ContainerStatus.CREATED and listed[second].exit_code is None
    assert listed[second].labels[INSTANCE_LABEL] == second
    assert [s.name for s in runtime.list_labelled(INSTANCE_LABEL, second)] == [second]
    everything = {state.name for state in runtime.list_labelled(RUN_LABEL)}
    assert {first, second, other, foreign} <= everything
    managed = {state.name for state in runtime.list_labelled(MANAGED_LABEL, PLATFORM_NAME)}
    assert {first, second, other} <= managed and foreign not in managed
    assert runtime.list_labelled(RUN_LABEL, unique("nobody")) == []


def test_logs(runtime: PodmanRuntime, image: str, network: NetworkInfo, names: Names) -> None:
    chatty = ["/bin/sh", "-c", "echo one; echo two >&2; sleep 0.1; echo three; exit 3"]
    state = runtime.create(app_spec(names(), image, network, command=chatty))
    runtime.start(state.container_id)
    wait_status(runtime, state.name, ContainerStatus.EXITED, ContainerStatus.STOPPED)
    assert runtime.inspect(state.name).exit_code == 3
    assert runtime.logs(state.container_id, tail=1) == "three\n"
    assert sorted(runtime.logs(state.container_id).splitlines()) == ["one", "three", "two"]
    with pytest.raises(ContainerNotFound):
        runtime.logs(unique("mec-test-missing"))


def test_unknown_image_leaves_nothing_behind(
    runtime: PodmanRuntime, network: NetworkInfo, names: Names
) -> None:
    name, unknown = names(), f"localhost/{unique('no-such-image')}:1"
    with pytest.raises(ImageNotFound) as raised:
        runtime.create(app_spec(name, unknown, network))
    assert unknown in raised.value.detail
    assert podman_cli("container", "exists", name, check=False).returncode == 1


def test_refusals_quote_podman(
    runtime: PodmanRuntime, image: str, network: NetworkInfo, names: Names
) -> None:
    name = names()
    runtime.create(app_spec(name, image, network))
    with pytest.raises(ContainerRuntimeError) as taken:
        runtime.create(app_spec(name, image, network))
    assert "already in use" in taken.value.detail
    with pytest.raises(ContainerRuntimeError) as tiny:
        runtime.create(app_spec(names(), image, network, cpus=0.001))
    assert "cfs quota" in tiny.value.detail
    with pytest.raises(ContainerRuntimeError) as no_network:
        runtime.create(app_spec(names(), image, NetworkInfo(unique("nonet"), "", "", True)))
    assert "network not found" in no_network.value.detail
    with pytest.raises(ContainerNotFound):
        runtime.start(unique("mec-test-missing"))


def test_unreachable_service(tmp_path: Path) -> None:
    missing = PodmanRuntime(f"unix://{tmp_path}/missing.sock", timeout=2)
    with pytest.raises(RuntimeUnavailable) as raised:
        missing.version()
    assert "cannot be reached: No such file or directory" in raised.value.detail
    with socket.socket(socket.AF_UNIX) as bound:  # bound, never listening: refused
        bound.bind(str(tmp_path / "deaf.sock"))
        with pytest.raises(RuntimeUnavailable, match="Connection refused"):
            PodmanRuntime(f"unix://{tmp_path}/deaf.sock", timeout=2).inspect("x")
    with pytest.raises(RuntimeUnavailable, match="unusable Podman URL"):
        PodmanRuntime("ftp://example.org/podman")


def test_a_container_outlives_a_service_restart(
    tmp_path: Path, image: str, network: NetworkInfo, names: Names
) -> None:
    with running_podman_service(tmp_path) as private:
        runtime = PodmanRuntime(private.url)
        state = runtime.create(app_spec(names(), image, network))
        started = runtime.start(state.container_id)
        private.stop()
        with pytest.raises(RuntimeUnavailable):
            runtime.inspect(state.container_id)
        assert inspect_container(state.name)["State"]["Status"] == "running"  # type: ignore[index]
        private.start()
        assert runtime.inspect(state.container_id) == started  # the same client reconnects
        assert runtime.stop(state.container_id, timeout=5).exit_code == 0


def test_a_new_service_ends_an_orphaned_one(tmp_path: Path) -> None:
    # A service left behind by a platform killed with SIGKILL, on the socket we want.
    url = f"unix://{tmp_path}/podman.sock"
    command = ["podman", "system", "service", "--time=0", url]
    orphan = subprocess.Popen(command, env=podman_env(), stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _reachable(url), timeout=20)
        with PodmanService(tmp_path / "podman.sock", log=tmp_path / "podman.log") as service:
            assert orphan.wait(timeout=15) == 0  # SIGTERM: a clean exit
            assert PodmanRuntime(service.url).version()
    finally:
        orphan.kill()
        orphan.wait()


def _reachable(url: str) -> bool:
    try:
        return bool(PodmanRuntime(url, timeout=1).version())
    except RuntimeUnavailable:
        return False


def test_a_service_that_cannot_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeUnavailable, match="not installed"):
        PodmanService(tmp_path / "p.sock", podman="no-such-podman").start()
