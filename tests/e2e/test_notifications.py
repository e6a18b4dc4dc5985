"""Service availability notifications end to end: content, order, retries, crashes, expiry."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.support.net import wait_until
from tests.support.processes import WorkerProcess
from tests.support.receiver import CallbackReceiver

pytestmark = pytest.mark.e2e

SUBSCRIPTION_TYPE = "SerAvailabilityNotificationSubscription"


def subscribe(stack: Stack, app: str, callback: str, **extra: Any) -> dict[str, Any]:
    body = {"subscriptionType": SUBSCRIPTION_TYPE, "callbackReference": callback, **extra}
    response = stack.http.post(f"{stack.api}/applications/{app}/subscriptions", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def register(stack: Stack, app: str, name: str) -> dict[str, Any]:
    body = {
        "serName": name,
        "version": "1",
        "state": "ACTIVE",
        "serializer": "JSON",
        "transportId": "rest-http",
    }
    response = stack.http.post(f"{stack.api}/applications/{app}/services", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def changes(receiver: CallbackReceiver, path: str) -> list[tuple[str, str]]:
    return [
        (ref["serName"], ref["changeType"])
        for body in receiver.bodies(path)
        for ref in body["serviceReferences"]
    ]


def test_content_and_order_of_notifications(stack: Stack, receiver: CallbackReceiver) -> None:
    app = stack.add_app("watcher")
    name = f"cam-{uuid.uuid4().hex[:6]}"
    sub = subscribe(stack, app, receiver.url("/mine"), filteringCriteria={"serNames": [name]})
    subscribe(stack, app, receiver.url("/other"), filteringCriteria={"serNames": ["nothing"]})
    created = register(stack, app, name)
    url = created["_links"]["self"]["href"]
    body = {k: v for k, v in created.items() if k not in {"_links", "serInstanceId"}}
    stack.http.put(url, json={**body, "state": "SUSPENDED"}).raise_for_status()
    stack.http.put(url, json={**body, "state": "SUSPENDED", "version": "2"}).raise_for_status()
    stack.http.delete(url).raise_for_status()

    wait_until(lambda: len(receiver.bodies("/mine")) == 4)
    assert changes(receiver, "/mine") == [
        (name, "ADDED"),
        (name, "STATE_CHANGED"),
        (name, "ATTRIBUTES_CHANGED"),
        (name, "REMOVED"),
    ]
    first, *_, last = receiver.bodies("/mine")
    assert first["notificationType"] == "SerAvailabilityNotification"
    assert first["_links"]["subscription"]["href"] == sub["_links"]["self"]["href"]
    reference = first["serviceReferences"][0]
    assert reference["serInstanceId"] == created["serInstanceId"]
    assert stack.http.get(reference["link"]["href"]).status_code in (200, 404)
    assert "link" not in last["serviceReferences"][0]
    time.sleep(0.3)
    assert receiver.bodies("/other") == []


def test_failed_callbacks_are_retried_until_delivered(
    stack: Stack, receiver: CallbackReceiver
) -> None:
    app = stack.add_app("flaky-subscriber")
    subscribe(stack, app, receiver.url("/flaky"))
    receiver.status = 503
    register(stack, app, "first")
    register(stack, app, "second")
    wait_until(lambda: receiver.attempts >= 3)
    assert receiver.bodies() == []
    receiver.status = 204
    wait_until(lambda: len(receiver.bodies("/flaky")) == 2)
    assert changes(receiver, "/flaky") == [("first", "ADDED"), ("second", "ADDED")]
    metrics = stack.http.get(f"{stack.server.root}/metrics").text
    failures = next(
        line
        for line in metrics.splitlines()
        if line.startswith("mec_notification_delivery_failures_total")
    )
    assert float(failures.split()[-1]) >= 2


def test_nothing_is_lost_when_the_worker_dies_mid_delivery(
    stack: Stack, receiver: CallbackReceiver
) -> None:
    stack.worker.stop()
    env = {**stack.env, "MEC_DELIVERY_LEASE": "3"}
    stack.worker = WorkerProcess(env).start()
    app = stack.add_app("patient-subscriber")
    subscribe(stack, app, receiver.url("/crash"))
    receiver.delay = 1.5
    names = [f"svc-{i}" for i in range(5)]
    for name in names:
        register(stack, app, name)
    wait_until(lambda: receiver.attempts >= 1)
    stack.worker.kill()  # SIGKILL while a POST is in flight: its outcome is never recorded
    receiver.delay = 0
    stack.worker = WorkerProcess(env).start()
    wait_until(lambda: {n for n, _ in changes(receiver, "/crash")} == set(names), timeout=30)
    delivered = [n for n, _ in changes(receiver, "/crash")]
    first_seen = sorted(set(delivered), key=delivered.index)
    assert first_seen == names  # at-least-once, and still in order


def test_two_workers_deliver_each_notification_once_in_order(
    stack: Stack, receiver: CallbackReceiver
) -> None:
    second = WorkerProcess(stack.env, name="second-worker").start()
    try:
        app = stack.add_app("busy-subscriber")
        for index in range(5):
            subscribe(stack, app, receiver.url(f"/sub{index}"))
        names = [f"svc-{i}" for i in range(12)]
        for name in names:
            register(stack, app, name)
        wait_until(lambda: len(receiver.bodies()) >= 60, timeout=30)
        time.sleep(0.5)
        for index in range(5):
            assert [n for n, _ in changes(receiver, f"/sub{index}")] == names
        assert len(receiver.bodies()) == 60
    finally:
        second.stop()


def test_notifications_wait_for_a_stopped_worker(stack: Stack, receiver: CallbackReceiver) -> None:
    stack.worker.stop()
    app = stack.add_app("late-subscriber")
    subscribe(stack, app, receiver.url("/late"))
    register(stack, app, "while-down")
    stack.server.stop()
    stack.server.start()  # a restarted server keeps the registry
    services = stack.http.get(f"{stack.api}/applications/{app}/services").json()
    assert [s["serName"] for s in services] == ["while-down"]
    time.sleep(0.3)
    assert receiver.bodies() == []
    stack.restart_worker()
    wait_until(lambda: changes(receiver, "/late") == [("while-down", "ADDED")])


def test_expired_subscriptions_stop(stack: Stack, receiver: CallbackReceiver) -> None:
    app = stack.add_app("short-lived")
    deadline = {"seconds": int(time.time()) + 2, "nanoSeconds": 0}
    sub = subscribe(stack, app, receiver.url("/short"), expiryDeadline=deadline)
    assert sub["expiryDeadline"] == deadline
    register(stack, app, "before")
    wait_until(lambda: len(receiver.bodies("/short")) == 1)
    time.sleep(max(0.0, deadline["seconds"] - time.time()) + 0.2)
    register(stack, app, "after")
    time.sleep(0.5)
    assert changes(receiver, "/short") == [("before", "ADDED")]
    href = sub["_links"]["self"]["href"]
    wait_until(lambda: stack.http.get(href).status_code == 404, timeout=15)
