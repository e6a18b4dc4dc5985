"""A pool of concurrent httpx clients in separate processes, started together by a barrier.

Each process runs `threads` keep-alive clients; each client sends its share of the requests one
after another and records every latency and status. Throughput is the total count divided by
the span from the first request sent to the last answer received (CLOCK_MONOTONIC, which is
shared by all processes on Linux). Every client sends the given headers (a bearer token); a
"form" job POSTs the given form fields (an OAuth 2.0 token request).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bench.common import service_body, summary_ms


@dataclass(frozen=True)
class Job:
    """What one client process does: `count` requests of one kind, after `warmup` unmeasured."""

    kind: str  # "register" (POST a new service), "form" (POST `form`) or "get"
    url: str
    count: int
    warmup: int
    threads: int
    tag: str
    categories: int = 10
    headers: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] = ()


def _request(client: httpx.Client, job: Job, n: int) -> int:
    if job.kind == "register":
        body = service_body(f"{job.tag}-{n}", n % job.categories)
        return client.post(job.url, json=body).status_code
    if job.kind == "form":
        return client.post(job.url, data=dict(job.form)).status_code
    return client.get(job.url).status_code


def _client_thread(job: Job, index: int, barrier: Any, out: list[tuple[float, float, int]]) -> None:
    with httpx.Client(timeout=60, headers=dict(job.headers)) as client:
        for n in range(job.warmup):
            _request(client, job, -1 - n - index * job.warmup)
        barrier.wait()
        for n in range(index, job.count, job.threads):
            began = time.monotonic()
            status = _request(client, job, n)
            out.append((began, time.monotonic(), status))


def _client_process(job: Job, barrier: Any, results: Any) -> None:
    samples: list[list[tuple[float, float, int]]] = [[] for _ in range(job.threads)]
    threads = [
        threading.Thread(target=_client_thread, args=(job, i, barrier, samples[i]))
        for i in range(job.threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put([s for part in samples for s in part])


def run_clients(
    kind: str,
    url: str,
    total: int,
    processes: int,
    threads: int,
    warmup: int,
    tag: str,
    headers: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Send `total` requests from processes x threads concurrent clients; the figures."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes * threads)
    results = ctx.Queue()
    share = [total // processes + (1 if p < total % processes else 0) for p in range(processes)]
    sent, fields = tuple((headers or {}).items()), tuple((form or {}).items())
    jobs = [
        Job(kind, url, share[p], warmup, threads, f"{tag}-p{p}", headers=sent, form=fields)
        for p in range(processes)
    ]
    workers = [ctx.Process(target=_client_process, args=(job, barrier, results)) for job in jobs]
    for worker in workers:
        worker.start()
    samples = [s for _ in workers for s in results.get(timeout=600)]
    for worker in workers:
        worker.join()
    span = max(end for _b, end, _s in samples) - min(began for began, _e, _s in samples)
    statuses = Counter(str(status) for _b, _e, status in samples)
    return {
        "requests": len(samples),
        "seconds": round(span, 3),
        "requests_per_s": round(len(samples) / span, 1),
        "latency": summary_ms([end - began for began, end, _s in samples]),
        "statuses": dict(statuses),
        "clients": f"{processes} processes x {threads} threads, httpx.Client keep-alive",
    }
