"""systemd-timesyncd adapter of the timing context, and the choice of time daemon adapter.

`timedatectl show` tells whether the kernel clock is synchronised (NTPSynchronized) and
`timedatectl show-timesync` which servers systemd-timesyncd knows and the one it uses.
timesyncd polls one server at a time and supports no NTP authentication, so the current
server gets priority 1, the other known servers follow in the order timesyncd tries them,
and every server shows authentication NONE. Poll intervals come as systemd time spans
("34min 8s") and are turned into the log2-second exponents of ETSI GS MEC 011.
`detect_source` prefers chronyd, then timesyncd, as a host runs at most one of them.
"""

from __future__ import annotations

import math
import re
import subprocess

from mec_platform.timing.chrony import ChronySource
from mec_platform.timing.model import (
    NO_CLOCK_SYNC,
    SOURCE_TIMESYNCD,
    ClockSync,
    NtpServer,
    address_type_of,
    clamp_poll_exponent,
)
from mec_platform.timing.ports import ClockSyncSource

_SPAN_UNITS = {
    "us": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
_SPAN_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d|w)\b")
# timesyncd's compiled-in poll bounds (32 s and 2048 s) when it reports none.
_DEFAULT_MIN_POLL = 5
_DEFAULT_MAX_POLL = 11
# timesyncd uses link (DHCP/networkd) servers first, then NTP=, then FallbackNTP=.
_SERVER_LISTS = ("LinkNTPServers", "SystemNTPServers", "RuntimeNTPServers", "FallbackNTPServers")


class TimedatectlError(Exception):
    """timedatectl could not be run or systemd did not answer."""


def parse_properties(text: str) -> dict[str, str]:
    """Parse the KEY=VALUE lines that `timedatectl show` prints."""
    properties = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            properties[key.strip()] = value.strip()
    return properties


def parse_timespan(text: str) -> float | None:
    """Seconds in a systemd time span such as "34min 8s"; None when unreadable."""
    parts = _SPAN_PART.findall(text)
    if not parts:
        return None
    return sum(float(number) * _SPAN_UNITS[unit] for number, unit in parts)


def poll_exponent(text: str, default: int) -> int:
    """The ETSI poll exponent (log2 seconds) of a time span, or `default`."""
    seconds = parse_timespan(text)
    if seconds is None or seconds <= 0:
        return default
    return clamp_poll_exponent(round(math.log2(seconds)))


def _known_servers(timesync: dict[str, str]) -> list[str]:
    for key in _SERVER_LISTS:
        names = timesync.get(key, "").split()
        if names:
            return names
    return []


def to_clock_sync(show: dict[str, str], timesync: dict[str, str]) -> ClockSync:
    """Combine `timedatectl show` and `show-timesync` properties into the sync state."""
    current = timesync.get("ServerName") or timesync.get("ServerAddress") or ""
    names = [current] if current else []
    names += [name for name in _known_servers(timesync) if name != current]
    min_poll = poll_exponent(timesync.get("PollIntervalMinUSec", ""), _DEFAULT_MIN_POLL)
    max_poll = poll_exponent(timesync.get("PollIntervalMaxUSec", ""), _DEFAULT_MAX_POLL)
    first_priority = 1 if current else 2
    servers = tuple(
        NtpServer(
            address_type=address_type_of(name),
            address=name,
            min_polling_interval=min_poll,
            max_polling_interval=max_poll,
            local_priority=first_priority + index,
        )
        for index, name in enumerate(names)
    )
    synchronised = show.get("NTPSynchronized") == "yes" and bool(current)
    return ClockSync(source=SOURCE_TIMESYNCD, synchronised=synchronised, ntp_servers=servers)


class TimedatectlSource:
    """Reads the clock sync state of systemd-timesyncd through timedatectl."""

    def __init__(self, timedatectl: str = "timedatectl", timeout: float = 1.0) -> None:
        self._timedatectl = timedatectl
        self._timeout = timeout

    def read(self) -> ClockSync:
        """Return timesyncd's view, or "no clock sync" when systemd cannot be asked."""
        try:
            show = parse_properties(self._run("show"))
            timesync = parse_properties(self._run("show-timesync"))
        except TimedatectlError:
            return NO_CLOCK_SYNC
        return to_clock_sync(show, timesync)

    def answers(self) -> bool:
        """Whether systemd-timesyncd answers through timedatectl."""
        try:
            self._run("show-timesync")
        except TimedatectlError:
            return False
        return True

    def _run(self, command: str) -> str:
        argv = [self._timedatectl, command]
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=self._timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TimedatectlError(f"{command}: {exc}") from exc
        if done.returncode != 0:
            raise TimedatectlError(f"{command}: exit {done.returncode}: {done.stderr[:200]}")
        return done.stdout


def detect_source(
    chronyc: str = "chronyc",
    chrony_socket: str | None = None,
    timedatectl: str = "timedatectl",
    timeout: float = 1.0,
) -> ClockSyncSource:
    """Choose the adapter of the time daemon running here, chrony when none answers."""
    chrony = ChronySource(chronyc=chronyc, socket=chrony_socket, timeout=timeout)
    if chrony.answers():
        return chrony
    timesyncd = TimedatectlSource(timedatectl=timedatectl, timeout=timeout)
    if timesyncd.answers():
        return timesyncd
    # Nothing answers yet: chrony is the daemon Debian installs for a server, and its
    # adapter starts reporting as soon as a chronyd is started, "none" until then.
    return chrony


class DetectedSource:
    """`detect_source` on first use, so processes that never answer a timing request (admin
    commands, the worker, the data plane) spawn no chronyc or timedatectl at start."""

    def __init__(self, chrony_socket: str | None = None) -> None:
        self._chrony_socket = chrony_socket
        self._source: ClockSyncSource | None = None

    def read(self) -> ClockSync:
        if self._source is None:
            self._source = detect_source(chrony_socket=self._chrony_socket)
        return self._source.read()
