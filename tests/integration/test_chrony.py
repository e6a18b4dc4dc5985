"""The chrony adapter against real chronyd processes on loopback.

Each chronyd runs as a child with `-x` (it never touches the system clock), in the
foreground, with its own config, pid file, drift file and command socket in a private
temporary directory, no UDP command port and, for a client, no NTP server port: it cannot
collide with a system chronyd or with another test. A second chronyd serving its local
clock (`local stratum 8`) on a free loopback port plays the upstream NTP server.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mec_platform.timing.chrony import ChronySource
from mec_platform.timing.model import (
    NO_CLOCK_SYNC,
    ClockSync,
    NtpAddressType,
    NtpAuthentication,
    TimeSourceStatus,
)
from mec_platform.timing.service import TimingService
from mec_platform.timing.timedatectl import TimedatectlSource, detect_source

CHRONYD = "/usr/sbin/chronyd"
KEY_ID = 7
KEY_LINE = f"{KEY_ID} SHA1 HEX:3A5F0C2E9B7D41A68C0E2F4B6D8A1C3E5F709B2D\n"


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Chronyd:
    """One chronyd child process with a private directory and command socket."""

    def __init__(self, folder: Path, config: list[str]) -> None:
        folder.mkdir(mode=0o700)  # chronyd refuses a socket directory others can reach
        self.folder = folder
        self.socket = str(folder / "chronyd.sock")
        (folder / "keys").write_text(KEY_LINE)
        lines = [
            *config,
            f"keyfile {folder / 'keys'}",
            "cmdport 0",
            f"bindcmdaddress {self.socket}",
            f"pidfile {folder / 'chronyd.pid'}",
            f"driftfile {folder / 'drift'}",
        ]
        (folder / "chrony.conf").write_text("\n".join(lines) + "\n")
        self.log = folder / "chronyd.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Chronyd:
        """Start chronyd and wait until it answers on its command socket."""
        user = pwd.getpwuid(os.getuid()).pw_name  # keep our uid: the socket dir is ours
        argv = [CHRONYD, "-x", "-d", "-u", user, "-f", str(self.folder / "chrony.conf")]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        source = self.source()
        deadline = time.monotonic() + 5
        while not source.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"chronyd did not start: {self.log.read_text()}")
            time.sleep(0.05)
        # `-x` must leave this machine's clock alone; chronyd says so when it starts.
        assert "Disabled control of system clock" in self.log.read_text()
        return self

    def source(self) -> ChronySource:
        """A ChronySource that talks to this chronyd."""
        return ChronySource(socket=self.socket)

    def stop(self) -> None:
        """Stop chronyd, killing it if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def chronyd() -> Iterator[Callable[[list[str]], Chronyd]]:
    """Start chronyd children on demand; all are stopped and their files removed."""
    if shutil.which("chronyc") is None or not os.path.exists(CHRONYD):
        pytest.fail("chrony is not installed (Debian package `chrony`)")
    # A short private directory: Unix socket paths are limited to 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="mecchr-"))
    started: list[Chronyd] = []

    def start(config: list[str]) -> Chronyd:
        daemon = Chronyd(root / f"d{len(started)}", config)
        started.append(daemon)
        return daemon.start()

    try:
        yield start
    finally:
        for daemon in started:
            daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_synchronised(source: ChronySource, timeout: float = 10.0) -> ClockSync:
    deadline = time.monotonic() + timeout
    sync = source.read()
    while not sync.synchronised and time.monotonic() < deadline:
        time.sleep(0.1)
        sync = source.read()
    return sync


def test_an_unanswering_server_is_listed_but_not_traceable(
    chronyd: Callable[[list[str]], Chronyd],
) -> None:
    dead_port = free_udp_port()
    client = chronyd([f"server 127.0.0.1 port {dead_port} iburst", "port 0"])
    service = TimingService(client.source())
    assert service.current_time().status is TimeSourceStatus.NONTRACEABLE
    caps = service.timing_caps()
    assert [(s.address, s.address_type) for s in caps.ntp_servers] == [
        ("127.0.0.1", NtpAddressType.IP_ADDRESS)
    ]
    assert caps.ntp_servers[0].local_priority > 2
    assert caps.ptp_masters == ()


