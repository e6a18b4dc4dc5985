"""Service liveness over real HTTP: heartbeats, and a silent service expiring with notices."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, run_stack
from tests.support.net import wait_until
from tests.support.receiver import CallbackReceiver

pytestmark = pytest.mark.e2e


@pytest.fixture
def quick_stack(database_url: str, tmp_path: Path) -> Iterator[Stack]:
    """A platform that accepts 1-second heartbeat intervals."""
    yield from run_stack(database_url, tmp_path, MEC_LIVENESS_MIN_INTERVAL="1")


def test_heartbeats_and_silence(quick_stack: Stack, receiver: CallbackReceiver) -> None:
    stack = quick_stack
    app = stack.add_app("heartbeating")
    stack.http.post(
        f"{stack.api}/applications/{app}/subscriptions",
        json={
            "subscriptionType": "SerAvailabilityNotificationSubscription",
            "callbackReference": receiver.url("/live"),
        },
    ).raise_for_status()
    created = stack.http.post(
        f"{stack.api}/applications/{app}/services",
        json={
            "serName": "pulse",
            "version": "1",
            "state": "ACTIVE",
            "serializer": "JSON",
            "transportId": "rest-http",
            "livenessInterval": 1,
        },
    ).json()
    assert created["livenessInterval"] == 1
    liveness = created["_links"]["liveness"]["href"]

    info = stack.http.get(liveness)
    assert info.status_code == 200
    assert info.json()["interval"] == 1
    for _ in range(4):
        beat = stack.http.patch(liveness, json={"state": "ACTIVE"})
        assert beat.status_code == 204
        time.sleep(0.5)
    assert stack.http.get(created["_links"]["self"]["href"]).json()["state"] == "ACTIVE"
    bad = stack.http.patch(liveness, json={"state": "SUSPENDED"})
    assert bad.status_code == 400

    def states() -> list[str]:
        return [b["serviceReferences"][0]["state"] for b in receiver.bodies("/live")]

    wait_until(lambda: states() == ["ACTIVE", "SUSPENDED", "INACTIVE"], timeout=15)
    gone = stack.http.patch(liveness, json={"state": "ACTIVE"})
    assert gone.status_code == 409
    assert gone.headers["Content-Type"] == "application/problem+json"


def test_services_without_liveness_have_no_liveness_resource(shared_stack: Stack) -> None:
    app = shared_stack.add_app("quiet")
    created = shared_stack.http.post(
        f"{shared_stack.api}/applications/{app}/services",
        json={
            "serName": "quiet",
            "version": "1",
            "state": "ACTIVE",
            "serializer": "JSON",
            "transportId": "rest-http",
        },
    ).json()
    assert "liveness" not in created["_links"]
    assert "livenessInterval" not in created
    url = created["_links"]["self"]["href"] + "/liveness"
    assert shared_stack.http.get(url).status_code == 404
