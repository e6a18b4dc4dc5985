"""What the app lifecycle costs on Podman: instantiate and forceful terminate through the
MEC 010-2 API against plain `podman run -d` / `podman rm -f` of the same image, and 20
instances instantiated at once.

The platform runs as in a deployment (server, notification worker, lifecycle process) on a
Podman service of its own; the sample app (examples/sample-app) is built, packaged, signed
and onboarded first. Then, `--runs` times, in turns:

- baseline: `podman run -d` of the same image, with the same network, limits and environment
  the platform gives, timed until the command returns (the container runs); then
  `podman rm -f`, timed as the terminate baseline;
- platform: `POST .../instantiate` until its operation occurrence reads COMPLETED (polled
  every 5 ms) and the container runs; then `POST .../terminate` FORCEFUL until COMPLETED.

Targets: p50 ratios platform/baseline <= 1.5 for both. Then `--concurrent` instances are
instantiated at once: all must complete; the total time is recorded.

    python -m bench.lifecycle
"""

from __future__ import annotations

import argparse
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import LoadMonitor, summary_ms, verdict, workspace, write_result
from mec_platform.lifecycle.podman_service import PodmanService
from tests.support.lifecycle import (
    HOST_INFO,
    LCM,
    LifecycleStack,
    lifecycle_stack,
    new_signer,
    sample_image_archive,
    sample_package,
    trust,
)
from tests.support.podman import inspect_container, podman_env

TARGET = 1.5
POLL = 0.005


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.lifecycle", description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="timed rounds of each (20)")
    parser.add_argument("--concurrent", type=int, default=20, help="instances at once (20)")
    return parser.parse_args(argv)


def _finished(stack: LifecycleStack, op_occ_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        occ = stack.http.get(f"{stack.root}{LCM}/app_lcm_op_occs/{op_occ_id}").json()
        if occ["operationState"] in {"COMPLETED", "FAILED", "FAILED_TEMP"}:
            return dict(occ)
        time.sleep(POLL)
    raise TimeoutError(f"operation {op_occ_id} did not finish in {timeout} s")


def _operate(stack: LifecycleStack, app_id: str, task: str, body: dict[str, Any]) -> float:
    began = time.perf_counter()
    answer = stack.http.post(f"{stack.root}{LCM}/app_instances/{app_id}/{task}", json=body)
    assert answer.status_code == 202, answer.text
    occ = _finished(stack, answer.headers["Location"].rsplit("/", 1)[-1])
    elapsed = time.perf_counter() - began
    assert occ["operationState"] == "COMPLETED", occ
    return elapsed


def _platform_round(stack: LifecycleStack, app_id: str) -> tuple[float, float]:
    up = _operate(stack, app_id, "instantiate", HOST_INFO)
    assert inspect_container(f"umec-{app_id}")["State"]["Running"] is True  # type: ignore[index]
    down = _operate(stack, app_id, "terminate", {"terminationType": "FORCEFUL"})
    return up, down


def _baseline_round(image: str, network: str) -> tuple[float, float]:
    name = f"bench-{uuid.uuid4().hex[:10]}"
    run = [
        "podman", "run", "-d", "--name", name, "--network", network,
        "--memory", "64m", "--cpus", "1", "-p", "127.0.0.1::8080",
        "-e", f"MEC_APP_INSTANCE_ID={name}", "-e", "MEC_API_ROOT=http://127.0.0.1:9",
        "-e", "MEC_APP_PORT=8080", image,
    ]  # fmt: skip
    began = time.perf_counter()
    subprocess.run(run, env=podman_env(), check=True, capture_output=True)
    up = time.perf_counter() - began
    began = time.perf_counter()
    subprocess.run(
        ["podman", "rm", "-f", "-t", "0", name], env=podman_env(), check=True, capture_output=True
    )
    return up, time.perf_counter() - began


def _concurrent(stack: LifecycleStack, app_d_id: str, count: int) -> dict[str, Any]:
    apps = [stack.new_instance(app_d_id) for _ in range(count)]
    began = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        each = list(pool.map(lambda a: _operate(stack, a, "instantiate", HOST_INFO), apps))
    total = time.perf_counter() - began
    running = sum(
        inspect_container(f"umec-{a}")["State"]["Running"] is True  # type: ignore[index]
        for a in apps
    )
    began = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        list(
            pool.map(
                lambda a: _operate(stack, a, "terminate", {"terminationType": "FORCEFUL"}), apps
            )
        )
    down = time.perf_counter() - began
    return {
        "instances": count,
        "completed": len(each),
        "running": running,
        "total_s": round(total, 3),
        "each": summary_ms(each),
        "terminate_all_s": round(down, 3),
    }


def measure(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    with PodmanService(folder / "podman" / "podman.sock", log=folder / "podman.log") as podman:
        archive = sample_image_archive(folder)
        signer = new_signer(folder / "keys")
        with lifecycle_stack(folder / "platform", podman.url, MEC_LOG_LEVEL="WARNING") as stack:
            trust(stack, signer)
            info = stack.onboard(sample_package(folder, archive, signer))
            assert info["onboardingState"] == "ONBOARDED", info
            image = info["softwareImages"][0]["imageId"]
            app_id = stack.new_instance(info["appDId"])
            _platform_round(stack, app_id)  # warm-up of both paths
            _baseline_round(image, stack.network)
            platform: list[tuple[float, float]] = []
            baseline: list[tuple[float, float]] = []
            for number in range(args.runs):
                order = [0, 1] if number % 2 == 0 else [1, 0]
                for side in order:
                    if side == 0:
                        baseline.append(_baseline_round(image, stack.network))
                    else:
                        platform.append(_platform_round(stack, app_id))
            concurrent = _concurrent(stack, info["appDId"], args.concurrent)
    return {
        "platform_instantiate": summary_ms([p[0] for p in platform]),
        "platform_terminate": summary_ms([p[1] for p in platform]),
        "podman_run": summary_ms([b[0] for b in baseline]),
        "podman_rm": summary_ms([b[1] for b in baseline]),
        "concurrent": concurrent,
    }


def _report(result: dict[str, Any]) -> dict[str, float]:
    ratios = {}
    for label, ours, theirs in (
        ("instantiate/podman run -d", "platform_instantiate", "podman_run"),
        ("terminate/podman rm -f", "platform_terminate", "podman_rm"),
    ):
        a, b = result[ours], result[theirs]
        ratio = round(a["p50_ms"] / b["p50_ms"], 3)
        ratios[label] = ratio
        print(
            f"{label}: p50 {a['p50_ms']:.1f} ms vs {b['p50_ms']:.1f} ms, "
            f"p99 {a['p99_ms']:.1f} ms vs {b['p99_ms']:.1f} ms; ratio (p50) = {ratio:.3f}  "
            f"(target <= {TARGET}: {verdict(ratio, TARGET, False)})"
        )
    c = result["concurrent"]
    print(
        f"{c['instances']} instances at once: {c['completed']} COMPLETED, {c['running']} running, "
        f"total {c['total_s']:.2f} s (each: p50 {c['each']['p50_ms']:.0f} ms, "
        f"max {c['each']['max_ms']:.0f} ms); terminating all: {c['terminate_all_s']:.2f} s"
    )
    return ratios


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    monitor = LoadMonitor()
    with workspace("lifecycle") as tmp:
        result = measure(tmp, args)
    load = monitor.end()
    ratios = _report(result)
    path = write_result(
        "lifecycle",
        {
            "machine_load": load,
            **result,
            "ratios": ratios,
            "target": f"<= {TARGET}",
            "args": vars(args),
        },
    )
    print(f"wrote {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
