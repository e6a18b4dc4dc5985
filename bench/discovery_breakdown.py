"""Diagnostic for the discovery benchmark: where a GET /services request spends its time.

Loads, one after another with the same wrk settings, the bare Flask baseline and a ladder
of endpoints on one platform with 1,000 services registered:

    baseline (tiny body)   gunicorn + uvicorn + a2wsgi + Flask only
    GET /healthz           + the platform's ASGI middleware (metrics, connexion routing)
    GET /transports        + a connexion API operation (security, validation, decorators)
    ?ser_category_id=none  discovery with no match
    ?ser_category_id=cat-3 discovery with 100 matches (71 kB)

Since the discovery cache (commits 04a14f8 and 91b32ec) a repeated discovery request is
answered after routing and security from bytes rendered earlier, once a registry-version
read shows they are current; so the last two steps measure that path (the version read
included), not the rendering of a fresh answer. Every platform step sends a platform admin's
bearer token (so the operations include the token check; /healthz ignores it).

    python -m bench.discovery_breakdown
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.baseline_app import BaselineServer
from bench.common import (
    LoadMonitor,
    PlatformProcess,
    add_app,
    admin_headers,
    bench_env,
    register_services,
    running,
    workspace,
    write_result,
)
from bench.load import run_load


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.discovery_breakdown")
    parser.add_argument("--duration", type=int, default=8, help="seconds per endpoint")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    return parser.parse_args(argv)


def _measure(
    url: str, args: argparse.Namespace, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    run_load(url, args.warmup, args.threads, args.connections, headers)
    return run_load(url, args.duration, args.threads, args.connections, headers)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    monitor = LoadMonitor()
    steps: dict[str, Any] = {}
    with workspace("breakdown") as tmp:
        small = tmp / "small.json"
        small.write_bytes(b'{"status":"ok"}')
        with running(BaselineServer(small)) as baseline:
            steps["baseline Flask, 15 bytes"] = _measure(f"{baseline.root}/x", args)
        env = bench_env(tmp)
        with running(PlatformProcess(env)) as server:
            app_id = add_app(env, "bench-breakdown")
            headers = admin_headers(env)
            register_services(server.api, app_id, 1000, 10, headers=headers)
            ladder = {
                "platform /healthz": f"{server.root}/healthz",
                "platform /transports": f"{server.api}/transports",
                "/services 0 matches": f"{server.api}/services?ser_category_id=none",
                "/services 100 matches": f"{server.api}/services?ser_category_id=cat-3",
            }
            for label, url in ladder.items():
                steps[label] = _measure(url, args, headers)
    load = monitor.end()
    previous = None
    for label, step in steps.items():
        rps = step["requests_per_s"]
        cost = 1000 / rps
        added = f"  (+{cost - previous:.3f} ms)" if previous is not None else ""
        print(f"{label:<26} {rps:>8.1f} req/s   {cost:.3f} ms per request (1/throughput){added}")
        previous = cost
    path = write_result(
        "discovery_breakdown",
        {"machine_load": load, "steps": steps, "args": vars(args)},
    )
    print(f"wrote {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
