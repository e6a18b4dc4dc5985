"""A private sshd on a loopback port reading the platform's drop-in, and an ssh client that
uses one key only: what the maintenance access tests log in with."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.net import free_port, wait_until
from tests.support.processes import spawn, stop_group

SSHD = Path("/usr/sbin/sshd")
# The maintenance account the tests render keys for: root, as only root can run sshd here.
ACCOUNT = "root"


def require_sshd() -> None:
    """Skip unless root; without sshd and ssh, fail in CI and skip elsewhere."""
    if not SSHD.exists() or shutil.which("ssh") is None:
        message = "openssh-server/openssh-client are not installed"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if os.geteuid() != 0:
        pytest.skip("logging in as the maintenance account root needs the tests to run as root")


def keygen(path: Path) -> Path:
    """A new ed25519 key pair without a passphrase at `path` (and `path`.pub)."""
    command = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", uuid.uuid4().hex, "-f"]
    subprocess.run([*command, str(path)], check=True)
    return path


def _config(folder: Path, port: int, dropin: Path) -> Path:
    """sshd configuration of our own, including the drop-in first as Debian's does."""
    config = folder / "sshd_config"
    config.write_text(
        f"Include {dropin}\n"
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {keygen(folder / 'host_key')}\n"
        f"PidFile {folder / 'sshd.pid'}\n"
        "UsePAM no\n"
        # pytest's folders live under world-writable /tmp, which StrictModes refuses as a
        # parent of authorized_keys (README: a real box keeps them in a root-owned place).
        "StrictModes no\n"
    )
    return config


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Sshd:
    """A running sshd: its port and configuration file."""

    port: int
    config: Path


@contextmanager
def running_sshd(folder: Path, dropin: Path) -> Iterator[Sshd]:
    """sshd -D on a free port with its own host key and configuration."""
    port = free_port()
    config = _config(folder, port, dropin)
    # sshd's privilege-separation directory; a container may not have it.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = folder / "sshd.log"
    proc = spawn([str(SSHD), "-D", "-e", "-f", str(config)], dict(os.environ), log)
    try:
        wait_until(lambda: _accepting(port) or proc.poll() is not None, timeout=10)
        assert proc.poll() is None, log.read_text()
        yield Sshd(port, config)
    finally:
        stop_group(proc, timeout=5)


def ssh(port: int, *options: str, key: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`ssh root@127.0.0.1 echo ok` with only `key`: no user configuration, agent or known
    hosts."""
    identity = ["-i", str(key), "-o", "IdentitiesOnly=yes"] if key else []
    command = [
        "ssh", "-F", "/dev/null", "-p", str(port), *identity,
        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", *options,
        f"{ACCOUNT}@127.0.0.1", "echo", "ok",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(command, capture_output=True, text=True, timeout=20, env=env)
