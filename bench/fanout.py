"""Notification fan-out: one registration matched by 100 subscriptions, until the 100th callback.

One app instance holds 100 SerAvailabilityNotification subscriptions filtered on one service
category, each with its own callback path on one receiver (bench/receiver.py). Each run
registers a new service of that category and measures from just before the POST until the
receiver has the 100th notification. The platform runs under gunicorn (2 workers) with the
notification worker as its own process, MEC_WORKER_POLL_INTERVAL left unset (default 0.05 s).

Baseline, in the same run: one Python process (a separate one, as the platform's worker is)
POSTs the same notification body 100 times in a row with one keep-alive httpx.Client to the
same receiver paths. Target: p50(platform) / p50(baseline) <= 1.5.

    python -m bench.fanout
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import time
from collections.abc import Iterator
from typing import Any

import httpx

from bench.common import (
    LoadMonitor,
    PlatformProcess,
    WorkerProcess,
    add_app,
    admin_headers,
    bench_env,
    running,
    service_body,
    summary_ms,
    verdict,
    workspace,
    write_result,
)
from bench.receiver import Arrival, TimingReceiver

TARGET = 1.5
CATEGORY = 7
WAIT_S = 30.0


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--subscriptions", type=int, default=100)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured runs first")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.3,
        help="mean seconds between runs; each pause is drawn from pause +/- 0.05 s",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="MEC_NAME=VALUE",
        help="extra platform setting for a diagnostic run (the reported figures use none)",
    )
    return parser.parse_args(argv)


def _pauses(mean: float) -> Iterator[float]:
    # A fixed pause would lock each POST to the same phase of the worker's poll cycle (a pause
    # of 0.3 s is exactly six 0.05 s polls); a jitter wider than one poll interval samples
    # every phase. Seeded, so two runs draw the same pauses.
    rng = random.Random(11)
    while True:
        yield max(0.0, mean + rng.uniform(-0.05, 0.05))


def _subscribe(
    api: str, app_id: str, receiver: TimingReceiver, count: int, headers: dict[str, str]
) -> list[str]:
    category = service_body("x", CATEGORY)["serCategory"]
    paths = [f"/cb/{i}" for i in range(count)]
    with httpx.Client(timeout=30, headers=headers) as client:
        for path in paths:
            body = {
                "subscriptionType": "SerAvailabilityNotificationSubscription",
                "callbackReference": receiver.url(path),
                "filteringCriteria": {"serCategories": [category]},
            }
            response = client.post(f"{api}/applications/{app_id}/subscriptions", json=body)
            if response.status_code != 201:
                raise RuntimeError(f"subscription: HTTP {response.status_code} {response.text}")
    return paths


def _one_run(
    client: httpx.Client, url: str, name: str, receiver: TimingReceiver, fan: int
) -> dict[str, Any]:
    began = time.monotonic()
    response = client.post(url, json=service_body(name, CATEGORY))
    answered = time.monotonic()
    if response.status_code != 201:
        raise RuntimeError(f"registration: HTTP {response.status_code} {response.text}")
    if not receiver.wait_for(fan, WAIT_S):
        raise RuntimeError(f"only {receiver.count()} of {fan} notifications in {WAIT_S} s")
    arrivals = receiver.take()
    ser_id = response.json()["serInstanceId"].encode()
    if len(arrivals) != fan or not all(ser_id in a.body for a in arrivals):
        raise RuntimeError(f"run {name}: unexpected notifications ({len(arrivals)})")
    if len({a.path for a in arrivals}) != fan:
        raise RuntimeError(f"run {name}: a callback path was notified twice")
    return {
        "total": max(a.at for a in arrivals) - began,
        "post": answered - began,
        "first": min(a.at for a in arrivals) - began,
        "body": arrivals[0].body,
    }


def measure_platform(args: argparse.Namespace, receiver: TimingReceiver) -> dict[str, Any]:
    """Subscriptions, then warm-up and measured runs against the real platform processes."""
    with workspace("fanout") as data_dir:
        env = bench_env(data_dir)
        env.update(item.split("=", 1) for item in args.env)
        with (
            running(PlatformProcess(env, workers=args.workers)) as server,
            running(WorkerProcess(env)),
        ):
            app_id = add_app(env, "bench-fanout")
            headers = admin_headers(env)
            _subscribe(server.api, app_id, receiver, args.subscriptions, headers)
            url = f"{server.api}/applications/{app_id}/services"
            runs = []
            pauses = _pauses(args.pause)
            with httpx.Client(timeout=30, headers=headers) as client:
                for n in range(args.warmup + args.runs):
                    runs.append(_one_run(client, url, f"fan-{n}", receiver, args.subscriptions))
                    time.sleep(next(pauses))
    measured = runs[args.warmup :]
    return {
        "callback_100th": summary_ms([r["total"] for r in measured]),
        "first_callback": summary_ms([r["first"] for r in measured]),
        "post_answered": summary_ms([r["post"] for r in measured]),
        "notification_body": runs[-1]["body"],
        "worker_poll_interval": env.get("MEC_WORKER_POLL_INTERVAL", "unset (default 0.05 s)"),
        "extra_settings": dict(item.split("=", 1) for item in args.env),
    }


def _baseline_client(urls: list[str], body: bytes, runs: int, pause: float, out: Any) -> None:
    starts = []
    pauses = _pauses(pause)
    headers = {"Content-Type": "application/json", "User-Agent": "bench-baseline"}
    with httpx.Client(timeout=30, headers=headers) as client:
        client.post(urls[0], content=body)  # open the connection, as the worker's pool is warm
        for _ in range(runs):
            starts.append(time.monotonic())
            for url in urls:
                response = client.post(url, content=body)
                response.raise_for_status()
            time.sleep(next(pauses))
    out.put(starts)


def measure_baseline(
    args: argparse.Namespace, receiver: TimingReceiver, body: bytes
) -> dict[str, Any]:
    """100 sequential keep-alive POSTs per run from one separate Python process."""
    urls = [receiver.url(f"/cb/{i}") for i in range(args.subscriptions)]
    total_runs = args.warmup + args.runs
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    client = ctx.Process(target=_baseline_client, args=(urls, body, total_runs, args.pause, out))
    client.start()
    starts: list[float] = out.get(timeout=300)
    client.join()
    arrivals: list[Arrival] = receiver.take()[1:]  # the connection-opening POST
    if len(arrivals) != total_runs * len(urls):
        raise RuntimeError(f"baseline: {len(arrivals)} POSTs arrived")
    fan = len(urls)
    totals = [arrivals[(k + 1) * fan - 1].at - starts[k] for k in range(total_runs)]
    return {"callback_100th": summary_ms(totals[args.warmup :])}


def _line(label: str, figures: dict[str, float]) -> str:
    return (
        f"{label:<30} p50 {figures['p50_ms']:>8.2f} ms   p99 {figures['p99_ms']:>8.2f} ms   "
        f"max {figures['max_ms']:>8.2f} ms   (n={figures['count']})"
    )


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    monitor = LoadMonitor()
    receiver = TimingReceiver().start()
    try:
        ours = measure_platform(args, receiver)
        body = ours.pop("notification_body")
        baseline = measure_baseline(args, receiver, body)
    finally:
        receiver.stop()
    load = monitor.end()
    ratio = round(ours["callback_100th"]["p50_ms"] / baseline["callback_100th"]["p50_ms"], 3)
    print(
        f"fanout: {args.subscriptions} subscriptions, {args.runs} runs (+{args.warmup} warm-up),"
        f" notification {len(body)} bytes, worker poll interval "
        f"{ours['worker_poll_interval']}"
    )
    if ours["extra_settings"]:
        print(f"diagnostic run with extra platform settings: {ours['extra_settings']}")
    print(_line("platform: POST answered", ours["post_answered"]))
    print(_line("platform: first callback", ours["first_callback"]))
    print(_line("platform: 100th callback", ours["callback_100th"]))
    print(_line("baseline: 100 sequential POSTs", baseline["callback_100th"]))
    print(
        f"ratio p50 platform/baseline = {ratio:.3f}  (target <= {TARGET}: "
        f"{verdict(ratio, TARGET, False)})"
    )
    path = write_result(
        "fanout",
        {
            "machine_load": load,
            "platform": ours,
            "baseline": baseline,
            "ratio_p50": ratio,
            "target": f"ratio <= {TARGET}",
            "notification_bytes": len(body),
            "args": vars(args),
        },
    )
    print(f"wrote {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
