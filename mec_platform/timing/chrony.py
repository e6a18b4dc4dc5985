"""Chrony adapter of the timing context: asks chronyd through `chronyc` in CSV mode.

Three read-only queries are made, each a short `chronyc -c -N` run: `tracking` (is the
clock locked, to what), `sources` (the NTP servers and their selection state) and
`authdata` (how each server is authenticated). `-N` names sources as they were configured,
so a server given by host name keeps it. chronyc 4.3 reports no configured minpoll/maxpoll,
so the polling range is chrony's defaults (2^6..2^10 s) widened to take in the poll
exponent currently used, then clamped to the 3..17 range of ETSI GS MEC 011 clause 7.1.2.4.
A missing chronyc, a silent chronyd or a timeout is reported as "no clock sync", never raised.
"""

from __future__ import annotations

import csv
import io
import logging
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mec_platform.timing.model import (
    NO_CLOCK_SYNC,
    SOURCE_CHRONY,
    ClockSync,
    NtpAuthentication,
    NtpServer,
    address_type_of,
    clamp_poll_exponent,
)

log = logging.getLogger(__name__)

# Leap states in which chronyd considers the clock synchronised (a pending leap second
# still means locked); "Not synchronised" is the only other value chronyc prints.
_LOCKED_LEAP_STATES = frozenset({"Normal", "Insert second", "Delete second"})
# Reference ID 127.127.1.1 ("LOCL") is chronyd serving its own free-running clock
# (`local` directive): not traceable to UTC.
_LOCAL_REFERENCE_ID = 0x7F7F0101
_UNSYNCHRONISED_STRATUM = 16
_CHRONY_DEFAULT_MINPOLL = 6
_CHRONY_DEFAULT_MAXPOLL = 10
# Selection states of `chronyc sources`: '*' current reference, '+' combined with it,
# '-' acceptable but not combined; '?', 'x', '~' are unusable for now.
_PRIORITY_BY_STATE = {"*": 1, "+": 2, "-": 3}
_UNUSED_PRIORITY = 4
_NTP_MODES = frozenset({"^", "="})  # server and peer; '#' is a reference clock
_AUTH_BY_MODE = {"SK": NtpAuthentication.SYMMETRIC_KEY, "NTS": NtpAuthentication.NTS}


class ChronycError(Exception):
    """chronyc could not be run or chronyd did not answer."""


@dataclass(frozen=True)
class Tracking:
    """The fields of `chronyc -c tracking` that decide traceability."""

    reference_id: int
    stratum: int
    leap_status: str

    def locked(self) -> bool:
        """Whether chronyd tracks a real reference (not its own local clock)."""
        return (
            self.leap_status in _LOCKED_LEAP_STATES
            and self.reference_id not in (0, _LOCAL_REFERENCE_ID)
            and 0 < self.stratum < _UNSYNCHRONISED_STRATUM
        )


@dataclass(frozen=True)
class SourceRow:
    """One row of `chronyc -c sources`."""

    mode: str
    state: str
    name: str
    stratum: int
    poll: int


@dataclass(frozen=True)
class AuthRow:
    """One row of `chronyc -c authdata`."""

    name: str
    mode: str
    key_id: int


def _rows(text: str, min_fields: int) -> Iterator[list[str]]:
    # Later chrony versions may append columns, so only a minimum width is required.
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= min_fields:
            yield [field.strip() for field in row]


def parse_tracking(text: str) -> Tracking | None:
    """Parse `chronyc -c tracking`; None when the output holds no valid row."""
    for row in _rows(text, 14):
        try:
            return Tracking(int(row[0], 16), int(row[2]), row[13])
        except ValueError:
            continue
    return None


def parse_sources(text: str) -> list[SourceRow]:
    """Parse `chronyc -c sources`, skipping malformed rows."""
    parsed = []
    for row in _rows(text, 10):
        try:
            parsed.append(SourceRow(row[0], row[1], row[2], int(row[3]), int(row[4])))
        except ValueError:
            continue
    return parsed


