"""Unit tests of the timing context: chronyc/timedatectl parsing and the TimingService.

The chronyc samples below were recorded from chronyd 4.3 (Debian 12) running with `-x` on
loopback: a client synchronised to a local chronyd server (with a symmetric key and an
unreachable NTS server configured), a client with two live servers, the same client
coasting after both servers stopped, a client that never reached its server, and the
server itself serving its free-running local clock. The timedatectl sample follows the
KEY=VALUE format of `timedatectl show-timesync` (no systemd runs on the recording host).
"""

from __future__ import annotations

import pytest

from mec_platform.timing import timedatectl
from mec_platform.timing.chrony import (
    parse_authdata,
    parse_sources,
    parse_tracking,
    to_clock_sync,
)
from mec_platform.timing.model import (
    SOURCE_CHRONY,
    ClockSync,
    NtpAddressType,
    NtpAuthentication,
    NtpServer,
    TimeSourceStatus,
    split_nanos,
)
from mec_platform.timing.service import TimingService

SYNCED_TRACKING = (
    "7F000001,localhost,9,1795705937.813432122,-0.000007376,0.000001770,0.000006139,"
    "-0.570,0.117,11.247,0.000014836,0.000015475,0.5,Normal\n"
)
SYNCED_SOURCES = (
    "^,*,localhost,8,-1,377,1,0.000009473,0.000011243,0.000019218\n"
    "^,?,127.0.0.3,0,6,0,4294967295,0.000000000,0.000000000,0.000000000\n"
)
SYNCED_AUTHDATA = (
    "localhost,SK,7,2,160,4294967295,0,0,0,0\n127.0.0.3,NTS,0,0,0,4294967295,1,0,0,0\n"
)
TWO_SERVERS_TRACKING = (
    "7F000001,127.0.0.1,9,1795705997.295305997,-0.000001923,-0.000002168,0.000008300,"
    "0.138,-0.005,0.294,0.000006101,0.000001080,0.3,Normal\n"
)
TWO_SERVERS_SOURCES = (
    "^,*,127.0.0.1,8,-2,377,1,-0.000000535,-0.000002703,0.000003114\n"
    "^,+,127.0.0.2,9,-2,377,1,0.000016794,0.000015664,0.000020569\n"
    "^,?,127.0.0.5,0,6,0,4294967295,0.000000000,0.000000000,0.000000000\n"
)
TWO_SERVERS_AUTHDATA = (
    "127.0.0.1,-,0,0,0,4294967295,0,0,0,0\n"
    "127.0.0.2,-,0,0,0,4294967295,0,0,0,0\n"
    "127.0.0.5,-,0,0,0,4294967295,0,0,0,0\n"
)
COASTING_TRACKING = (
    "7F000001,127.0.0.1,9,1795705997.681867369,-0.000002126,-0.000000488,0.000007876,"
    "0.080,-0.011,0.260,0.000006101,0.000011320,0.5,Normal\n"
)
COASTING_SOURCES = (
    "^,?,127.0.0.1,8,0,0,8,0.000000039,-0.000000449,0.000003455\n"
    "^,?,127.0.0.2,9,0,0,7,0.000002926,0.000002926,0.000005737\n"
    "^,?,127.0.0.5,0,7,0,4294967295,0.000000000,0.000000000,0.000000000\n"
)
UNSYNCED_TRACKING = (
    "00000000,,0,0.000000000,0.000000165,0.000000000,0.000000000,-0.545,0.000,0.000,"
    "1.000000000,1.000000000,0.0,Not synchronised\n"
)
UNSYNCED_SOURCES = (
    "^,?,127.0.0.1,8,-1,1,0,0.000009503,0.000009503,0.000012236\n"
    "^,?,127.0.0.2,0,6,0,4294967295,0.000000000,0.000000000,0.000000000\n"
)
LOCAL_CLOCK_TRACKING = (
    "7F7F0101,,8,1795705926.279882546,0.000000000,0.000000000,0.000000000,0.000,0.000,"
    "0.000,0.000000000,0.000000000,0.0,Normal\n"
)

TIMESYNC_PROPERTIES = """\
LinkNTPServers=
SystemNTPServers=ntp1.example.net 192.0.2.10
FallbackNTPServers=0.debian.pool.ntp.org 1.debian.pool.ntp.org
ServerName=192.0.2.10
ServerAddress=192.0.2.10
RootDistanceMaxUSec=5s
PollIntervalMinUSec=32s
PollIntervalMaxUSec=34min 8s
PollIntervalUSec=2min 8s
Frequency=-1234567
"""


def _chrony(tracking: str, sources: str, authdata: str = "") -> ClockSync:
    return to_clock_sync(parse_tracking(tracking), parse_sources(sources), parse_authdata(authdata))


def test_nanoseconds_split_into_seconds_and_nanoseconds() -> None:
    assert split_nanos(1_795_705_897_723_693_281) == (1_795_705_897, 723_693_281)
    assert split_nanos(5_000_000_000) == (5, 0)
    assert split_nanos(999_999_999) == (0, 999_999_999)
    with pytest.raises(ValueError):
        split_nanos(-1)


