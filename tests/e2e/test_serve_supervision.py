"""`mec-platform serve` keeps its notification worker alive."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.support.net import wait_until
from tests.support.processes import PlatformProcess, add_app, admin_token, platform_env
from tests.support.receiver import CallbackReceiver

pytestmark = pytest.mark.e2e


def _worker_pids(server: PlatformProcess) -> list[int]:
    """Children of the serve process running the notification worker (read from /proc)."""
    assert server.proc is not None
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue  # gone meanwhile
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == server.proc.pid and b"mec_platform.cli worker" in command:
            found.append(int(entry.name))
    return found


def test_a_killed_worker_is_restarted_and_delivery_goes_on(
    tmp_path: Path, receiver: CallbackReceiver
) -> None:
    env = platform_env(tmp_path)
    server = PlatformProcess(env, with_worker=True).start()
    try:
        wait_until(lambda: len(_worker_pids(server)) == 1)
        (first,) = _worker_pids(server)
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: _worker_pids(server) not in ([], [first]), timeout=15)

        app = add_app(env, "after-crash")
        api = server.api
        # Every MEC 011 call needs a token: act as a platform admin minted on the box.
        auth = {"Authorization": f"Bearer {admin_token(env)}"}
        httpx.post(
            f"{api}/applications/{app}/subscriptions",
            headers=auth,
            json={
                "subscriptionType": "SerAvailabilityNotificationSubscription",
                "callbackReference": receiver.url("/after"),
            },
        ).raise_for_status()
        httpx.post(
            f"{api}/applications/{app}/services",
            headers=auth,
            json={
                "serName": "survivor",
                "version": "1",
                "state": "ACTIVE",
                "serializer": "JSON",
                "transportId": "rest-http",
            },
        ).raise_for_status()
        wait_until(lambda: len(receiver.bodies("/after")) == 1)
    finally:
        server.stop()
    assert _worker_pids(server) == []
