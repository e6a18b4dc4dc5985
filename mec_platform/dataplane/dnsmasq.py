"""The platform's DNS server: a dnsmasq child process serving the ACTIVE DNS rules.

dnsmasq runs in the foreground with a command line of our own (no system config, no
/etc/hosts, no resolv.conf) and serves the names of one hosts file in `workdir`. `apply`
rewrites that file atomically and sends SIGHUP, which makes dnsmasq clear its cache and
re-read it in its main loop; `apply` waits for the log line of that re-read, then asks the
server for one changed name, so the change is visible when `apply` returns. Other names go
to the upstream servers given; with none they get NXDOMAIN (and a name of ours asked for
the other address family an empty NOERROR). Every name is served with `default_ttl`: hosts
files carry no TTL, and dnsmasq's per-name TTLs (`--host-record`, `--cname`) live in its
configuration, which SIGHUP does not re-read. Failures raise `DnsServerError`, whose message
ends with the tail of dnsmasq's log.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from mec_platform.dataplane.dns_query import lookup, resolve_ready
from mec_platform.dataplane.ports import DnsRecord
from mec_platform.dataplane.processes import kill_and_wait, pids_with_argument

log = logging.getLogger("mec_platform.dataplane")

HOSTS_FILE = "hosts"
LOG_FILE = "dnsmasq.log"
_QUERY_TIMEOUT = 0.2

# (lower-cased name, "A" or "AAAA") -> the addresses served for it.
Answers = dict[tuple[str, str], frozenset[str]]


class DnsServerError(RuntimeError):
    """dnsmasq could not be started, reloaded or reached; an operator problem, not a client's."""


