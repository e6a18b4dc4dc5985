"""Mosquitto run by the platform: its files written atomically, the daemon started as our
child (it dies with us), reloaded with SIGHUP when the accounts change.

What a reload does in Mosquitto 2.0.11 (checked by tests/integration/test_mosquitto_reload.py):
it re-reads the password and ACL files and checks every connected client again; a client
whose account is gone or whose password changed is disconnected at once, and may not connect
again. Clients whose account stays keep their connection and session, and the new ACL
applies to their next publish and to every later delivery (a read right taken away stops
deliveries on the existing subscription). The reload is asynchronous: it happens in the
broker's next loop pass, a few milliseconds after `apply` returns.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from mec_platform.atomic_files import write_atomically
from mec_platform.errors import PlatformError
from mec_platform.mqtt.accounts import MqttAccount
from mec_platform.mqtt.mosquitto_config import (
    BrokerSettings,
    render_acl_file,
    render_config,
    render_password_file,
)

BROKER_USER = "mosquitto"
PR_SET_PDEATHSIG = 1
SBIN = ("/usr/sbin", "/usr/local/sbin")
LOG_KEEP_BYTES = 10_000_000


class BrokerError(PlatformError):
    """Mosquitto did not start or cannot be told about new accounts."""

    title = "MQTT broker unavailable"


def find_mosquitto(binary: str = "mosquitto") -> str | None:
    """The broker executable: a path as given, else on PATH or in an sbin folder (Debian
    installs it in /usr/sbin, which is not on every PATH)."""
    if os.sep in binary:
        return binary if os.access(binary, os.X_OK) else None
    search = os.pathsep.join((os.environ.get("PATH", ""), *SBIN))
    return shutil.which(binary, path=search)


def _broker_user(directory: Path) -> pwd.struct_passwd | None:
    """The user Mosquitto switches to when we start it as root, if that user can reach
    `directory`; None when it keeps our identity."""
    if os.geteuid() != 0:
        return None  # Mosquitto only drops privileges when started as root.
    try:
        user = pwd.getpwnam(BROKER_USER)
    except KeyError:
        return None
    if any(not parent.stat().st_mode & 0o001 for parent in directory.resolve().parents):
        return None
    return user


class MosquittoBroker:
    """The managed broker of this host: one child process, its files in `state_dir`.

    Call `start` from a thread that lives as long as the broker: the kernel's parent-death
    signal is tied to the thread that forked the child, not to the process.
    """

    def __init__(self, settings: BrokerSettings, binary: str = "mosquitto") -> None:
        self.settings = settings
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process is not None else None

    @property
    def log_path(self) -> Path:
        return self.settings.log_file

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker (unless it runs) and wait until its first listener accepts TCP."""
        if self.running:
            return
        binary = find_mosquitto(self._binary)
        if binary is None:
            raise BrokerError(f"{self._binary} is not installed (scripts/setup installs it)")
        self._refuse_taken_port()
        self._prepare()
        parent = os.getpid()
        with open(self.log_path, "ab") as log:
            # Mosquitto reports errors in its configuration on stderr before its log is open.
            self._process = subprocess.Popen(
                [binary, "-c", str(self.settings.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=lambda: die_with_parent(parent),
            )
        self._wait_listening(timeout)

    def _prepare(self) -> None:
        directory = self.settings.state_dir
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        _rotate(self.log_path)
        config = render_config(self.settings)
        user = _broker_user(directory)
        if user is None and os.geteuid() == 0:
            # The mosquitto user cannot reach a data folder under a private parent (such as
            # /root); running as root beats failing, and only the listeners face the network.
            config = "user root\n" + config
        write_atomically(self.settings.config_file, config, mode=0o600)
        for path in (self.settings.password_file, self.settings.acl_file):
            if not path.exists():
                write_atomically(path, "", mode=0o600)
        self.log_path.touch(mode=0o600)
        if user is not None:
            # Mosquitto re-reads the password and ACL files, writes its persistence file and
            # reopens its log as this user: the folder and everything in it are its own.
            for path in (directory, *directory.iterdir()):
                os.chown(path, user.pw_uid, user.pw_gid)

    def _refuse_taken_port(self) -> None:
        # Readiness is "the first listener accepts TCP": with another server on that port
        # the check would pass while Mosquitto exits for want of the address.
        host, port = self.settings.listeners[0]
        try:
            with socket.create_connection((host, port), timeout=0.5):
                pass
        except OSError:
            return
        raise BrokerError(f"{host}:{port} is already in use by another server")

    def _wait_listening(self, timeout: float) -> None:
        assert self._process is not None
        host, port = self.settings.listeners[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise BrokerError(f"mosquitto exited at start: {self.log_tail()}")
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BrokerError(f"mosquitto does not listen on {host}:{port}: {self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the broker's log, joined on one line."""
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:]) or "(empty log)"

    def apply(self, accounts: Iterable[MqttAccount]) -> bool:
        """Write the password and ACL files when they changed and reload a running broker."""
        accounts = list(accounts)
        directory = self.settings.state_dir
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        user = _broker_user(directory)
        owner = (user.pw_uid, user.pw_gid) if user is not None else None
        changed = _write_if_changed(
            self.settings.password_file, render_password_file(accounts), 0o600, owner
        )
        changed |= _write_if_changed(
            self.settings.acl_file, render_acl_file(accounts), 0o600, owner
        )
        if changed and self._process is not None:
            self._process.send_signal(signal.SIGHUP)  # a no-op once it has exited
        return changed

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (Mosquitto saves its persistence file first), SIGKILL if it lingers."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        """Stop, then start with the same files and persistence."""
        self.stop()
        self.start()


class ExternalBroker:
    """A broker the operator runs: the platform writes its password and ACL files into
    `auth_dir` and signals the PID in `pid_file` (if given) to reload them.

    The files get mode 0640 and the group of `auth_dir`, so giving that folder to the
    broker's group (`chgrp mosquitto`) is all the broker needs to read them.
    """

    def __init__(self, pid_file: Path | None, auth_dir: Path) -> None:
        self.pid_file = pid_file
        self.auth_dir = auth_dir

    @property
    def password_file(self) -> Path:
        return self.auth_dir / "passwords"

    @property
    def acl_file(self) -> Path:
        return self.auth_dir / "acl"

    def apply(self, accounts: Iterable[MqttAccount]) -> bool:
        """Write the files when they changed and send SIGHUP to the broker."""
        accounts = list(accounts)
        self.auth_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
        # Only root may hand a file to a group it is not in; others rely on a setgid folder.
        owner = (-1, self.auth_dir.stat().st_gid) if os.geteuid() == 0 else None
        changed = _write_if_changed(
            self.password_file, render_password_file(accounts), 0o640, owner
        )
        changed |= _write_if_changed(self.acl_file, render_acl_file(accounts), 0o640, owner)
        if changed and self.pid_file is not None:
            try:
                os.kill(int(self.pid_file.read_text().strip()), signal.SIGHUP)
            except (OSError, ValueError) as exc:
                raise BrokerError(f"cannot signal the broker of {self.pid_file}: {exc}") from None
        return changed


def die_with_parent(parent: int) -> None:
    """In a child before exec: get SIGTERM when `parent` (our PID) goes away."""
    # So a crashed platform process never leaves a broker holding the port (Linux prctl).
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _rotate(log: Path) -> None:
    # One old generation is enough to read why the broker died last time.
    try:
        if log.stat().st_size > LOG_KEEP_BYTES:
            log.replace(log.with_name(log.name + ".1"))
    except FileNotFoundError:
        pass


def _write_if_changed(path: Path, content: str, mode: int, owner: tuple[int, int] | None) -> bool:
    try:
        if path.read_text(encoding="utf-8") == content:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_atomically(path, content, mode=mode)
    if owner is not None:
        os.chown(path, *owner)
    return True
