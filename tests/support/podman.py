"""Podman for the tests: a private `podman system service` on a temporary socket, the podman
command line with the platform's containers.conf, and a tiny busybox image built locally (no
registry is reachable). Usable as a pytest plugin: its fixtures `podman_service` and
`busybox_image` are session-scoped."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mec_platform.entrypoints.bridge_anchor import anchor_name
from mec_platform.lifecycle.podman_service import PodmanService, shipped_containers_conf

BUSYBOX = Path("/bin/busybox")
BUSYBOX_IMAGE = "localhost/mec-test-busybox:1"
# The image's command: idle until SIGTERM, then exit 0 at once. The shell runs as PID 1,
# which ignores signals it has no trap for, and `wait` lets the trap run without delay.
IDLE_COMMAND = [
    "/bin/sh",
    "-c",
    "trap 'exit 0' TERM INT; echo ready; while :; do sleep 1 & wait $!; done",
]
_FOLDERS = ("bin", "dev", "etc", "proc", "root", "run", "sys", "tmp")
_built: set[str] = set()


def _missing(message: str) -> None:
    """Fail in CI, where every tool must be installed; skip elsewhere."""
    if os.environ.get("CI", "").lower() in {"true", "1"}:
        pytest.fail(message)
    pytest.skip(message)


def require_podman() -> None:
    """Skip unless root; without podman, fail in CI and skip elsewhere."""
    if shutil.which("podman") is None:
        _missing("podman is not installed (scripts/setup installs it)")
    if os.geteuid() != 0:
        pytest.skip("the platform runs Podman as root; these tests need root too")


def podman_env() -> dict[str, str]:
    """Our environment with CONTAINERS_CONF pointing at the platform's containers.conf."""
    return {**os.environ, "CONTAINERS_CONF": str(shipped_containers_conf())}


def podman_cli(
    *arguments: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`podman ARGUMENTS` with the platform's configuration; `check`: fail on a non-zero exit."""
    result = subprocess.run(
        ["podman", *arguments], env=podman_env(), capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        command = " ".join(arguments)
        raise AssertionError(f"podman {command} exited {result.returncode}: {result.stderr}")
    return result


def inspect_container(name: str) -> dict[str, object]:
    """`podman container inspect NAME` as JSON (what the command line sees, not the API)."""
    found = json.loads(podman_cli("container", "inspect", name).stdout)
    assert isinstance(found, list) and len(found) == 1
    return dict(found[0])


def remove_containers(*names: str) -> None:
    """Remove containers at once, whether they run, exist or not."""
    if names:
        podman_cli("rm", "--force", "--ignore", "--time", "0", *names, check=False)


@contextmanager
def running_podman_service(folder: Path) -> Iterator[PodmanService]:
    """A `podman system service` on `folder`/podman.sock, logging to `folder`/podman.log."""
    require_podman()
    with PodmanService(folder / "podman.sock", log=folder / "podman.log") as service:
        yield service


def _rootfs(archive: Path) -> None:
    """A root file system tar: busybox-static with a link per applet, and empty folders."""
    listed = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True)
    with tarfile.open(archive, "w") as tar:
        for folder in _FOLDERS:
            entry = tarfile.TarInfo(folder)
            entry.type, entry.mode = tarfile.DIRTYPE, 0o1777 if folder == "tmp" else 0o755
            tar.addfile(entry)
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in set(listed.stdout.split()) - {"busybox"}:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link, io.BytesIO())


def build_busybox_image(tag: str = BUSYBOX_IMAGE) -> str:
    """The local image `tag` from /bin/busybox (Debian busybox-static), idling by default;
    built once: an image already carrying the tag is used as it is."""
    if tag in _built:
        return tag
    require_podman()
    if not BUSYBOX.exists():
        _missing("busybox-static is not installed (scripts/setup --dev installs it)")
    if podman_cli("image", "exists", tag, check=False).returncode != 0:
        with tempfile.TemporaryDirectory() as folder:
            archive = Path(folder) / "rootfs.tar"
            _rootfs(archive)
            change = f"CMD {json.dumps(IDLE_COMMAND)}"
            podman_cli("import", "--quiet", "--change", change, str(archive), tag)
    _built.add(tag)
    return tag


@pytest.fixture(scope="session")
def podman_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodmanService]:
    """One Podman service for the whole run, on a temporary socket."""
    with running_podman_service(tmp_path_factory.mktemp("podman")) as service:
        yield service


@pytest.fixture(scope="session")
def busybox_image() -> str:
    """The reference of the local busybox test image."""
    return build_busybox_image()


def remove_network(name: str) -> None:
    """Remove a Podman network with the host bridge and anchor `serve` keeps for it."""
    found = podman_cli("network", "inspect", name, "--format", "{{.NetworkInterface}}", check=False)
    podman_cli("network", "rm", "-f", name, check=False)
    bridge = found.stdout.strip()
    if found.returncode == 0 and bridge:
        for device in (anchor_name(bridge), bridge):
            subprocess.run(["ip", "link", "del", device], capture_output=True, check=False)
