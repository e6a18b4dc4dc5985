"""Unit tests of the MEC 011 wire mappers (camelCase JSON <-> domain)."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from mec_platform.errors import InvalidInput
from mec_platform.registry.model import (
    CategoryRef,
    ChangeType,
    FilteringCriteria,
    LivenessInfo,
    LocalityType,
    Service,
    ServiceState,
    Subscription,
    TransportInfo,
)
from mec_platform.registry.urls import ResourceUrls
from mec_platform.registry.wire import (
    NOTIFICATION_TYPE,
    SUBSCRIPTION_TYPE,
    availability_notification,
    category_from_wire,
    category_to_wire,
    criteria_from_wire,
    criteria_to_wire,
    liveness_to_wire,
    seconds_of,
    service_from_wire,
    service_to_wire,
    subscription_links_to_wire,
    subscription_request_from_wire,
    subscription_to_wire,
    timestamp,
    transport_from_wire,
    transport_to_wire,
)

URLS = ResourceUrls("http://mec.test:8080/")
ROOT = "http://mec.test:8080/mec_service_mgmt/v1"
CATEGORY = CategoryRef(href="http://mec.test/cat/c1", id="c1", name="RNI", version="2")


def transport_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "tr1",
        "name": "REST",
        "type": "REST_HTTP",
        "protocol": "HTTP",
        "version": "2.0",
        "endpoint": {"uris": ["http://10.0.0.5:8000/rni/v2"]},
        "security": {"oAuth2Info": {"grantTypes": ["OAUTH2_CLIENT_CREDENTIALS"]}},
    }
    body.update(changes)
    return body


def service_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "serName": "rni",
        "version": "2.1",
        "state": "ACTIVE",
        "serializer": "JSON",
        "transportInfo": transport_body(),
    }
    body.update(changes)
    return body


def full_service(**changes: Any) -> Service:
    base = Service(
        ser_instance_id="ser/1",
        app_instance_id="app 1",
        ser_name="rni",
        version="2.1",
        state=ServiceState.SUSPENDED,
        serializer="PROTOBUF3",
        transport_info=transport_from_wire(transport_body(description="d", implSpecificInfo={})),
        ser_category=CATEGORY,
        scope_of_locality=LocalityType.ZONE_GROUP,
        consumed_local_only=False,
        is_local=False,
        liveness_interval=15,
        last_heartbeat=1_700_000_000.0,
        revision=4,
    )
    return replace(base, **changes)


# -- TimeStamp ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seconds", "stamp"),
    [
        (0.0, {"seconds": 0, "nanoSeconds": 0}),
        (1_700_000_000.0, {"seconds": 1_700_000_000, "nanoSeconds": 0}),
        (1_700_000_000.25, {"seconds": 1_700_000_000, "nanoSeconds": 250_000_000}),
        (12.000000001, {"seconds": 12, "nanoSeconds": 1}),
        (12.5, {"seconds": 12, "nanoSeconds": 500_000_000}),
    ],
)
def test_timestamp_conversions(seconds: float, stamp: dict[str, int]) -> None:
    assert timestamp(seconds) == stamp
    assert seconds_of(stamp) == pytest.approx(seconds, abs=1e-9)


def test_timestamp_fields_are_integers() -> None:
    stamp = timestamp(1_700_000_123.456789)
    assert all(type(value) is int for value in stamp.values())
    assert 0 <= stamp["nanoSeconds"] < 1_000_000_000
    assert seconds_of(stamp) == pytest.approx(1_700_000_123.456789, abs=1e-6)


def test_seconds_of_without_nanoseconds() -> None:
    assert seconds_of({"seconds": 42}) == 42.0


def test_timestamp_carries_a_fraction_that_rounds_to_a_whole_second() -> None:
    assert timestamp(1.9999999999) == {"seconds": 2, "nanoSeconds": 0}


# -- categories and transports --------------------------------------------------------------
def test_category_round_trip() -> None:
    assert category_from_wire(category_to_wire(CATEGORY)) == CATEGORY


@pytest.mark.parametrize(
    "endpoint",
    [
        {"uris": ["http://a/"]},
        {"fqdn": ["svc.example"]},
        {"addresses": [{"host": "10.0.0.1", "port": 1883}]},
        {"alternative": {"anything": True}},
        {"uris": ["http://a/"], "fqdn": None},
    ],
)
def test_endpoint_with_exactly_one_kind_is_accepted(endpoint: dict[str, Any]) -> None:
    assert transport_from_wire(transport_body(endpoint=endpoint)).endpoint == endpoint


@pytest.mark.parametrize(
    "endpoint",
    [
        {},
        {"uris": None},
        {"uris": ["http://a/"], "fqdn": ["b"]},
        {"addresses": [], "alternative": {}},
        {"uris": ["http://a/"], "fqdn": ["b"], "addresses": [], "alternative": {}},
    ],
)
def test_endpoint_needs_exactly_one_kind(endpoint: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match=r"transportInfo\.endpoint: exactly one of"):
        transport_from_wire(transport_body(endpoint=endpoint))


def test_endpoint_error_names_where_it_was_found() -> None:
    with pytest.raises(InvalidInput, match=r"^here\.endpoint"):
        transport_from_wire(transport_body(endpoint={}), where="here")


def test_transport_round_trip_with_and_without_optional_members() -> None:
    minimal = transport_body()
    assert transport_to_wire(transport_from_wire(minimal)) == minimal
    full = transport_body(description="our REST", implSpecificInfo={"k": "v"})
    assert transport_to_wire(transport_from_wire(full)) == full


def test_transport_from_wire_does_not_alias_the_request_body() -> None:
    body = transport_body()
    transport = transport_from_wire(body)
    body["endpoint"]["uris"].append("http://changed/")
    body["endpoint"]["fqdn"] = ["x"]
    assert "fqdn" not in transport.endpoint


# -- ServiceInfo ----------------------------------------------------------------------------
def test_service_from_minimal_body_applies_the_defaults() -> None:
    draft = service_from_wire(service_body())
    assert (draft.ser_name, draft.version, draft.serializer) == ("rni", "2.1", "JSON")
    assert draft.state is ServiceState.ACTIVE
    assert draft.ser_category is None
    assert draft.transport_id is None
    assert draft.transport_info == transport_from_wire(transport_body())
    assert draft.scope_of_locality is LocalityType.MEC_HOST
    assert (draft.consumed_local_only, draft.is_local) == (True, True)
    assert (draft.liveness_interval, draft.ser_instance_id) == (None, None)


def test_service_from_body_with_transport_id() -> None:
    body = service_body(transportId="rest-http")
    del body["transportInfo"]
    draft = service_from_wire(body)
    assert (draft.transport_id, draft.transport_info) == ("rest-http", None)


def test_service_from_body_checks_the_endpoint_rule() -> None:
    with pytest.raises(InvalidInput, match="endpoint"):
        service_from_wire(service_body(transportInfo=transport_body(endpoint={})))


@pytest.mark.parametrize("interval", [0, 1, 3600])
def test_service_liveness_interval_accepted(interval: int) -> None:
    assert service_from_wire(service_body(livenessInterval=interval)).liveness_interval == interval


def test_service_negative_liveness_interval_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="livenessInterval"):
        service_from_wire(service_body(livenessInterval=-1))


def test_service_to_wire() -> None:
    service = full_service()
    body = service_to_wire(service, URLS)
    assert body == {
        "serInstanceId": "ser/1",
        "serName": "rni",
        "serCategory": category_to_wire(CATEGORY),
        "version": "2.1",
        "state": "SUSPENDED",
        "transportInfo": transport_to_wire(service.transport_info),
        "serializer": "PROTOBUF3",
        "scopeOfLocality": "ZONE_GROUP",
        "consumedLocalOnly": False,
        "isLocal": False,
        "livenessInterval": 15,
        "_links": {
            "self": {"href": f"{ROOT}/applications/app%201/services/ser%2F1"},
            "liveness": {"href": f"{ROOT}/applications/app%201/services/ser%2F1/liveness"},
        },
    }


def test_service_to_wire_without_optional_members() -> None:
    body = service_to_wire(full_service(ser_category=None, liveness_interval=None), URLS)
    assert "serCategory" not in body
    assert "livenessInterval" not in body
    assert set(body["_links"]) == {"self"}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"ser_category": None, "liveness_interval": None},
        {"state": ServiceState.INACTIVE, "is_local": True, "consumed_local_only": True},
        {"scope_of_locality": LocalityType.NFVI_NODE, "liveness_interval": 0},
    ],
)
def test_service_round_trip(changes: dict[str, Any]) -> None:
    service = full_service(**changes)
    body = service_to_wire(service, URLS)
    draft = service_from_wire(copy.deepcopy(body))
    assert draft.ser_instance_id == service.ser_instance_id
    assert draft.transport_id is None
    for name in (
        "ser_name",
        "version",
        "state",
        "serializer",
        "ser_category",
        "scope_of_locality",
        "consumed_local_only",
        "is_local",
        "liveness_interval",
    ):
        assert getattr(draft, name) == getattr(service, name), name
    assert draft.transport_info == service.transport_info


# -- subscriptions --------------------------------------------------------------------------
def subscription_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subscriptionType": SUBSCRIPTION_TYPE,
        "callbackReference": "https://consumer.test:8443/notify?x=1",
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    "uri",
    ["http://consumer.test/cb", "https://10.0.0.9:9443/a/b?c=d", "HTTP://UPPER.TEST/"],
)
def test_callback_uri_accepted(uri: str) -> None:
    callback, _, _ = subscription_request_from_wire(subscription_body(callbackReference=uri))
    assert callback == uri


@pytest.mark.parametrize(
    "uri",
    ["/relative/cb", "consumer.test/cb", "ftp://consumer.test/cb", "http://", "mailto:a@b.c", ""],
)
def test_callback_uri_must_be_absolute_http(uri: str) -> None:
    with pytest.raises(InvalidInput, match="callbackReference"):
        subscription_request_from_wire(subscription_body(callbackReference=uri))


@pytest.mark.parametrize(
    "kind",
    [None, "", "SerAvailabilityNotification", "serAvailabilityNotificationSubscription"],
)
def test_subscription_type_is_checked(kind: str | None) -> None:
    body = subscription_body(subscriptionType=kind)
    if kind is None:
        del body["subscriptionType"]
    with pytest.raises(InvalidInput, match="subscriptionType"):
        subscription_request_from_wire(body)


def test_subscription_request_defaults() -> None:
    callback, criteria, deadline = subscription_request_from_wire(subscription_body())
    assert callback == "https://consumer.test:8443/notify?x=1"
    assert criteria == FilteringCriteria()
    assert deadline is None


def test_subscription_request_with_everything() -> None:
    body = subscription_body(
        filteringCriteria={
            "serCategories": [category_to_wire(CATEGORY)],
            "states": ["ACTIVE", "SUSPENDED"],
            "isLocal": False,
        },
        expiryDeadline={"seconds": 1_800_000_000, "nanoSeconds": 500_000_000},
    )
    _, criteria, deadline = subscription_request_from_wire(body)
    assert criteria == FilteringCriteria(
        ser_categories=(CATEGORY,),
        states=(ServiceState.ACTIVE, ServiceState.SUSPENDED),
        is_local=False,
    )
    assert deadline == pytest.approx(1_800_000_000.5)


def test_mutually_exclusive_criteria_on_the_wire_are_invalid() -> None:
    with pytest.raises(InvalidInput, match="mutually exclusive"):
        criteria_from_wire({"serNames": ["a"], "serInstanceIds": ["b"]})


@pytest.mark.parametrize(
    "criteria",
    [
        FilteringCriteria(),
        FilteringCriteria(ser_instance_ids=("a", "b")),
        FilteringCriteria(ser_names=("rni",), states=(ServiceState.INACTIVE,)),
        FilteringCriteria(ser_categories=(CATEGORY,), is_local=True),
        FilteringCriteria(is_local=False),
    ],
)
def test_criteria_round_trip(criteria: FilteringCriteria) -> None:
    assert criteria_from_wire(criteria_to_wire(criteria)) == criteria


def test_empty_criteria_are_omitted_and_false_is_kept() -> None:
    assert criteria_to_wire(FilteringCriteria()) == {}
    assert criteria_from_wire(None) == FilteringCriteria()
    assert criteria_from_wire({}) == FilteringCriteria()
    assert criteria_to_wire(FilteringCriteria(is_local=False)) == {"isLocal": False}


@pytest.mark.parametrize(
    "subscription",
    [
        Subscription("sub 1", "app/1", "http://consumer.test/cb"),
        Subscription(
            "sub2",
            "app1",
            "https://consumer.test/cb",
            FilteringCriteria(ser_names=("rni", "wlan"), states=(ServiceState.ACTIVE,)),
            1_800_000_000.25,
        ),
    ],
)
def test_subscription_round_trip(subscription: Subscription) -> None:
    body = subscription_to_wire(subscription, URLS)
    assert body["subscriptionType"] == SUBSCRIPTION_TYPE
    assert body["_links"] == {
        "self": {
            "href": URLS.subscription(subscription.app_instance_id, subscription.subscription_id)
        }
    }
    assert ("filteringCriteria" in body) == (subscription.criteria != FilteringCriteria())
    assert ("expiryDeadline" in body) == (subscription.expiry_deadline is not None)
    callback, criteria, deadline = subscription_request_from_wire(copy.deepcopy(body))
    assert (callback, criteria) == (subscription.callback_reference, subscription.criteria)
    assert deadline == pytest.approx(subscription.expiry_deadline)


def test_subscription_links() -> None:
    subs = [Subscription("s1", "app1", "http://a/"), Subscription("s2", "app1", "http://b/")]
    assert subscription_links_to_wire("app1", subs, URLS) == {
        "_links": {
            "self": {"href": f"{ROOT}/applications/app1/subscriptions"},
            "subscriptions": [
                {
                    "href": f"{ROOT}/applications/app1/subscriptions/{sid}",
                    "subscriptionType": SUBSCRIPTION_TYPE,
                }
                for sid in ("s1", "s2")
            ],
        }
    }
    empty = subscription_links_to_wire("app1", [], URLS)
    assert empty["_links"]["subscriptions"] == []


# -- notifications and liveness -------------------------------------------------------------
@pytest.mark.parametrize(
    "change", [ChangeType.ADDED, ChangeType.STATE_CHANGED, ChangeType.ATTRIBUTES_CHANGED]
)
def test_availability_notification_links_the_service(change: ChangeType) -> None:
    subscription = Subscription("sub1", "consumer", "http://consumer.test/cb")
    note = availability_notification(subscription, full_service(), change, URLS)
    assert note == {
        "notificationType": NOTIFICATION_TYPE,
        "serviceReferences": [
            {
                "serName": "rni",
                "serInstanceId": "ser/1",
                "state": "SUSPENDED",
                "changeType": change.value,
                "link": {"href": f"{ROOT}/services/ser%2F1"},
            }
        ],
        "_links": {"subscription": {"href": f"{ROOT}/applications/consumer/subscriptions/sub1"}},
    }


def test_removed_notification_has_no_link() -> None:
    subscription = Subscription("sub1", "consumer", "http://consumer.test/cb")
    note = availability_notification(subscription, full_service(), ChangeType.REMOVED, URLS)
    [reference] = note["serviceReferences"]
    assert reference["changeType"] == "REMOVED"
    assert "link" not in reference


def test_liveness_to_wire() -> None:
    info = LivenessInfo(ServiceState.ACTIVE, 1_700_000_000.5, 30)
    assert liveness_to_wire(info) == {
        "state": "ACTIVE",
        "timeStamp": {"seconds": 1_700_000_000, "nanoSeconds": 500_000_000},
        "interval": 30,
    }


def test_transport_info_type_is_kept() -> None:
    transport = transport_from_wire(transport_body(type="MB_TOPIC_BASED", protocol="MQTT"))
    assert isinstance(transport, TransportInfo)
    assert (transport.type, transport.protocol) == ("MB_TOPIC_BASED", "MQTT")


@pytest.mark.parametrize("interval", [-1, 86401, 630230882771937001472])
def test_liveness_interval_out_of_range_is_refused(interval: int) -> None:
    body = {
        "serName": "x",
        "version": "1",
        "state": "ACTIVE",
        "serializer": "JSON",
        "transportId": "rest-http",
        "livenessInterval": interval,
    }
    with pytest.raises(InvalidInput, match="livenessInterval"):
        service_from_wire(body)
