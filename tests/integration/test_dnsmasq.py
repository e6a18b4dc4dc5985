"""The dnsmasq adapter against a real dnsmasq on 127.0.0.1, queried with dnspython."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rrset
import pytest

from mec_platform.dataplane.dnsmasq import DnsmasqServer, DnsServerError
from mec_platform.dataplane.ports import DnsRecord

Factory = Callable[..., DnsmasqServer]


def free_port() -> int:
    """A loopback port free for both UDP and TCP right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port for UDP and TCP")


def alive(pid: int) -> bool:
    """Whether a process with this id exists (our children are reaped by close)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def make_server() -> Iterator[Factory]:
    """Builds started servers on free ports; stops them all, even when the test fails."""
    servers: list[DnsmasqServer] = []
    pids: list[int] = []
    # Not pytest's tmp_path: its parents are private to root, and dnsmasq reads the hosts
    # file as nobody.
    base = Path(tempfile.mkdtemp(prefix="mec-dnsmasq-", dir="/tmp"))
    base.chmod(0o755)

    def build(start: bool = True, **options: object) -> DnsmasqServer:
        options.setdefault("port", free_port())
        server = DnsmasqServer(base / uuid.uuid4().hex[:8], **options)  # type: ignore[arg-type]
        servers.append(server)
        if start:
            server.start()
            assert server.pid is not None
            pids.append(server.pid)
        return server

    yield build
    for server in servers:
        server.close()
    for pid in pids:
        if alive(pid):  # close failed: do not leave it behind
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(base, ignore_errors=True)
    assert not any(alive(pid) for pid in pids)


def ask(server: DnsmasqServer, name: str, rdtype: str = "A") -> tuple[str, list[dns.rrset.RRset]]:
    """Rcode and answer section of one UDP query to the server."""
    query = dns.message.make_query(name, rdtype)
    response = dns.query.udp(query, "127.0.0.1", port=server.port, timeout=1)
    return dns.rcode.to_text(response.rcode()), list(response.answer)


def addresses(server: DnsmasqServer, name: str, rdtype: str = "A") -> set[str]:
    """Addresses the server answers for a name."""
    return {rdata.address for rrset in ask(server, name, rdtype)[1] for rdata in rrset}


def unique(label: str) -> str:
    """A domain name no other test uses."""
    return f"{label}-{uuid.uuid4().hex[:8]}.mec.test"


def test_applied_records_resolve(make_server: Factory) -> None:
    server = make_server(default_ttl=42)
    v4, v6, unknown = unique("v4"), unique("v6"), unique("unknown")
    server.apply([DnsRecord(v4.upper(), "192.0.2.10"), DnsRecord(v6, "2001:db8::10")])

    rcode, answer = ask(server, v4)
    assert rcode == "NOERROR"
    assert [(r.address, answer[0].ttl) for r in answer[0]] == [("192.0.2.10", 42)]
    assert addresses(server, v6, "AAAA") == {"2001:db8::10"}
    assert addresses(server, v4.upper()) == {"192.0.2.10"}
    assert ask(server, unknown) == ("NXDOMAIN", [])
    assert ask(server, v4, "AAAA") == ("NOERROR", [])  # ours, but no IPv6 address
    assert v4 in server.hosts_path.read_text()


def test_records_applied_before_start_are_served(make_server: Factory) -> None:
    server = make_server(start=False)
    name = unique("early")
    with pytest.raises(DnsServerError, match="not running"):
        server.apply([DnsRecord(name, "192.0.2.20")])
    server.start()
    assert addresses(server, name) == {"192.0.2.20"}


def test_changes_are_visible_right_after_apply(make_server: Factory) -> None:
    server = make_server()
    stay, toggled = unique("stay"), unique("toggled")
    base = [DnsRecord(stay, "192.0.2.1")]
    timings = []
    for round_ in range(20):
        added = round_ % 2 == 0
        records = [*base, DnsRecord(toggled, "192.0.2.2")] if added else base
        started = time.perf_counter()
        server.apply(records)
        timings.append(time.perf_counter() - started)
        assert ask(server, toggled)[0] == ("NOERROR" if added else "NXDOMAIN")
        assert addresses(server, stay) == {"192.0.2.1"}
    print(
        f"\napply->visible p50 {statistics.median(timings) * 1000:.1f} ms,"
        f" max {max(timings) * 1000:.1f} ms"
    )

    server.apply([DnsRecord(stay, "192.0.2.99"), DnsRecord(stay, "2001:db8::99")])
    assert addresses(server, stay) == {"192.0.2.99"}
    assert addresses(server, stay, "AAAA") == {"2001:db8::99"}


def test_an_unchanged_apply_does_not_reload(make_server: Factory) -> None:
    server = make_server()
    one, two = unique("one"), unique("two")
    server.apply([DnsRecord(one, "192.0.2.1"), DnsRecord(two, "192.0.2.2")])
    inode, pid = server.hosts_path.stat().st_ino, server.pid
    reloads = server.log_path.read_text().count(f"read {server.hosts_path}")

    server.apply([DnsRecord(two.upper(), "192.0.2.2"), DnsRecord(one + ".", "192.0.2.1")])

    assert server.hosts_path.stat().st_ino == inode
    assert server.pid == pid
    assert server.log_path.read_text().count(f"read {server.hosts_path}") == reloads


def test_names_not_ours_are_forwarded_upstream(make_server: Factory) -> None:
    upstream = make_server()
    name = unique("upstream")
    upstream.apply([DnsRecord(name, "198.51.100.7")])
    front = make_server(upstreams=[f"127.0.0.1#{upstream.port}"])
    assert addresses(front, name) == {"198.51.100.7"}
    assert ask(front, unique("nowhere")) == ("NXDOMAIN", [])  # the upstream's answer

    front.apply([DnsRecord(name, "192.0.2.7")])  # ours hides the upstream's
    assert addresses(front, name) == {"192.0.2.7"}
    front.apply([])
    assert addresses(front, name) == {"198.51.100.7"}


def test_a_busy_port_fails_the_start_with_the_log(make_server: Factory) -> None:
    first = make_server()
    second = make_server(start=False, port=first.port)
    with pytest.raises(DnsServerError, match=r"(?s)failed to start.*Address already in use"):
        second.start()
    assert not second.running

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        third = make_server(start=False, port=taken.getsockname()[1])
        with pytest.raises(DnsServerError, match="Address already in use"):
            third.start()


def test_a_missing_binary_fails_the_start(make_server: Factory) -> None:
    server = make_server(start=False, executable="/nonexistent/dnsmasq")
    with pytest.raises(DnsServerError, match="cannot run dnsmasq"):
        server.start()


@pytest.mark.skipif(os.geteuid() != 0, reason="dnsmasq drops privileges only when run as root")
def test_a_workdir_hidden_from_nobody_is_refused(tmp_path: Path) -> None:
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    server = DnsmasqServer(hidden / "dns", port=free_port())
    with pytest.raises(DnsServerError, match=r"(?s)world-searchable.*Permission denied"):
        server.start()
    assert not server.running


def test_close_stops_dnsmasq_and_is_idempotent(make_server: Factory) -> None:
    server = make_server()
    pid = server.pid
    assert pid is not None and alive(pid)
    server.close()
    assert not alive(pid)
    assert not server.running
    server.close()
    with pytest.raises(DnsServerError, match="not running"):
        server.apply([])


def test_apply_on_a_dead_dnsmasq_raises(make_server: Factory) -> None:
    server = make_server()
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 2
    while server.running and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(DnsServerError, match=r"not running.*exit code -9"):
        server.apply([DnsRecord(unique("late"), "192.0.2.30")])
