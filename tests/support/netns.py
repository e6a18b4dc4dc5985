"""Network namespaces for data plane tests: a veth-linked pair, listeners and probes.

`netns_pair()` builds two uniquely named namespaces ("box" and "client") joined by a veth pair
with IPv4 and IPv6 addresses, and removes them afterwards even when the test fails. `listener`
runs a tiny TCP or UDP echo server inside a namespace; `reach` tries several connections or
datagrams from another namespace at once and tells how many got an answer, so a dropped packet
costs one short timeout. Nothing here touches the host's own network namespace.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

BOX_V4, CLIENT_V4 = "10.77.0.1", "10.77.0.2"
BOX_V6, CLIENT_V6 = "fd00:77::1", "fd00:77::2"

# Echo server: answers each TCP connection or UDP datagram with b"ok".
_SERVER = """
import socket, sys
host, port, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
family = socket.AF_INET6 if ":" in host else socket.AF_INET
kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
sock = socket.socket(family, kind)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind((host, port))
if proto == "tcp":
    sock.listen(64)
print("ready", flush=True)
while True:
    # A reply dropped by an output rule fails with EPERM; the server must keep serving.
    try:
        if proto == "tcp":
            conn, _ = sock.accept()
            with conn:
                conn.sendall(b"ok")
        else:
            _, peer = sock.recvfrom(2048)
            sock.sendto(b"ok", peer)
    except OSError:
        pass
"""

# Probe: N attempts in parallel threads; prints how many got b"ok" back before the timeout.
_PROBE = """
import socket, sys, threading
host, port, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
count, timeout, src_port = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
ok = []
def attempt(index):
    sock = socket.socket(family, kind)
    sock.settimeout(timeout)
    try:
        if src_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", src_port + index))
        if proto == "tcp":
            sock.connect((host, port))
            reply = sock.recv(16)
        else:
            sock.sendto(b"hi", (host, port))
            reply = sock.recv(16)
        if reply == b"ok":
            ok.append(index)
    except OSError:
        pass
    finally:
        sock.close()
threads = [threading.Thread(target=attempt, args=(i,)) for i in range(count)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(ok))
"""


@dataclass(frozen=True)
class NetnsPair:
    """Two namespaces joined by a veth pair; the box side ends in .1 / ::1, the client .2 / ::2."""

    box: str
    client: str
    box_link: str
    client_link: str
    box_v4: str = BOX_V4
    client_v4: str = CLIENT_V4
    box_v6: str = BOX_V6
    client_v6: str = CLIENT_V6


def run(command: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command, failing with its stderr when `check` and it exits non-zero."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done


def in_netns(
    netns: str, command: list[str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a command inside a network namespace."""
    return run(["ip", "netns", "exec", netns, *command], check=check)


@contextmanager
def netns_pair() -> Iterator[NetnsPair]:
    """Create a fresh box/client namespace pair with a veth link; delete both afterwards."""
    tag = uuid.uuid4().hex[:8]
    pair = NetnsPair(f"mt{tag}b", f"mt{tag}c", f"v{tag}b", f"v{tag}c")
    with ExitStack() as cleanup:
        for netns in (pair.box, pair.client):
            run(["ip", "netns", "add", netns])
            # Deleting a namespace also destroys the veth end that lives in it.
            cleanup.callback(run, ["ip", "netns", "del", netns], False)
        run(
            [
                *("ip", "link", "add", pair.box_link, "netns", pair.box, "type", "veth"),
                *("peer", "name", pair.client_link, "netns", pair.client),
            ]
        )
        for netns, link, v4, v6 in (
            (pair.box, pair.box_link, pair.box_v4, pair.box_v6),
            (pair.client, pair.client_link, pair.client_v4, pair.client_v6),
        ):
            in_netns(netns, ["ip", "addr", "add", f"{v4}/24", "dev", link])
            # nodad: the address is usable at once instead of after duplicate detection.
            in_netns(netns, ["ip", "addr", "add", f"{v6}/64", "dev", link, "nodad"])
            in_netns(netns, ["ip", "link", "set", link, "up"])
            in_netns(netns, ["ip", "link", "set", "lo", "up"])
        yield pair


@contextmanager
def listener(netns: str, host: str, port: int, proto: str = "tcp") -> Iterator[None]:
    """Run an echo server on `host`:`port` (`tcp` or `udp`) inside `netns` while in the block."""
    process = subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, "-c", _SERVER, host, str(port), proto],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if line.strip() != "ready":
            process.kill()
            _, errors = process.communicate(timeout=5)
            raise RuntimeError(f"listener in {netns} did not start: {errors.strip()}")
        yield
    finally:
        process.kill()
        process.communicate(timeout=5)


def reach(
    netns: str,
    host: str,
    port: int,
    proto: str = "tcp",
    attempts: int = 3,
    timeout: float = 0.3,
    src_port: int = 0,
) -> int:
    """How many of `attempts` parallel connections/datagrams from `netns` got an answer.

    With `src_port`, attempt i binds local port `src_port + i`, so rules can select the flow.
    """
    done = in_netns(
        netns,
        [
            *(sys.executable, "-c", _PROBE, host, str(port), proto),
            *(str(attempts), str(timeout), str(src_port)),
        ],
    )
    return int(done.stdout.strip())
