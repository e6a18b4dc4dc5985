"""Heartbeat throughput: PATCH on the liveness resources of 500 live services, against discovery.

500 services, spread over several app instances, are registered with a `livenessInterval` long
enough that none expires during the run. wrk then PATCHes `{"state": "ACTIVE"}` to their
liveness links, a Lua script rotating over all 500 URLs (each wrk thread from its own offset).
Baselines in the same run: on the same server, the discovery query of `bench.discovery`
(`GET /services?ser_category_id=cat-3`, here matching 50 of the 500 services) loaded the same
way; and the bare Flask app of `bench.baseline_app` serving the bytes of that query. Afterwards
every service must still be ACTIVE and carry a heartbeat timestamp from the load. Every request
carries a platform admin's bearer token (the bare Flask app ignores it). No target.

    python -m bench.heartbeat [--postgres postgresql://user@127.0.0.1/db]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.common import (
    LoadMonitor,
    PlatformProcess,
    add_app,
    admin_headers,
    bench_env,
    fresh_postgres,
    postgres_version,
    running,
    service_body,
    workspace,
    write_result,
)
from bench.discovery import measure_baseline
from bench.load import _DONE_HOOK, _shape, have_wrk, header_options, run_load

# Data plane off: heartbeats touch no DNS or traffic rule, and it would need a DNS port and nft.
PLATFORM_SETTINGS = {"MEC_DATAPLANE": "false", "MEC_TRAFFIC_RULES": "false"}

_ROTATE = """
wrk.method = "PATCH"
wrk.body = '{"state":"ACTIVE"}'
wrk.headers["Content-Type"] = "application/json"
local paths = {%s}
local counter = 0
local started = 0
setup = function(thread)
  thread:set("offset", started * %d)
  started = started + 1
end
init = function(args)
  counter = tonumber(offset) or 0
end
request = function()
  counter = counter %% #paths + 1
  return wrk.format(nil, paths[counter])
