"""DNS rule propagation: from an app's PUT of a DNS rule until the platform's DNS server agrees.

The platform runs with its data plane (dnsmasq on a free loopback port, traffic rules off) and
one app instance holding one DNS rule. Each toggle PUTs the rule ACTIVE and polls the DNS
server over UDP (dnspython, every ~2 ms, from the moment the PUT is sent) until the name
resolves to the rule's address; then PUTs it INACTIVE and polls until the answer is NXDOMAIN.
The PUT's own latency is recorded too. Baselines in the same run: the round-trip time of a
plain query to the same dnsmasq, and of `GET /healthz` on the same server. The HTTP client
carries a platform admin's bearer token throughout. No target.

    python -m bench.dns_toggle
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.rcode
import httpx

from bench.common import (
    LOOPBACK,
    LoadMonitor,
    PlatformProcess,
    add_app,
    admin_headers,
    bench_env,
    running,
    summary_ms,
    workspace,
    write_result,
)

ADDRESS = "10.0.0.7"
GIVE_UP_S = 5.0
QUERY_TIMEOUT_S = 0.05


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.dns_toggle", description=__doc__)
    parser.add_argument("--toggles", type=int, default=50, help="measured ACTIVE/INACTIVE pairs")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured toggles first")
    parser.add_argument("--poll", type=float, default=0.002, help="seconds between DNS queries")
    parser.add_argument("--pause", type=float, default=0.1, help="mean seconds between PUTs")
    parser.add_argument("--baseline", type=int, default=500, help="queries / GETs per baseline")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    return parser.parse_args(argv)


def free_dns_port() -> int:
    """A port on 127.0.0.1 free for both UDP and TCP (dnsmasq binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((LOOPBACK, 0))
            port = int(udp.getsockname()[1])
            with socket.socket() as tcp:
                try:
                    tcp.bind((LOOPBACK, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no port free for both UDP and TCP")


class Resolver:
    """UDP queries for one A name to the platform's DNS server."""

    def __init__(self, port: int, name: str) -> None:
        self.port = port
        self.name = name
        self.timeouts = 0

    def ask(self) -> tuple[int, set[str]] | None:
        """(rcode, A addresses) of one query; None when no answer came in time."""
        query = dns.message.make_query(self.name, "A")
        try:
            response = dns.query.udp(query, LOOPBACK, port=self.port, timeout=QUERY_TIMEOUT_S)
        except dns.exception.Timeout:
            self.timeouts += 1
            return None
        addresses = {rdata.address for rrset in response.answer for rdata in rrset}
        return response.rcode(), addresses

    def resolves(self) -> bool:
        """True when the name resolves to the rule's address."""
        answer = self.ask()
        return answer is not None and answer == (dns.rcode.NOERROR, {ADDRESS})

    def gone(self) -> bool:
        """True when the server answers NXDOMAIN for the name."""
        answer = self.ask()
        return answer is not None and answer[0] == dns.rcode.NXDOMAIN


def _wait_dns(resolver: Resolver, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not resolver.gone():
        if time.monotonic() > deadline:
            raise TimeoutError(f"DNS server on port {resolver.port} never answered NXDOMAIN")
        time.sleep(0.05)


class Toggler:
    """PUTs the rule's state and measures until DNS shows it."""

    def __init__(
        self, client: httpx.Client, url: str, rule: dict[str, Any], resolver: Resolver, poll: float
    ) -> None:
        self.client = client
        self.url = url
        self.rule = rule
        self.resolver = resolver
        self.poll = poll
        self.pool = ThreadPoolExecutor(1)

    def _put(self, state: str) -> float:
        response = self.client.put(self.url, json=self.rule | {"state": state})
        answered = time.monotonic()
        if response.status_code != 200 or response.json()["state"] != state:
            raise RuntimeError(f"PUT {state}: HTTP {response.status_code} {response.text}")
        return answered

    def toggle(self, state: str) -> dict[str, float]:
        """PUT `state`; seconds until the PUT answered and until DNS agreed, from the send."""
        check = self.resolver.resolves if state == "ACTIVE" else self.resolver.gone
        sent = time.monotonic()
        # The PUT runs beside the polling so a change applied before the answer is seen early.
        put: Future[float] = self.pool.submit(self._put, state)
        while not check():
            if time.monotonic() - sent > GIVE_UP_S:
                raise TimeoutError(f"DNS did not show {state} within {GIVE_UP_S} s")
            time.sleep(self.poll)
        seen = time.monotonic()
        answered = put.result(timeout=GIVE_UP_S)
        return {"put": answered - sent, "dns": seen - sent, "after_put": seen - answered}

    def close(self) -> None:
        """Stop the PUT thread."""
        self.pool.shutdown()


def _run_toggles(toggler: Toggler, args: argparse.Namespace) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    rng = random.Random(11)  # seeded jitter: pauses do not lock to the data plane's 1 s poll
    for i in range(args.warmup + args.toggles):
        for state in ("ACTIVE", "INACTIVE"):
            times = toggler.toggle(state)
            if i >= args.warmup:
                for key, value in times.items():
                    samples.setdefault(f"{state.lower()}_{key}", []).append(value)
            time.sleep(max(0.0, args.pause + rng.uniform(-0.03, 0.03)))
    return samples


def _baselines(client: httpx.Client, root: str, resolver: Resolver, count: int) -> Any:
    query_s: list[float] = []
    for _ in range(count):
        began = time.monotonic()
        if resolver.ask() is None:
            continue
        query_s.append(time.monotonic() - began)
    healthz_s: list[float] = []
    for _ in range(count):
        began = time.monotonic()
        client.get(f"{root}/healthz").raise_for_status()
        healthz_s.append(time.monotonic() - began)
    return {"dns_query": summary_ms(query_s), "healthz": summary_ms(healthz_s)}


def measure(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Start the platform with its data plane, add the app, run the toggles and baselines."""
    # Started as root, dnsmasq reads its hosts file as nobody: every parent must be searchable.
    # Its files go into the workspace (not the root default under /run) so they are removed.
    tmp.chmod(0o755)
    port = free_dns_port()
    name = f"svc-{uuid.uuid4().hex[:8]}.bench.mec"
    env = bench_env(tmp / "data") | {
        "MEC_DATAPLANE": "true",
        "MEC_TRAFFIC_RULES": "false",
        "MEC_DNS_LISTEN": LOOPBACK,
        "MEC_DNS_PORT": str(port),
        "MEC_DNS_DIR": str(tmp / "dns"),
    }
    (tmp / "data").mkdir(mode=0o755)
    rule = {
        "dnsRuleId": "r1",
        "domainName": name,
        "ipAddressType": "IP_V4",
        "ipAddress": ADDRESS,
        "state": "INACTIVE",
        "ttl": 30,
    }
    resolver = Resolver(port, name)
    with running(PlatformProcess(env, workers=args.workers)) as server:
        app_id = add_app(env, "bench-dns", "--dns-rule", json.dumps(rule))
        _wait_dns(resolver)
        url = f"{server.app_api}/applications/{app_id}/dns_rules/r1"
        with httpx.Client(timeout=30, headers=admin_headers(env)) as client:
            toggler = Toggler(client, url, rule, resolver, args.poll)
            try:
                samples = _run_toggles(toggler, args)
            finally:
                toggler.close()
            baseline = _baselines(client, server.root, resolver, args.baseline)
    return {
        "dns_port": port,
        "toggles": {key: summary_ms(values) for key, values in samples.items()},
        "baseline": baseline,
        "query_timeouts": resolver.timeouts,
    }


def _line(label: str, figures: dict[str, float]) -> str:
    return (
        f"{label:<34} p50 {figures['p50_ms']:>8.2f} ms   p99 {figures['p99_ms']:>8.2f} ms   "
        f"max {figures['max_ms']:>8.2f} ms"
    )


def _report(result: dict[str, Any], args: argparse.Namespace) -> dict[str, float]:
    toggles, baseline = result["toggles"], result["baseline"]
    print(
        f"dns_toggle: {args.toggles} toggles after {args.warmup} warm-up, DNS polled every "
        f"{args.poll * 1000:.0f} ms from the PUT's send; {result['query_timeouts']} query timeouts"
    )
    print(_line("baseline: plain DNS query RTT", baseline["dns_query"]))
    print(_line("baseline: GET /healthz RTT", baseline["healthz"]))
    labels = {"put": "PUT answered", "dns": "DNS shows it", "after_put": "DNS after the PUT answer"}
    for state in ("active", "inactive"):
        for key, label in labels.items():
            print(_line(f"{state.upper()}: {label}", toggles[f"{state}_{key}"]))
    ratios: dict[str, float] = {}
    for state in ("active", "inactive"):
        dns_p50 = toggles[f"{state}_dns"]["p50_ms"]
        ratios[f"{state}_dns_p50/healthz_p50"] = round(dns_p50 / baseline["healthz"]["p50_ms"], 2)
        ratios[f"{state}_dns_p50/put_p50"] = round(dns_p50 / toggles[f"{state}_put"]["p50_ms"], 2)
    for key, ratio in ratios.items():
        print(f"ratio {key} = {ratio:.2f}  (no target set)")
    return ratios


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    monitor = LoadMonitor()
    with workspace("dns-toggle") as tmp:
        result = measure(tmp, args)
    load = monitor.end()
    ratios = _report(result, args)
    path = write_result(
        "dns_toggle",
        {"machine_load": load, "run": result, "ratios": ratios, "args": vars(args)},
    )
    print(f"wrote {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
