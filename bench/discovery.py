"""Discovery throughput: GET /services?ser_category_id=cat-3 over 1,000 registered services.

The platform (gunicorn, 2 uvicorn workers) is loaded with 1,000 services in 10 categories, so
the query matches 100 of them; wrk then drives the query for a fixed time. The baseline,
measured in the same run, is a bare Flask app serving the very same response bytes from memory
under the same gunicorn + uvicorn + a2wsgi stack. Both get the same requests, with a platform
admin's bearer token (which the bare app ignores). Target: platform/baseline >= 0.5.

    python -m bench.discovery [--postgres postgresql://user@127.0.0.1/db]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import httpx

from bench.baseline_app import BaselineServer
from bench.common import (
    API,
    LoadMonitor,
    PlatformProcess,
    add_app,
    admin_headers,
    bench_env,
    fresh_postgres,
    postgres_version,
    register_services,
    running,
    verdict,
    workspace,
    write_result,
)
from bench.load import run_load

TARGET = 0.5


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.discovery", description=__doc__)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--categories", type=int, default=10)
    parser.add_argument("--category", type=int, default=3, help="the category queried")
    parser.add_argument("--duration", type=int, default=15, help="seconds of measured load")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load not measured")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (both servers)")
    parser.add_argument("--postgres", metavar="URL", help="also run against this PostgreSQL")
    return parser.parse_args(argv)


Headers = dict[str, str]


def _load(url: str, args: argparse.Namespace, headers: Headers | None = None) -> dict[str, Any]:
    run_load(url, args.warmup, args.threads, args.connections, headers)
    return run_load(url, args.duration, args.threads, args.connections, headers)


def seed_and_check(
    api: str, app_id: str, args: argparse.Namespace, headers: Headers | None
) -> tuple[httpx.Response, float]:
    """Register the services, then check the query's match count; (answer, seconds taken)."""
    began = time.monotonic()
    register_services(api, app_id, args.services, args.categories, headers=headers)
    registration_s = time.monotonic() - began
    url = f"{api}/services?ser_category_id=cat-{args.category}"
    response = httpx.get(url, timeout=30, headers=headers)
    response.raise_for_status()
    matched = len(response.json())
    expected = len(range(args.category, args.services, args.categories))
    if matched != expected:
        raise RuntimeError(f"discovery matched {matched} services, expected {expected}")
    return response, registration_s


def measure_platform(
    data_dir: Path, database_url: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    """Start the platform, register the services, load the discovery query."""
    data_dir.mkdir()
    env = bench_env(data_dir, database_url)
    with running(PlatformProcess(env, workers=args.workers)) as server:
        app_id = add_app(env, "bench-discovery")
        headers = admin_headers(env)
        response, registration_s = seed_and_check(server.api, app_id, args, headers)
        url = f"{server.api}/services?ser_category_id=cat-{args.category}"
        load = _load(url, args, headers)
    load.update(
        url=url.replace(str(server.port), "PORT"),
        matched=len(response.json()),
        response_bytes=len(response.content),
        registration_s=round(registration_s, 2),
    )
    return {"load": load, "body": response.content, "headers": headers}


def measure_baseline(
    body_file: Path, args: argparse.Namespace, headers: Headers | None = None
) -> dict[str, Any]:
    """Serve the same bytes from the bare Flask app and load it the same way."""
    with running(BaselineServer(body_file, workers=args.workers)) as server:
        url = f"{server.root}{API}/services?ser_category_id=cat-{args.category}"
        check = httpx.get(url, timeout=30)
        if check.content != body_file.read_bytes():
            raise RuntimeError("baseline does not serve the platform's bytes")
        load = _load(url, args, headers)
        load["server_command"] = " ".join(server.command()[1:])
    return load


def _line(label: str, load: dict[str, Any]) -> str:
    lat = load["latency_ms"]
    errors = sum(load["errors"].values())
    return (
        f"{label:<24} {load['requests_per_s']:>9.1f} req/s   p50 {lat['p50']:>7.2f} ms   "
        f"p90 {lat['p90']:>7.2f} ms   p99 {lat['p99']:>7.2f} ms   errors {errors}"
    )


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    monitor = LoadMonitor()
    runs: dict[str, Any] = {}
    with workspace("discovery") as tmp:
        sqlite = measure_platform(tmp / "sqlite", None, args)
        runs["platform_sqlite"] = sqlite["load"]
        body_file = tmp / "body.json"
        body_file.write_bytes(sqlite["body"])
        runs["baseline_flask"] = measure_baseline(body_file, args, sqlite["headers"])
        if args.postgres:
            with fresh_postgres(args.postgres) as url:
                runs["postgres_server"] = postgres_version(url)
                runs["platform_postgres"] = measure_platform(tmp / "pg", url, args)["load"]
    load = monitor.end()
    baseline = runs["baseline_flask"]["requests_per_s"]
    print(
        f"discovery: {args.services} services, {args.categories} categories, "
        f"query matches {runs['platform_sqlite']['matched']} "
        f"({runs['platform_sqlite']['response_bytes']} bytes); load tool: "
        f"{runs['baseline_flask']['tool']}, {args.duration} s, "
        f"{args.threads} threads, {args.connections} connections"
    )
    print(_line("baseline (bare Flask)", runs["baseline_flask"]))
    ratios: dict[str, float] = {}
    for key in ("platform_sqlite", "platform_postgres"):
        if key in runs:
            ratios[key] = round(runs[key]["requests_per_s"] / baseline, 3)
            print(_line(key.replace("_", " "), runs[key]))
    for key, ratio in ratios.items():
        print(
            f"ratio {key}/baseline = {ratio:.3f}  (target >= {TARGET}: "
            f"{verdict(ratio, TARGET, True)})"
        )
    args.postgres = "given" if args.postgres else None
    path = write_result(
        "discovery",
        {
            "machine_load": load,
            "runs": runs,
            "ratios": ratios,
            "target": f"ratio >= {TARGET}",
            "args": vars(args),
        },
    )
    print(f"wrote {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