end
"""


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.heartbeat", description=__doc__)
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--apps", type=int, default=5, help="app instances holding them")
    parser.add_argument("--interval", type=int, default=60, help="livenessInterval, seconds")
    parser.add_argument("--categories", type=int, default=10)
    parser.add_argument("--category", type=int, default=3, help="category of the discovery query")
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load not measured")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (both servers)")
    parser.add_argument("--postgres", metavar="URL", help="also run against this PostgreSQL")
    return parser.parse_args(argv)


Headers = dict[str, str]


def register_live(
    api: str, app_ids: list[str], args: argparse.Namespace, headers: Headers
) -> list[str]:
    """Register the services round-robin over the apps; their liveness URLs."""

    def one(client: httpx.Client, i: int) -> str:
        app_id = app_ids[i % len(app_ids)]
        body = service_body(f"live-{i}", i % args.categories) | {"livenessInterval": args.interval}
        response = client.post(f"{api}/applications/{app_id}/services", json=body)
        if response.status_code != 201:
            raise RuntimeError(f"registration {i}: HTTP {response.status_code} {response.text}")
        created = response.json()
        if created.get("livenessInterval") != args.interval:
            raise RuntimeError(f"registration {i}: interval {created.get('livenessInterval')}")
        return str(created["_links"]["liveness"]["href"])

    with httpx.Client(timeout=30, headers=headers) as client, ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda i: one(client, i), range(args.services)))


def run_wrk_rotating(
    root: str, urls: list[str], seconds: int, pool: tuple[int, int], headers: Headers
) -> Any:
    """wrk PATCHing a heartbeat to each of `urls` in turn; figures shaped as bench.load's."""
    threads, conns = pool
    paths = [urlsplit(url).path for url in urls]
    lua = _ROTATE % (", ".join(json.dumps(p) for p in paths), len(paths) // max(1, threads))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua + _DONE_HOOK)
    command = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s"]
    # wrk's -H headers are in `wrk.headers` before the script adds Content-Type to them.
    sent, shown = header_options(headers)
    try:
        out = subprocess.run(
            [*command, *sent, "-s", script.name, root],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
    finally:
        Path(script.name).unlink()
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    result = _shape(
        raw["requests"], raw["duration_us"] / 1e6, raw["bytes"], raw["errors"], raw["latency_us"]
    )
    result["tool"] = "wrk, Lua rotation over the liveness URLs"
    result["command"] = " ".join([*command, *shown, "-s rotate.lua", "ROOT"])
    return result


def verify(api: str, urls: list[str], since: float, headers: Headers) -> dict[str, Any]:
    """Every service still ACTIVE, every liveness resource stamped at or after `since`."""
    with httpx.Client(timeout=30, headers=headers) as client:
        states = [s["state"] for s in client.get(f"{api}/services").raise_for_status().json()]
        stamps = []
        for url in urls:
            info = client.get(url).raise_for_status().json()
            if info["state"] != "ACTIVE":
                raise RuntimeError(f"{url}: liveness state {info['state']}")
            stamp = info["timeStamp"]
            stamps.append(stamp["seconds"] + stamp["nanoSeconds"] / 1e9)
    fresh = sum(1 for stamp in stamps if stamp >= since)
    active = states.count("ACTIVE")
    if active != len(urls) or len(states) != len(urls) or fresh != len(urls):
        raise RuntimeError(
            f"after the load: {active} of {len(states)} services ACTIVE, "
            f"{fresh} of {len(urls)} heartbeats from the load"
        )
    return {
        "services_active": active,
        "heartbeats_from_load": fresh,
        "oldest_heartbeat_age_s": round(time.time() - min(stamps), 2),
    }


def _load_pair(url: str, args: argparse.Namespace, headers: Headers) -> dict[str, Any]:
    run_load(url, args.warmup, args.threads, args.connections, headers)
    return run_load(url, args.duration, args.threads, args.connections, headers)


def measure_platform(
    data_dir: Path, database_url: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    """Register the live services, load discovery, then the heartbeats; check the outcome."""
    data_dir.mkdir()
    env = bench_env(data_dir, database_url) | PLATFORM_SETTINGS
    with running(PlatformProcess(env, workers=args.workers)) as server:
        app_ids = [add_app(env, f"bench-heartbeat-{i}") for i in range(args.apps)]
        headers = admin_headers(env)
        began = time.monotonic()
        urls = register_live(server.api, app_ids, args, headers)
        registration_s = time.monotonic() - began
        first = httpx.patch(urls[0], json={"state": "ACTIVE"}, timeout=30, headers=headers)
        if first.status_code != 204:
            raise RuntimeError(f"heartbeat: HTTP {first.status_code} {first.text}")
        query = f"{server.api}/services?ser_category_id=cat-{args.category}"
        body = httpx.get(query, timeout=30, headers=headers).raise_for_status().content
        discovery = _load_pair(query, args, headers)
        discovery.update(matched=len(json.loads(body)), response_bytes=len(body))
        since = time.time()
        pool = (args.threads, args.connections)
        run_wrk_rotating(server.root, urls, args.warmup, pool, headers)
        heartbeat = run_wrk_rotating(server.root, urls, args.duration, pool, headers)
        heartbeat["registration_s"] = round(registration_s, 2)
        checked = verify(server.api, urls, since, headers)
    return {
        "discovery": discovery,
        "heartbeat": heartbeat,
        "verify": checked,
        "body": body,
        "headers": headers,
    }


def _line(label: str, load: dict[str, Any]) -> str:
    lat = load["latency_ms"]
    errors = sum(load["errors"].values())
    return (
        f"{label:<28} {load['requests_per_s']:>9.1f} req/s   p50 {lat['p50']:>7.2f} ms   "
        f"p90 {lat['p90']:>7.2f} ms   p99 {lat['p99']:>7.2f} ms   errors {errors}"
    )


def _report(runs: dict[str, Any], args: argparse.Namespace) -> dict[str, float]:
    flask = runs["baseline_flask"]
    print(
        f"heartbeat: {args.services} services in {args.apps} apps, livenessInterval "
        f"{args.interval} s; wrk {args.duration} s after {args.warmup} s warm-up, "
        f"{args.threads} threads, {args.connections} connections; discovery query matches "
        f"{runs['sqlite']['discovery']['matched']} ({runs['sqlite']['discovery']['response_bytes']}"
        " bytes)"
    )
    print(_line("baseline bare Flask (GET)", flask))
    ratios: dict[str, float] = {}
    for db in ("sqlite", "postgres"):
        if db not in runs:
            continue
        run = runs[db]
        print(_line(f"{db}: discovery GET", run["discovery"]))
        print(_line(f"{db}: heartbeat PATCH", run["heartbeat"]))
        beats = run["heartbeat"]["requests_per_s"]
        ratios[f"heartbeat_{db}/discovery_{db}"] = round(
            beats / run["discovery"]["requests_per_s"], 3
        )
        ratios[f"heartbeat_{db}/flask"] = round(beats / flask["requests_per_s"], 3)
        ratios[f"discovery_{db}/flask"] = round(
            run["discovery"]["requests_per_s"] / flask["requests_per_s"], 3
        )
        checked = run["verify"]
        print(
            f"{db}: after the load {checked['services_active']} services ACTIVE, "
            f"{checked['heartbeats_from_load']} stamped by the load "
            f"(oldest {checked['oldest_heartbeat_age_s']} s ago)"
        )
    for key, ratio in ratios.items():
        print(f"ratio {key} = {ratio:.3f}  (no target set)")
    return ratios


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if not have_wrk():
        print("bench.heartbeat needs wrk (apt-get install -y wrk)", file=sys.stderr)
        return 2
    monitor = LoadMonitor()
    runs: dict[str, Any] = {}
    with workspace("heartbeat") as tmp:
        sqlite = measure_platform(tmp / "sqlite", None, args)
        body_file = tmp / "body.json"
        body_file.write_bytes(sqlite.pop("body"))
        headers = sqlite.pop("headers")
        runs["sqlite"] = sqlite
        runs["baseline_flask"] = measure_baseline(body_file, args, headers)
        if args.postgres:
            with fresh_postgres(args.postgres) as url:
                runs["postgres_server"] = postgres_version(url)
                runs["postgres"] = measure_platform(tmp / "pg", url, args)
                runs["postgres"].pop("body")
                runs["postgres"].pop("headers")
    load = monitor.end()
    ratios = _report(runs, args)
    args.postgres = "given" if args.postgres else None
    path = write_result(
        "heartbeat",
        {"machine_load": load, "runs": runs, "ratios": ratios, "args": vars(args)},
    )
    print(f"wrote {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
