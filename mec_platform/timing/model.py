"""Domain objects of the timing context, free of I/O.

The types follow the data model of ETSI GS MEC 011 v3.1.1 clause 7.1.2 (TimingCaps,
NtpServers, PtpMasters, TimeStamp, CurrentTime) with pythonic names; the camelCase wire
form belongs to the HTTP layer. `ClockSync` is what a time daemon adapter reports: which
daemon disciplines the clock, whether it is locked to its reference, and the sources it uses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

NANOS_PER_SECOND = 1_000_000_000

# ETSI bounds NTP poll intervals to exponents 3..17 (8 s .. 36.4 h), in log2 seconds.
MIN_POLL_EXPONENT = 3
MAX_POLL_EXPONENT = 17

SOURCE_CHRONY = "chrony"
SOURCE_TIMESYNCD = "systemd-timesyncd"
SOURCE_NONE = "none"


class TimeSourceStatus(StrEnum):
    """Whether the platform time is locked to a UTC-traceable source."""

    TRACEABLE = "TRACEABLE"
    NONTRACEABLE = "NONTRACEABLE"


class NtpAddressType(StrEnum):
    """How an NTP server is addressed."""

    IP_ADDRESS = "IP_ADDRESS"
    DNS_NAME = "DNS_NAME"


class NtpAuthentication(StrEnum):
    """How the exchanges with an NTP server are authenticated."""

    NONE = "NONE"
    SYMMETRIC_KEY = "SYMMETRIC_KEY"
    NTS = "NTS"


@dataclass(frozen=True)
class NtpServer:
    """One NTP server the platform clock uses; polling intervals are log2 seconds."""

    address_type: NtpAddressType
    address: str
    min_polling_interval: int
    max_polling_interval: int
    local_priority: int
    authentication: NtpAuthentication = NtpAuthentication.NONE
    authentication_key_num: int | None = None


@dataclass(frozen=True)
class PtpMaster:
    """One PTP master the platform clock may follow."""

    ip_address: str
    local_priority: int
    delay_req_max_rate: int


@dataclass(frozen=True)
class ClockSync:
    """What a time daemon says about the host clock synchronisation."""

    source: str
    synchronised: bool
    ntp_servers: tuple[NtpServer, ...] = ()
    ptp_masters: tuple[PtpMaster, ...] = ()


NO_CLOCK_SYNC = ClockSync(source=SOURCE_NONE, synchronised=False)


@dataclass(frozen=True)
class TimingCaps:
    """The platform's timing capabilities at one instant."""

    timestamp_seconds: int
    timestamp_nanos: int
    ntp_servers: tuple[NtpServer, ...]
    ptp_masters: tuple[PtpMaster, ...]


@dataclass(frozen=True)
class CurrentTime:
    """The platform's current time and whether it is traceable to UTC."""

    seconds: int
    nano_seconds: int
    status: TimeSourceStatus


def split_nanos(epoch_ns: int) -> tuple[int, int]:
    """Split nanoseconds since the Unix epoch into (seconds, nanoseconds)."""
    if epoch_ns < 0:
        raise ValueError("the clock reads before 1970")
    return divmod(epoch_ns, NANOS_PER_SECOND)


def clamp_poll_exponent(exponent: int) -> int:
    """Bring a poll exponent into the range ETSI allows for NTP servers."""
    return max(MIN_POLL_EXPONENT, min(MAX_POLL_EXPONENT, exponent))


def address_type_of(address: str) -> NtpAddressType:
    """IP_ADDRESS when `address` is an IPv4 or IPv6 literal, else DNS_NAME."""
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return NtpAddressType.DNS_NAME
    return NtpAddressType.IP_ADDRESS


def status_of(sync: ClockSync) -> TimeSourceStatus:
    """TRACEABLE only when a daemon reports the clock locked to its reference."""
    return TimeSourceStatus.TRACEABLE if sync.synchronised else TimeSourceStatus.NONTRACEABLE