def parse_authdata(text: str) -> list[AuthRow]:
    """Parse `chronyc -c authdata`, skipping malformed rows."""
    parsed = []
    for row in _rows(text, 10):
        try:
            parsed.append(AuthRow(row[0], row[1], int(row[2])))
        except ValueError:
            continue
    return parsed


def _auth_for(index: int, name: str, auth: Sequence[AuthRow]) -> AuthRow | None:
    # Both listings walk chronyd's sources in the same order; fall back on the name when a
    # source came or went between the two chronyc runs.
    if index < len(auth) and auth[index].name == name:
        return auth[index]
    return next((row for row in auth if row.name == name), None)


def ntp_server(row: SourceRow, auth: AuthRow | None) -> NtpServer:
    """Map one chrony source (and its authentication data) to an ETSI NtpServer."""
    option = _AUTH_BY_MODE.get(auth.mode if auth else "-", NtpAuthentication.NONE)
    key = auth.key_id if auth and option is NtpAuthentication.SYMMETRIC_KEY else None
    return NtpServer(
        address_type=address_type_of(row.name),
        address=row.name,
        min_polling_interval=clamp_poll_exponent(min(row.poll, _CHRONY_DEFAULT_MINPOLL)),
        max_polling_interval=clamp_poll_exponent(max(row.poll, _CHRONY_DEFAULT_MAXPOLL)),
        local_priority=_PRIORITY_BY_STATE.get(row.state, _UNUSED_PRIORITY),
        authentication=option,
        authentication_key_num=key,
    )


def to_clock_sync(
    tracking: Tracking | None, sources: Sequence[SourceRow], auth: Sequence[AuthRow]
) -> ClockSync:
    """Combine parsed chronyc outputs into the clock sync state."""
    # chronyd keeps its last reference in `tracking` while coasting with no selectable
    # source; only a source selected right now ('*') means the clock is locked.
    selected = any(row.state == "*" for row in sources)
    servers = [
        ntp_server(row, _auth_for(index, row.name, auth))
        for index, row in enumerate(sources)
        if row.mode in _NTP_MODES
    ]
    servers.sort(key=lambda server: server.local_priority)
    return ClockSync(
        source=SOURCE_CHRONY,
        synchronised=tracking is not None and tracking.locked() and selected,
        ntp_servers=tuple(servers),
    )


class ChronySource:
    """Reads the clock sync state from a running chronyd through chronyc."""

    def __init__(
        self, chronyc: str = "chronyc", socket: str | None = None, timeout: float = 1.0
    ) -> None:
        self._chronyc = chronyc
        self._socket = socket
        self._timeout = timeout

    def read(self) -> ClockSync:
        """Return chronyd's view, or "no clock sync" when it cannot be asked."""
        try:
            tracking = self._run("tracking")
        except ChronycError as exc:
            log.debug("chronyd not available: %s", exc)
            return NO_CLOCK_SYNC
        sources = self._run_or_empty("sources")
        auth = self._run_or_empty("authdata")
        return to_clock_sync(parse_tracking(tracking), parse_sources(sources), parse_authdata(auth))

    def answers(self) -> bool:
        """Whether chronyd answers through chronyc."""
        try:
            self._run("tracking")
        except ChronycError:
            return False
        return True

    def _run_or_empty(self, command: str) -> str:
        # authdata needs the privileged Unix socket; without it servers show as NONE.
        try:
            return self._run(command)
        except ChronycError as exc:
            log.debug("chronyc %s failed: %s", command, exc)
            return ""

    def _run(self, command: str) -> str:
        argv = [self._chronyc, "-c", "-N"]
        if self._socket is not None:
            argv += ["-h", self._socket]
        argv.append(command)
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=self._timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ChronycError(f"{command}: {exc}") from exc
        if done.returncode != 0:
            reason = (done.stdout.strip() or done.stderr.strip())[:200]
            raise ChronycError(f"{command}: exit {done.returncode}: {reason}")
        return done.stdout
