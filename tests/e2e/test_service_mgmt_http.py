"""Service Management over real HTTP: registration, discovery filters, ETags, ownership, errors."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def service(name: str, category: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "serName": name,
        "version": "1.0",
        "state": "ACTIVE",
        "serializer": "JSON",
        "transportId": "rest-http",
    }
    if category:
        body["serCategory"] = {
            "href": "http://cat",
            "id": category,
            "name": category,
            "version": "1",
        }
    body.update(extra)
    return body


def register(stack: Stack, app: str, body: dict[str, Any]) -> dict[str, Any]:
    response = stack.http.post(f"{stack.api}/applications/{app}/services", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["Location"] == created["_links"]["self"]["href"]
    assert response.headers["ETag"]
    return created


def test_register_discover_update_delete(shared_stack: Stack) -> None:
    stack = shared_stack
    tag = uuid.uuid4().hex[:8]  # names and categories unique to this test
    cam_name, lidar_name, video, ranging = f"cam-{tag}", f"lidar-{tag}", f"video-{tag}", f"r-{tag}"
    producer = stack.add_app("producer")
    other = stack.add_app("other")
    cam = register(stack, producer, service(cam_name, video))
    lidar = register(stack, producer, service(lidar_name, ranging, isLocal=False))
    register(stack, other, service(cam_name, video, consumedLocalOnly=False))
    http, api = stack.http, stack.api

    def names(query: str) -> list[str]:
        response = http.get(f"{api}/services?{query}")
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("application/json")
        return sorted(s["serName"] for s in response.json())

    assert names(f"ser_category_id={video}") == [cam_name, cam_name]
    assert names(f"ser_name={cam_name},{lidar_name}&is_local=true") == [cam_name, cam_name]
    assert names(f"ser_name={cam_name},{lidar_name}&is_local=false") == [lidar_name]
    assert names(f"ser_name={cam_name}&consumed_local_only=false") == [cam_name]
    assert names(f"ser_instance_id={lidar['serInstanceId']},nope") == [lidar_name]
    assert names(f"ser_category_id=none-{tag}") == []
    scoped = http.get(f"{api}/applications/{producer}/services?ser_category_id={video}").json()
    assert [s["serInstanceId"] for s in scoped] == [cam["serInstanceId"]]

    url = cam["_links"]["self"]["href"]
    current = http.get(url)
    etag = current.headers["ETag"]
    body = service(cam_name, video, state="SUSPENDED")
    del body["transportId"]
    stale = http.put(url, json=body, headers={"If-Match": '"stale"'})
    assert stale.status_code == 412
    assert stale.headers["Content-Type"] == "application/problem+json"
    assert http.get(url).json()["state"] == "ACTIVE"
    updated = http.put(url, json=body, headers={"If-Match": etag})
    assert updated.status_code == 200, updated.text
    assert updated.json()["state"] == "SUSPENDED"
    assert updated.headers["ETag"] != etag

    assert http.delete(url).status_code == 204
    assert http.get(url).status_code == 404
    assert http.get(f"{api}/services/{cam['serInstanceId']}").status_code == 404


def test_ownership_and_unknown_ids(shared_stack: Stack) -> None:
    stack = shared_stack
    owner = stack.add_app("owner")
    intruder = stack.add_app("intruder")
    created = register(stack, owner, service("cam"))
    foreign = f"{stack.api}/applications/{intruder}/services/{created['serInstanceId']}"
    body = service("hijacked")
    del body["transportId"]
    for response in (stack.http.put(foreign, json=body), stack.http.delete(foreign)):
        assert response.status_code == 403
        assert response.json()["status"] == 403
    missing_app = stack.http.get(f"{stack.api}/applications/no-such-app/services")
    assert missing_app.status_code == 404
    assert "appInstanceId" in missing_app.json()["detail"]
    assert (
        stack.http.get(f"{stack.api}/services/{created['serInstanceId']}").json()["serName"]
        == "cam"
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("post", "services", {"serName": "x"}, 400, "version"),
        ("post", "services", {**service("x"), "state": "SLEEPY"}, 400, "state"),
        ("post", "services", {**service("x"), "transportInfo": {}}, 400, "transportInfo"),
        ("post", "services", service("x", transportId="carrier-pigeon"), 400, "transportId"),
        ("get", "services?ser_name=a&ser_category_id=b", None, 400, "mutually exclusive"),
        ("get", "services?scope_of_locality=GALAXY", None, 400, "scope_of_locality"),
        ("get", "services?colour=blue", None, 400, "colour"),
        ("patch", "services", {}, 405, "PATCH"),
        (
            "post",
            "subscriptions",
            {
                "subscriptionType": "SerAvailabilityNotificationSubscription",
                "callbackReference": "not-a-url",
            },
            400,
            "callbackReference",
        ),
    ],
)
def test_bad_input_gets_problem_details(
    shared_stack: Stack, method: str, path: str, body: Any, status: int, field: str
) -> None:
    stack = shared_stack
    app = stack.add_app("client")
    before = stack.http.get(f"{stack.api}/services").json()
    scoped = not path.startswith("services?")
    url = f"{stack.api}/applications/{app}/{path}" if scoped else f"{stack.api}/{path}"
    response = stack.http.request(method, url, json=body)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert field in problem["detail"]
    assert stack.http.get(f"{stack.api}/services").json() == before


def test_transports_and_operational_endpoints(shared_stack: Stack) -> None:
    stack = shared_stack
    transports = stack.http.get(f"{stack.api}/transports").json()
    assert {t["type"] for t in transports} >= {"REST_HTTP", "MB_TOPIC_BASED"}
    root = stack.server.root
    assert stack.http.get(f"{root}/healthz").status_code == 200
    assert stack.http.get(f"{root}/readyz").status_code == 200
    assert "/mec_service_mgmt/v1/ui/" in stack.http.get(f"{root}/").text
    assert stack.http.get(f"{stack.api}/ui/").status_code == 200
    metrics = stack.http.get(f"{root}/metrics").text
    assert 'mec_http_requests_total{operation="TransportsGET",status="200"}' in metrics
    assert "mec_outbox_depth" in metrics


def test_malformed_requests_get_problem_details(shared_stack: Stack) -> None:
    stack = shared_stack
    app = stack.add_app("sloppy-client")
    not_utf8 = stack.http.post(
        f"{stack.api}/applications/{app}/subscriptions",
        content=b"\x80\x81",
        headers={"Content-Type": "application/json"},
    )
    assert not_utf8.status_code == 400
    assert not_utf8.json()["instance"].startswith("http://127.0.0.1:")
    control = stack.http.get(f"{stack.api}/services/%0A")
    assert control.status_code == 404
    assert control.headers["Content-Type"] == "application/problem+json"
    trace = stack.http.request("TRACE", f"{stack.api}/transports")
    assert trace.status_code == 405
    assert "GET" in trace.headers["Allow"]
    bad_uri = service(
        "x", serCategory={"href": "not a uri", "id": "a", "name": "b", "version": "1"}
    )
    refused = stack.http.post(f"{stack.api}/applications/{app}/services", json=bad_uri)
    assert refused.status_code == 400
    assert "serCategory.href" in refused.json()["detail"]
    wrong_type = stack.http.post(
        f"{stack.api}/applications/{app}/services",
        content=b"serName=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert wrong_type.status_code == 415


def test_repeated_discovery_sees_every_change_at_once(shared_stack: Stack) -> None:
    """Answers are cached per query; any write must show in the very next answer."""
    stack = shared_stack
    app = stack.add_app("cache-watcher")
    category = f"cached-{uuid.uuid4().hex[:8]}"
    url = f"{stack.api}/services?ser_category_id={category}"
    for _ in range(6):  # warm every gunicorn worker's cache and its fast path
        assert stack.http.get(url).json() == []
    for index in range(3):
        register(stack, app, service(f"svc-{index}", category))
        for _ in range(4):
            assert len(stack.http.get(url).json()) == index + 1
    first = stack.http.get(url).json()[0]
    assert stack.http.delete(first["_links"]["self"]["href"]).status_code == 204
    for _ in range(4):
        assert len(stack.http.get(url).json()) == 2
    scoped = f"{stack.api}/applications/{app}/services?ser_category_id={category}"
    for _ in range(4):
        assert len(stack.http.get(scoped).json()) == 2


def test_huge_numbers_are_refused_not_stored(shared_stack: Stack) -> None:
    stack = shared_stack
    app = stack.add_app("big-numbers")
    body = service("huge", livenessInterval=630230882771937001472)
    response = stack.http.post(f"{stack.api}/applications/{app}/services", json=body)
    assert response.status_code == 400
    assert "livenessInterval" in response.json()["detail"]