def test_a_client_locked_to_a_live_server_is_traceable(
    chronyd: Callable[[list[str]], Chronyd],
) -> None:
    port = free_udp_port()
    upstream = chronyd(
        ["local stratum 8", "allow 127.0.0.1", "bindaddress 127.0.0.1", f"port {port}"]
    )
    assert not upstream.source().read().synchronised  # its own clock is not UTC
    client = chronyd(
        [
            f"server 127.0.0.1 port {port} iburst minpoll -2 maxpoll 0 key {KEY_ID}",
            "server 127.0.0.2 port 9",  # nothing answers there
            "port 0",
        ]
    )
    sync = _wait_until_synchronised(client.source())
    assert sync.synchronised, (client.log.read_text(), sync)
    first, second = sync.ntp_servers
    assert (first.address, first.local_priority) == ("127.0.0.1", 1)
    assert (first.authentication, first.authentication_key_num) == (
        NtpAuthentication.SYMMETRIC_KEY,
        KEY_ID,
    )
    assert (second.address, second.authentication) == ("127.0.0.2", NtpAuthentication.NONE)
    current = TimingService(client.source()).current_time()
    assert current.status is TimeSourceStatus.TRACEABLE
    assert abs(current.seconds - time.time()) < 5


def test_losing_the_server_ends_traceability(chronyd: Callable[[list[str]], Chronyd]) -> None:
    port = free_udp_port()
    upstream = chronyd(
        ["local stratum 8", "allow 127.0.0.1", "bindaddress 127.0.0.1", f"port {port}"]
    )
    client = chronyd([f"server 127.0.0.1 port {port} iburst minpoll -4 maxpoll -4", "port 0"])
    assert _wait_until_synchronised(client.source()).synchronised
    upstream.stop()
    deadline = time.monotonic() + 10
    while client.source().read().synchronised and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not client.source().read().synchronised


def test_no_daemon_behind_the_socket_means_no_clock_sync(tmp_path: Path) -> None:
    started = time.monotonic()
    assert ChronySource(socket=str(tmp_path / "absent.sock")).read() == NO_CLOCK_SYNC
    assert time.monotonic() - started < 1


def test_a_missing_chronyc_means_no_clock_sync(tmp_path: Path) -> None:
    assert ChronySource(chronyc=str(tmp_path / "chronyc")).read() == NO_CLOCK_SYNC


def test_a_missing_timedatectl_means_no_clock_sync(tmp_path: Path) -> None:
    assert TimedatectlSource(timedatectl=str(tmp_path / "timedatectl")).read() == NO_CLOCK_SYNC


def test_timedatectl_without_timesyncd_reports_no_clock_sync() -> None:
    if shutil.which("timedatectl") is None:
        pytest.fail("timedatectl is not installed (Debian package `systemd`)")
    source = TimedatectlSource()
    if source.answers():  # a host that does run systemd-timesyncd
        assert source.read().source == "systemd-timesyncd"
    else:
        assert source.read() == NO_CLOCK_SYNC


def test_detection_prefers_an_answering_chronyd(
    chronyd: Callable[[list[str]], Chronyd], tmp_path: Path
) -> None:
    client = chronyd(["server 127.0.0.1 port 9", "port 0"])
    found = detect_source(chrony_socket=client.socket, timedatectl=str(tmp_path / "none"))
    assert isinstance(found, ChronySource)
    assert found.read().source == "chrony"
    fallback = detect_source(
        chrony_socket=str(tmp_path / "absent.sock"), timedatectl=str(tmp_path / "none")
    )
    assert fallback.read() == NO_CLOCK_SYNC
