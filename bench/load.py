"""Load generation for GET benchmarks: `wrk` when installed, else a Python process pool.

wrk reports its figures through a small Lua `done` hook that prints one JSON line, so the
numbers come from wrk's own latency histogram (microseconds) rather than from parsing its
human-readable summary. The Python fallback keeps the same shape of result. Extra request
headers (the bearer token of the protected APIs) go with every request; the command line
recorded in the results names them without their values.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from bench.common import percentile

_DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
    .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
    .. '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
"""


def have_wrk() -> bool:
    """True when the wrk binary is on PATH."""
    return shutil.which("wrk") is not None


def _shape(
    requests: int,
    seconds: float,
    bytes_read: int,
    errors: dict[str, int],
    latency_us: dict[str, float],
) -> dict[str, Any]:
    return {
        "requests": requests,
        "seconds": round(seconds, 3),
        "requests_per_s": round(requests / seconds, 1),
        "bytes": bytes_read,
        "errors": errors,
        "latency_ms": {k: round(v / 1000, 3) for k, v in latency_us.items()},
    }


def header_options(headers: Mapping[str, str] | None) -> tuple[list[str], list[str]]:
    """wrk's `-H` options for `headers`, and the same with the values hidden (for the record)."""
    sent: list[str] = []
    shown: list[str] = []
    for name, value in (headers or {}).items():
        sent += ["-H", f"{name}: {value}"]
        shown += ["-H", f"'{name}: ...'"]
    return sent, shown


def run_wrk(
    url: str,
    duration: int,
    threads: int,
    connections: int,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One bounded wrk run against `url`; its figures."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_DONE_HOOK)
    sent, shown = header_options(headers)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        script.name,
        url,
    ]
    try:
        out = subprocess.run(
            [*command[:-1], *sent, url],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 60,
        )
    finally:
        Path(script.name).unlink()
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    result = _shape(
        raw["requests"], raw["duration_us"] / 1e6, raw["bytes"], raw["errors"], raw["latency_us"]
    )
    result["tool"] = "wrk"
    result["command"] = " ".join([*command[:-3], *shown, command[-1]])
    return result


def _python_worker(
    url: str, seconds: float, threads: int, start_at: float, headers: dict[str, str]
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = {"status": 0, "other": 0}
    received = [0]
    lock = threading.Lock()

    def loop() -> None:
        mine: list[float] = []
        with httpx.Client(timeout=10, headers=headers) as client:
            client.get(url)
            while time.monotonic() < start_at:
                time.sleep(0.001)
            deadline = start_at + seconds
            while (began := time.monotonic()) < deadline:
                try:
                    response = client.get(url)
                except httpx.HTTPError:
                    with lock:
                        errors["other"] += 1
                    continue
                mine.append(time.monotonic() - began)
                with lock:
                    received[0] += len(response.content)
                    if response.status_code >= 400:
                        errors["status"] += 1
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"latencies": latencies, "errors": errors, "bytes": received[0]}


def run_python(
    url: str,
    duration: int,
    processes: int,
    connections: int,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Fallback when wrk is missing: `processes` processes, `connections` keep-alive clients."""
    per_process = max(1, connections // processes)
    start_at = time.monotonic() + 3.0
    job = (url, float(duration), per_process, start_at, dict(headers or {}))
    with mp.get_context("spawn").Pool(processes) as pool:
        parts = pool.starmap(_python_worker, [job] * processes)
    latencies = [x for part in parts for x in part["latencies"]]
    errors = {k: sum(part["errors"][k] for part in parts) for k in ("status", "other")}
    result = _shape(
        len(latencies),
        float(duration),
        sum(part["bytes"] for part in parts),
        errors,
        {
            "mean": sum(latencies) / len(latencies) * 1e6,
            "p50": percentile(latencies, 50) * 1e6,
            "p90": percentile(latencies, 90) * 1e6,
            "p99": percentile(latencies, 99) * 1e6,
            "max": max(latencies) * 1e6,
        },
    )
    result["tool"] = f"python httpx, {processes} processes x {per_process} threads"
    return result


def run_load(
    url: str,
    duration: int,
    threads: int,
    connections: int,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """wrk if present, else the Python fallback with as many processes as wrk threads."""
    if have_wrk():
        return run_wrk(url, duration, threads, connections, headers)
    return run_python(url, duration, threads, connections, headers)