def test_tracking_fields_are_read() -> None:
    tracking = parse_tracking(SYNCED_TRACKING)
    assert tracking is not None
    assert (tracking.reference_id, tracking.stratum, tracking.leap_status) == (
        0x7F000001,
        9,
        "Normal",
    )
    assert tracking.locked()


@pytest.mark.parametrize(
    "text",
    [UNSYNCED_TRACKING, LOCAL_CLOCK_TRACKING],
    ids=["not-synchronised", "own-local-clock"],
)
def test_tracking_without_a_real_reference_is_not_locked(text: str) -> None:
    tracking = parse_tracking(text)
    assert tracking is not None
    assert not tracking.locked()


def test_garbage_tracking_gives_nothing() -> None:
    assert parse_tracking("") is None
    assert parse_tracking("506 Cannot talk to daemon\n") is None
    assert parse_tracking("zz,,x" + ",0" * 11 + "\n") is None


def test_synchronised_chrony_maps_servers_priorities_and_authentication() -> None:
    sync = _chrony(SYNCED_TRACKING, SYNCED_SOURCES, SYNCED_AUTHDATA)
    assert sync.source == SOURCE_CHRONY
    assert sync.synchronised
    assert sync.ptp_masters == ()
    assert sync.ntp_servers == (
        NtpServer(
            address_type=NtpAddressType.DNS_NAME,
            address="localhost",
            min_polling_interval=3,  # poll -1 (0.5 s) is below the ETSI floor of 2^3 s
            max_polling_interval=10,
            local_priority=1,
            authentication=NtpAuthentication.SYMMETRIC_KEY,
            authentication_key_num=7,
        ),
        NtpServer(
            address_type=NtpAddressType.IP_ADDRESS,
            address="127.0.0.3",
            min_polling_interval=6,
            max_polling_interval=10,
            local_priority=4,
            authentication=NtpAuthentication.NTS,
            authentication_key_num=None,
        ),
    )


def test_combined_and_unusable_sources_rank_after_the_reference() -> None:
    sync = _chrony(TWO_SERVERS_TRACKING, TWO_SERVERS_SOURCES, TWO_SERVERS_AUTHDATA)
    assert sync.synchronised
    ranked = [(s.address, s.local_priority, s.authentication) for s in sync.ntp_servers]
    assert ranked == [
        ("127.0.0.1", 1, NtpAuthentication.NONE),
        ("127.0.0.2", 2, NtpAuthentication.NONE),
        ("127.0.0.5", 4, NtpAuthentication.NONE),
    ]


def test_coasting_without_a_selected_source_is_not_synchronised() -> None:
    assert parse_tracking(COASTING_TRACKING) is not None
    sync = _chrony(COASTING_TRACKING, COASTING_SOURCES)
    assert not sync.synchronised
    assert [s.local_priority for s in sync.ntp_servers] == [4, 4, 4]


def test_unsynchronised_chrony_still_lists_its_servers() -> None:
    sync = _chrony(UNSYNCED_TRACKING, UNSYNCED_SOURCES)
    assert not sync.synchronised
    assert [s.address for s in sync.ntp_servers] == ["127.0.0.1", "127.0.0.2"]


def test_a_local_clock_reference_is_not_synchronised_even_if_selected() -> None:
    assert not _chrony(LOCAL_CLOCK_TRACKING, "#,*,LOCL,8,4,377,0,0,0,0\n").synchronised


def test_reference_clocks_are_not_ntp_servers() -> None:
    sources = "#,*,PPS0,0,4,377,3,0.000000001,0.000000001,0.000000100\n" + UNSYNCED_SOURCES
    sync = _chrony(SYNCED_TRACKING, sources)
    assert sync.synchronised
    assert "PPS0" not in [s.address for s in sync.ntp_servers]


def test_malformed_rows_are_skipped_and_extra_columns_tolerated() -> None:
    text = "^,*,192.0.2.1,2,12,377,5,0,0,0,extra\nnot,a,row\n^,+,h,x,6,1,1,0,0,0\n"
    rows = parse_sources(text)
    assert [(r.name, r.poll) for r in rows] == [("192.0.2.1", 12)]
    server = _chrony(SYNCED_TRACKING, text).ntp_servers[0]
    assert (server.min_polling_interval, server.max_polling_interval) == (6, 12)


def test_poll_exponents_are_clamped_to_the_etsi_range() -> None:
    sync = _chrony(SYNCED_TRACKING, "^,*,2001:db8::1,2,24,377,5,0,0,0\n")
    server = sync.ntp_servers[0]
    assert server.address_type is NtpAddressType.IP_ADDRESS
    assert (server.min_polling_interval, server.max_polling_interval) == (6, 17)


def test_authentication_is_found_by_name_when_the_order_differs() -> None:
    reversed_auth = "".join(reversed(SYNCED_AUTHDATA.splitlines(keepends=True)))
    sync = _chrony(SYNCED_TRACKING, SYNCED_SOURCES, reversed_auth)
    assert [s.authentication for s in sync.ntp_servers] == [
        NtpAuthentication.SYMMETRIC_KEY,
        NtpAuthentication.NTS,
    ]


