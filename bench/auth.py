"""What authentication costs: discovery with and without a bearer token, and token issuance.

Discovery: two platforms in one run, both up at once, each with the data of
`bench.discovery` (1,000 services in 10 categories, so `GET /services?ser_category_id=cat-3`
matches 100) and loaded the same way with wrk. One runs with `MEC_AUTH=true` and gets the
request with an app instance's bearer token, obtained with its client credentials from
/oauth2/token; the other runs with `MEC_AUTH=false` and gets the same request without a token.
They are loaded in turns, `--rounds` times each, the order swapped every round, so that a slow
spell of the shared machine weighs on both alike. Target: the ratio of the median req/s,
authenticated / unauthenticated, >= 0.9.

Token issuance: `client_credentials` POSTs to /oauth2/token from the client pool of
`bench.registration` (processes x threads, httpx keep-alive), `MEC_TOKEN_RATE` raised so that
the rate limiter does not cap them. Baseline, in the same run on the same server with the same
pool: as many `GET /healthz`. No target.

    python -m bench.auth
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.clients import run_clients
from bench.common import (
    LoadMonitor,
    PlatformProcess,
    add_app,
    add_app_with_credentials,
    bench_env,
    running,
    verdict,
    workspace,
    write_result,
)
from bench.discovery import seed_and_check
from bench.load import run_load

TARGET = 0.9
# Far above what the client pool reaches: the limiter must not answer in place of the endpoint.
UNLIMITED = "1000000/60"


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.auth", description=__doc__)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--categories", type=int, default=10)
    parser.add_argument("--category", type=int, default=3, help="the category queried")
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load")
    parser.add_argument("--rounds", type=int, default=3, help="measured loads of each platform")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load not measured")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--tokens", type=int, default=2000, help="token requests (and GETs)")
    parser.add_argument("--processes", type=int, default=4, help="token client processes")
    parser.add_argument("--client-threads", type=int, default=2, help="clients per process")
    parser.add_argument("--client-warmup", type=int, default=10, help="unmeasured per client")
    return parser.parse_args(argv)


def client_token(root: str, client_id: str, secret: str) -> str:
    """An access token for an app instance, through the client credentials grant."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    response = httpx.post(f"{root}/oauth2/token", data=form, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"token: HTTP {response.status_code} {response.text}")
    return str(response.json()["access_token"])


@dataclass
class Side:
    """One of the two platforms compared: its discovery URL, headers and measured rounds."""

    label: str
    url: str
    headers: dict[str, str] | None
    seeded: dict[str, Any]
    rounds: list[dict[str, Any]] = field(default_factory=list)


def _seed(env: dict[str, str], server: Any, auth: bool, args: argparse.Namespace) -> Side:
    headers = None
    if auth:
        # The app instance itself registers its services and discovers, with its own token.
        app_id, secret = add_app_with_credentials(env, "bench-auth")
        token = client_token(server.root, app_id, secret)
        headers = {"Authorization": f"Bearer {token}"}
    else:
        app_id = add_app(env, "bench-auth")
    response, registration_s = seed_and_check(server.api, app_id, args, headers)
    url = f"{server.api}/services?ser_category_id=cat-{args.category}"
    if auth and httpx.get(url, timeout=30).status_code != 401:
        raise RuntimeError("MEC_AUTH=true: discovery without a token was not refused")
    seeded = {
        "url": url.replace(str(server.port), "PORT"),
        "token": "app instance (client credentials)" if auth else "none",
        "matched": len(response.json()),
        "response_bytes": len(response.content),
        "registration_s": round(registration_s, 2),
    }
    return Side("auth" if auth else "no_auth", url, headers, seeded)