class DnsmasqServer:
    """A dnsmasq child process answering exactly the records last applied."""

    start_timeout = 5.0
    apply_timeout = 2.0
    stop_timeout = 3.0

    def __init__(
        self,
        workdir: Path,
        listen_address: str = "127.0.0.1",
        port: int = 8053,
        upstreams: Sequence[str] = (),
        default_ttl: int = 30,
        executable: str = "dnsmasq",
    ) -> None:
        self.workdir = Path(workdir)
        self.listen_address = listen_address
        self.port = port
        self.upstreams = tuple(upstreams)
        self.default_ttl = default_ttl
        self.executable = executable
        self.hosts_path = self.workdir / HOSTS_FILE
        self.log_path = self.workdir / LOG_FILE
        self._process: subprocess.Popen[bytes] | None = None
        self._answers: Answers = {}  # what the caller asked for last
        self._written: Answers = {}  # what the hosts file holds
        self._confirmed = False  # whether dnsmasq was seen serving the hosts file
        self._ttl_noted = False
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether the dnsmasq process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of dnsmasq while it runs."""
        return self._process.pid if self.running and self._process else None

    def command(self) -> list[str]:
        """The dnsmasq command line."""
        args = [
            self.executable,
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-hosts",
            "--no-resolv",
            f"--addn-hosts={self.hosts_path}",
            f"--listen-address={self.listen_address}",
            f"--port={self.port}",
            "--bind-interfaces",
            f"--local-ttl={self.default_ttl}",
            "--pid-file",  # empty: no pid file, we hold the process
            "--log-facility=-",  # stderr, which goes to LOG_FILE
        ]
        args += [f"--server={upstream}" for upstream in self.upstreams]
        if not self.upstreams:
            # Every domain is local: unknown names get NXDOMAIN instead of REFUSED.
            args.append("--local=/#/")
        return args

    def start(self) -> DnsmasqServer:
        """Launch dnsmasq serving the records applied so far; wait until it answers."""
        with self._lock:
            if self.running:
                return self
            self._prepare_workdir()
            self._stop_orphans()
            self._write_hosts(self._answers)
            self._confirmed = False
            offset = self._log_size()
            with self.log_path.open("ab") as log_file:
                try:
                    self._process = subprocess.Popen(
                        self.command(),
                        stdin=subprocess.DEVNULL,
                        stdout=log_file,
                        stderr=log_file,
                    )
                except OSError as exc:
                    raise DnsServerError(
                        f"cannot run dnsmasq '{self.executable}': {exc.strerror or exc}"
                    ) from None
            try:
                # Our hosts file read means our sockets are bound: an answer before that may
                # come from another server sharing the UDP port while ours fails to bind.
                self._wait_reloaded(offset, self.start_timeout, "failed to start")
                self._wait_answering()
                self._confirm({}, self._written)
            except BaseException:
                self._stop()
                raise
            self._confirmed = True
            log.info("dnsmasq started", extra={"pid": self._process.pid, "port": self.port})
            return self

    def apply(self, records: Sequence[DnsRecord]) -> None:
        """Serve exactly `records` (also after a restart); visible to queries on return."""
        answers = _answers_of(records)
        if not self._ttl_noted and any(r.ttl not in (None, self.default_ttl) for r in records):
            self._ttl_noted = True
            log.info("dnsmasq serves all names with one TTL", extra={"ttl": self.default_ttl})
        with self._lock:
            self._answers = answers
            if not self.running:
                raise DnsServerError(self._failure("dnsmasq is not running"))
            if answers == self._written and self._confirmed:
                return
            before = self._written
            # Until the change is confirmed, the next apply must not be skipped.
            self._confirmed = False
            offset = self._log_size()
            self._write_hosts(answers)
            assert self._process is not None
            self._process.send_signal(signal.SIGHUP)
            self._wait_reloaded(offset, self.apply_timeout, "exited while reloading")
            self._confirm(before, answers)
            self._confirmed = True

    def _stop_orphans(self) -> None:
        # A data plane killed with SIGKILL leaves its dnsmasq running (it changed user, so a
        # parent-death signal would not reach it) and holding the port: find it by our hosts
        # file on its command line and end it before starting a new one.
        for pid in pids_with_argument("dnsmasq", f"--addn-hosts={self.hosts_path}"):
            log.warning("stopping an orphaned dnsmasq", extra={"pid": pid})
            kill_and_wait(pid, self.stop_timeout)

    def close(self) -> None:
        """Stop dnsmasq (SIGTERM, then SIGKILL); calling it again does nothing."""
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.info("dnsmasq stopped", extra={"pid": process.pid})

    def _prepare_workdir(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Started as root, dnsmasq reads the hosts file as nobody (see _wait_reloaded).
        self.workdir.chmod(0o755)

    def _write_hosts(self, answers: Answers) -> None:
        lines = ["# Written by mec-platform; replaced on every change.\n"]
        lines += [
            f"{address} {name}\n"
            for (name, _rdtype), addresses in sorted(answers.items())
            for address in sorted(addresses)
        ]
        fd, temp = tempfile.mkstemp(dir=self.workdir, prefix=".hosts-")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.writelines(lines)
                # dnsmasq re-reads the file after dropping root privileges.
                os.fchmod(handle.fileno(), 0o644)
            os.replace(temp, self.hosts_path)
            self._written = answers
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def _wait_answering(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while not resolve_ready(self.listen_address, self.port, _QUERY_TIMEOUT):
            if time.monotonic() > deadline:
                where = f"{self.listen_address}#{self.port}"
                raise DnsServerError(self._failure(f"dnsmasq does not answer on {where}"))
            time.sleep(0.01)

    def _wait_reloaded(self, log_offset: int, timeout: float, exited: str) -> None:
        # dnsmasq handles SIGHUP in its main loop and logs each hosts file it has (re)read;
        # the log tells even when no query could, e.g. a removed name that goes upstream.
        done = f"read {self.hosts_path} - ".encode()
        failed = f"failed to load names from {self.hosts_path}".encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            written = self._log_since(log_offset)
            if failed in written:
                # Started as root, dnsmasq runs as nobody: the workdir's parents must let it in.
                raise DnsServerError(
                    self._failure(
                        "dnsmasq cannot read its hosts file; when started as root it reads it as"
                        " nobody, so the workdir and all its parents must be world-searchable"
                    )
                )
            if done in written:
                return
            if not self.running:
                raise DnsServerError(self._failure(f"dnsmasq {exited}"))
            time.sleep(0.001)
        raise DnsServerError(self._failure(f"dnsmasq did not read its hosts file in {timeout} s"))

    def _confirm(self, before: Answers, after: Answers) -> None:
        # Ask for one changed name, preferring one still served: its answer is local, while
        # a removed one is forwarded when there are upstreams, so nothing then tells.
        changed = [key for key in before.keys() | after.keys() if before.get(key) != after.get(key)]
        key = max(changed or after, key=lambda k: (bool(after.get(k)), k), default=None)
        if key is None or (not after.get(key) and self.upstreams):
            return
        name, rdtype = key
        deadline = time.monotonic() + self.apply_timeout
        while time.monotonic() < deadline:
            if lookup(self.listen_address, self.port, name, rdtype, _QUERY_TIMEOUT) == after.get(
                key, frozenset()
            ):
                return
            time.sleep(0.001)
        raise DnsServerError(self._failure(f"dnsmasq does not serve the new {rdtype} of {name}"))

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def _log_since(self, offset: int) -> bytes:
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(offset)
                return handle.read()
        except OSError:
            return b""

    def _failure(self, summary: str) -> str:
        if self._process is not None and self._process.poll() is not None:
            summary += f" (exit code {self._process.returncode})"
        tail = self._log_since(max(0, self._log_size() - 2048)).decode(errors="replace")
        return f"{summary}; end of {self.log_path}:\n" + "\n".join(tail.splitlines()[-10:])


def _answers_of(records: Sequence[DnsRecord]) -> Answers:
    answers: dict[tuple[str, str], set[str]] = {}
    for record in records:
        name = record.name.strip().rstrip(".").lower()
        if not name or any(c.isspace() or c == "#" for c in name):
            raise ValueError(f"not a DNS name for a hosts file: {record.name!r}")
        address = ipaddress.ip_address(record.address.strip())
        rdtype = "A" if address.version == 4 else "AAAA"
        answers.setdefault((name, rdtype), set()).add(str(address))
    return {key: frozenset(addresses) for key, addresses in answers.items()}