def test_missing_authdata_reports_no_authentication() -> None:
    sync = _chrony(SYNCED_TRACKING, SYNCED_SOURCES, "")
    assert {s.authentication for s in sync.ntp_servers} == {NtpAuthentication.NONE}
    assert {s.authentication_key_num for s in sync.ntp_servers} == {None}


def test_timesyncd_properties_map_to_servers() -> None:
    timesync = timedatectl.parse_properties(TIMESYNC_PROPERTIES)
    sync = timedatectl.to_clock_sync({"NTPSynchronized": "yes"}, timesync)
    assert sync.source == "systemd-timesyncd"
    assert sync.synchronised
    assert [(s.address, s.address_type, s.local_priority) for s in sync.ntp_servers] == [
        ("192.0.2.10", NtpAddressType.IP_ADDRESS, 1),
        ("ntp1.example.net", NtpAddressType.DNS_NAME, 2),
    ]
    assert {(s.min_polling_interval, s.max_polling_interval) for s in sync.ntp_servers} == {(5, 11)}


def test_timesyncd_without_a_current_server_is_not_synchronised() -> None:
    timesync = {"FallbackNTPServers": "0.debian.pool.ntp.org", "PollIntervalMinUSec": "junk"}
    sync = timedatectl.to_clock_sync({"NTPSynchronized": "yes"}, timesync)
    assert not sync.synchronised
    assert [(s.address, s.local_priority) for s in sync.ntp_servers] == [
        ("0.debian.pool.ntp.org", 2)
    ]
    assert sync.ntp_servers[0].min_polling_interval == 5


def test_systemd_time_spans_are_read() -> None:
    assert timedatectl.parse_timespan("34min 8s") == 2048.0
    assert timedatectl.parse_timespan("500ms") == 0.5
    assert timedatectl.parse_timespan("1h 30min") == 5400.0
    assert timedatectl.parse_timespan("infinity") is None


class FakeClockSyncSource:
    """A ClockSyncSource that returns a settable state and counts its reads."""

    def __init__(self, sync: ClockSync) -> None:
        self.sync = sync
        self.reads = 0

    def read(self) -> ClockSync:
        self.reads += 1
        return self.sync


class FakeClocks:
    """A wall clock in nanoseconds and a monotonic clock, both moved by hand."""

    def __init__(self) -> None:
        self.wall_ns = 1_700_000_000_250_000_000
        self.mono = 100.0

    def advance(self, seconds: float) -> None:
        self.wall_ns += int(seconds * 1e9)
        self.mono += seconds


LOCKED = ClockSync(
    source="chrony",
    synchronised=True,
    ntp_servers=(NtpServer(NtpAddressType.DNS_NAME, "ntp.example.net", 6, 10, 1),),
)
UNLOCKED = ClockSync(source="none", synchronised=False)


def _service(source: FakeClockSyncSource, clocks: FakeClocks) -> TimingService:
    return TimingService(
        source, clock_ns=lambda: clocks.wall_ns, cache_for=2.0, monotonic=lambda: clocks.mono
    )


@pytest.mark.parametrize(
    ("sync", "status"),
    [(LOCKED, TimeSourceStatus.TRACEABLE), (UNLOCKED, TimeSourceStatus.NONTRACEABLE)],
)
def test_current_time_status_follows_the_source(sync: ClockSync, status: TimeSourceStatus) -> None:
    clocks = FakeClocks()
    current = _service(FakeClockSyncSource(sync), clocks).current_time()
    assert (current.seconds, current.nano_seconds, current.status) == (
        1_700_000_000,
        250_000_000,
        status,
    )


def test_timing_caps_report_servers_and_a_timestamp() -> None:
    clocks = FakeClocks()
    caps = _service(FakeClockSyncSource(LOCKED), clocks).timing_caps()
    assert (caps.timestamp_seconds, caps.timestamp_nanos) == (1_700_000_000, 250_000_000)
    assert caps.ntp_servers == LOCKED.ntp_servers
    assert caps.ptp_masters == ()


def test_the_sync_state_is_cached_but_the_clock_is_always_fresh() -> None:
    clocks = FakeClocks()
    source = FakeClockSyncSource(LOCKED)
    service = _service(source, clocks)
    first = service.current_time()
    clocks.advance(1.5)
    source.sync = UNLOCKED
    second = service.timing_caps()
    assert source.reads == 1
    assert second.timestamp_nanos == 750_000_000
    assert second.ntp_servers == LOCKED.ntp_servers
    clocks.advance(0.5)
    third = service.current_time()
    assert source.reads == 2
    assert (first.status, third.status) == (
        TimeSourceStatus.TRACEABLE,
        TimeSourceStatus.NONTRACEABLE,
    )
    assert third.seconds == 1_700_000_002


def test_a_wall_clock_step_does_not_keep_a_stale_state() -> None:
    clocks = FakeClocks()
    source = FakeClockSyncSource(LOCKED)
    service = _service(source, clocks)
    service.current_time()
    clocks.wall_ns -= 3_600 * 10**9  # the daemon stepped the clock back an hour
    clocks.mono += 2.0
    service.current_time()
    assert source.reads == 2