def measure_discovery(data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Both platforms up at once, loaded in turns (`--rounds`, the order swapped every round),
    so that a slow spell of the machine weighs on both sides alike; medians compared."""
    envs = {}
    for auth in (False, True):
        folder = data_dir / ("auth" if auth else "no-auth")
        folder.mkdir()
        envs[auth] = bench_env(folder) | {"MEC_AUTH": "true" if auth else "false"}
    with (
        running(PlatformProcess(envs[False], workers=args.workers)) as plain_server,
        running(PlatformProcess(envs[True], workers=args.workers)) as auth_server,
    ):
        plain = _seed(envs[False], plain_server, False, args)
        authed = _seed(envs[True], auth_server, True, args)
        for number in range(args.rounds):
            for side in (plain, authed) if number % 2 == 0 else (authed, plain):
                run_load(side.url, args.warmup, args.threads, args.connections, side.headers)
                load = run_load(
                    side.url, args.duration, args.threads, args.connections, side.headers
                )
                side.rounds.append(load)
    return {
        side.label: side.seeded
        | {
            "rounds": side.rounds,
            "median_requests_per_s": statistics.median(r["requests_per_s"] for r in side.rounds),
        }
        for side in (plain, authed)
    }


def measure_tokens(data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Token requests and the /healthz baseline, same client pool, same server."""
    data_dir.mkdir()
    limits = {"MEC_TOKEN_RATE": UNLIMITED, "MEC_AUTH_FAILURE_RATE": UNLIMITED}
    env = bench_env(data_dir) | limits
    pool = (args.processes, args.client_threads, args.client_warmup)
    with running(PlatformProcess(env, workers=args.workers)) as server:
        app_id, secret = add_app_with_credentials(env, "bench-tokens")
        form = {"grant_type": "client_credentials", "client_id": app_id, "client_secret": secret}
        healthz = run_clients("get", f"{server.root}/healthz", args.tokens, *pool, tag="h")
        url = f"{server.root}/oauth2/token"
        tokens = run_clients("form", url, args.tokens, *pool, tag="t", form=form)
    if tokens["statuses"] != {"200": args.tokens}:
        raise RuntimeError(f"token requests answered {tokens['statuses']}")
    return {"healthz": healthz, "token": tokens, "settings": limits}


def _load_line(label: str, load: dict[str, Any]) -> str:
    lat = load["latency_ms"]
    errors = sum(load["errors"].values())
    return (
        f"{label:<34} {load['requests_per_s']:>9.1f} req/s   p50 {lat['p50']:>7.2f} ms   "
        f"p99 {lat['p99']:>7.2f} ms   errors {errors}"
    )


def _pool_line(label: str, run: dict[str, Any]) -> str:
    lat = run["latency"]
    return (
        f"{label:<34} {run['requests_per_s']:>9.1f} req/s   p50 {lat['p50_ms']:>7.2f} ms   "
        f"p99 {lat['p99_ms']:>7.2f} ms   statuses {run['statuses']}"
    )


def _report(runs: dict[str, Any], args: argparse.Namespace) -> dict[str, float]:
    plain, authed = runs["discovery"]["no_auth"], runs["discovery"]["auth"]
    tool = authed["rounds"][0]["tool"]
    print(
        f"auth: discovery of {authed['matched']} of {args.services} services "
        f"({authed['response_bytes']} bytes); load tool: {tool}, {args.duration} s, "
        f"{args.threads} threads, {args.connections} connections; {args.rounds} rounds in turns"
    )
    for number, (off, on) in enumerate(zip(plain["rounds"], authed["rounds"], strict=True)):
        print(_load_line(f"round {number + 1}: MEC_AUTH=false, no token", off))
        print(_load_line(f"round {number + 1}: MEC_AUTH=true, app token", on))
    per_round = [
        on["requests_per_s"] / off["requests_per_s"]
        for off, on in zip(plain["rounds"], authed["rounds"], strict=True)
    ]
    ratio = round(authed["median_requests_per_s"] / plain["median_requests_per_s"], 3)
    print(
        f"median req/s: MEC_AUTH=false {plain['median_requests_per_s']:.1f}, "
        f"MEC_AUTH=true {authed['median_requests_per_s']:.1f}; per-round ratios "
        + ", ".join(f"{value:.3f}" for value in per_round)
    )
    print(
        f"ratio authenticated/unauthenticated (medians) = {ratio:.3f}  (target >= {TARGET}: "
        f"{verdict(ratio, TARGET, True)})"
    )
    issuance = runs["issuance"]
    print(f"token issuance: {args.tokens} requests each, clients: {issuance['token']['clients']}")
    print(_pool_line("baseline GET /healthz", issuance["healthz"]))
    print(_pool_line("POST /oauth2/token", issuance["token"]))
    per_s = issuance["token"]["requests_per_s"] / issuance["healthz"]["requests_per_s"]
    print(f"ratio token/healthz = {per_s:.3f}  (no target set)")
    return {"discovery_auth/no_auth": ratio, "token/healthz": round(per_s, 3)}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    monitor = LoadMonitor()
    runs: dict[str, Any] = {}
    with workspace("auth") as tmp:
        runs["discovery"] = measure_discovery(tmp, args)
        runs["issuance"] = measure_tokens(tmp / "tokens", args)
    load = monitor.end()
    ratios = _report(runs, args)
    path = write_result(
        "auth",
        {
            "machine_load": load,
            "runs": runs,
            "ratios": ratios,
            "target": f"discovery ratio >= {TARGET}",
            "args": vars(args),
        },
    )
    print(f"wrote {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
