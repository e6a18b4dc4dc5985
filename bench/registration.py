"""Registration throughput: sustained POST /applications/{id}/services from concurrent clients.

2,000 new services are registered by a pool of client processes (httpx, keep-alive) into the
platform under gunicorn with 2 uvicorn workers. The baseline, measured in the same run on the
same server with the same client pool, is the same number of GET /healthz requests: the
server's own overhead per request (ASGI stack, routing) without validation or a database. Both
carry a platform admin's bearer token (/healthz does not look at it).

    python -m bench.registration [--postgres postgresql://user@127.0.0.1/db]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.clients import run_clients
from bench.common import (
    LoadMonitor,
    PlatformProcess,
    add_app,
    admin_headers,
    bench_env,
    fresh_postgres,
    postgres_version,
    running,
    workspace,
    write_result,
)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.registration", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--threads", type=int, default=2, help="clients per process")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests per client")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--postgres", metavar="URL", help="also run against this PostgreSQL")
    return parser.parse_args(argv)


def measure(
    data_dir: Path, database_url: str | None, args: argparse.Namespace, with_baseline: bool
) -> dict[str, Any]:
    """Registrations (and optionally the /healthz baseline) against one platform server."""
    data_dir.mkdir()
    env = bench_env(data_dir, database_url)
    out: dict[str, Any] = {}
    pool = (args.processes, args.threads, args.warmup)
    with running(PlatformProcess(env, workers=args.workers)) as server:
        app_id = add_app(env, "bench-registration")
        headers = admin_headers(env)
        if with_baseline:
            out["healthz"] = run_clients(
                "get", f"{server.root}/healthz", args.requests, *pool, tag="h", headers=headers
            )
        url = f"{server.api}/applications/{app_id}/services"
        out["register"] = run_clients(
            "register", url, args.requests, *pool, tag="reg", headers=headers
        )
    return out


def _line(label: str, run: dict[str, Any]) -> str:
    lat = run["latency"]
    return (
        f"{label:<22} {run['requests_per_s']:>8.1f} req/s   p50 {lat['p50_ms']:>7.2f} ms   "
        f"p99 {lat['p99_ms']:>7.2f} ms   max {lat['max_ms']:>7.2f} ms   statuses {run['statuses']}"
    )


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    monitor = LoadMonitor()
    runs: dict[str, Any] = {}
    with workspace("registration") as tmp:
        sqlite = measure(tmp / "sqlite", None, args, with_baseline=True)
        runs["baseline_healthz"] = sqlite["healthz"]
        runs["register_sqlite"] = sqlite["register"]
        if args.postgres:
            with fresh_postgres(args.postgres) as url:
                runs["postgres_server"] = postgres_version(url)
                runs["register_postgres"] = measure(tmp / "pg", url, args, False)["register"]
    load = monitor.end()
    baseline = runs["baseline_healthz"]["requests_per_s"]
    print(
        f"registration: {args.requests} requests each, clients: "
        f"{runs['baseline_healthz']['clients']}"
    )
    print(_line("baseline GET /healthz", runs["baseline_healthz"]))
    ratios: dict[str, float] = {}
    for key in ("register_sqlite", "register_postgres"):
        if key in runs:
            print(_line(key.replace("_", " "), runs[key]))
            ratios[key] = round(runs[key]["requests_per_s"] / baseline, 3)
    for key, ratio in ratios.items():
        print(f"ratio {key}/baseline = {ratio:.3f}  (no target set)")
    args.postgres = "given" if args.postgres else None
    path = write_result(
        "registration",
        {
            "machine_load": load,
            "runs": runs,
            "ratios": ratios,
            "args": vars(args),
        },
    )
    print(f"wrote {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
