"""MEC 011 wire format of registry objects (camelCase JSON) <-> the domain model.

Used by the HTTP handlers and by the outbox, which stores notifications as they go on the wire.
Schema validation (types, enums, required) is done by connexion against our spec before these
functions run; what is checked here are the rules a schema cannot express.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from mec_platform.errors import InvalidInput
from mec_platform.registry.model import (
    CategoryRef,
    ChangeType,
    FilteringCriteria,
    JsonObject,
    LivenessInfo,
    LocalityType,
    Service,
    ServiceDraft,
    ServiceState,
    Subscription,
    TransportInfo,
)
from mec_platform.registry.urls import ResourceUrls

SUBSCRIPTION_TYPE = "SerAvailabilityNotificationSubscription"
NOTIFICATION_TYPE = "SerAvailabilityNotification"
_ENDPOINT_KINDS = ("uris", "fqdn", "addresses", "alternative")
MAX_LIVENESS_INTERVAL = 86400  # one day; also keeps the value in a 32-bit column


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def timestamp(seconds: float) -> dict[str, int]:
    """MEC TimeStamp: whole seconds and nanoseconds since the epoch."""
    whole = math.floor(seconds)
    nanos = round((seconds - whole) * 1e9)
    if nanos == 1_000_000_000:  # the fraction rounded up to the next second
        whole, nanos = whole + 1, 0
    return {"seconds": whole, "nanoSeconds": nanos}


def seconds_of(stamp: JsonObject) -> float:
    """Inverse of `timestamp`."""
    return float(stamp["seconds"]) + float(stamp.get("nanoSeconds", 0)) / 1e9


def category_from_wire(body: JsonObject) -> CategoryRef:
    """CategoryRef from JSON."""
    return CategoryRef(href=body["href"], id=body["id"], name=body["name"], version=body["version"])


def category_to_wire(category: CategoryRef) -> dict[str, Any]:
    """CategoryRef to JSON."""
    return {
        "href": category.href,
        "id": category.id,
        "name": category.name,
        "version": category.version,
    }


def _check_endpoint(endpoint: JsonObject, where: str) -> None:
    present = [kind for kind in _ENDPOINT_KINDS if endpoint.get(kind) is not None]
    if len(present) != 1:
        found = ", ".join(present) or "none"
        raise InvalidInput(
            f"{where}.endpoint: exactly one of uris, fqdn, addresses, alternative "
            f"must be present (found: {found})"
        )


def transport_from_wire(body: JsonObject, where: str = "transportInfo") -> TransportInfo:
    """TransportInfo from JSON, checking the endpoint rule of MEC 011 clause 8.1.5.3."""
    _check_endpoint(body["endpoint"], where)
    return TransportInfo(
        id=body["id"],
        name=body["name"],
        type=body["type"],
        protocol=body["protocol"],
        version=body["version"],
        endpoint=dict(body["endpoint"]),
        security=dict(body["security"]),
        description=body.get("description"),
        impl_specific_info=body.get("implSpecificInfo"),
    )


def transport_to_wire(transport: TransportInfo) -> dict[str, Any]:
    """TransportInfo to JSON."""
    return _drop_none(
        {
            "id": transport.id,
            "name": transport.name,
            "description": transport.description,
            "type": transport.type,
            "protocol": transport.protocol,
            "version": transport.version,
            "endpoint": dict(transport.endpoint),
            "security": dict(transport.security),
            "implSpecificInfo": transport.impl_specific_info,
        }
    )


def service_from_wire(body: JsonObject) -> ServiceDraft:
    """ServiceInfo from a POST or PUT body."""
    interval = body.get("livenessInterval")
    if interval is not None and not 0 <= interval <= MAX_LIVENESS_INTERVAL:
        raise InvalidInput(
            f"livenessInterval: must be between 0 and {MAX_LIVENESS_INTERVAL} seconds"
        )
    category = body.get("serCategory")
    transport = body.get("transportInfo")
    return ServiceDraft(
        ser_instance_id=body.get("serInstanceId"),
        ser_name=body["serName"],
        version=body["version"],
        state=ServiceState(body["state"]),
        serializer=body["serializer"],
        ser_category=category_from_wire(category) if category is not None else None,
        transport_id=body.get("transportId"),
        transport_info=transport_from_wire(transport) if transport is not None else None,
        scope_of_locality=LocalityType(body.get("scopeOfLocality", LocalityType.MEC_HOST)),
        consumed_local_only=body.get("consumedLocalOnly", True),
        is_local=body.get("isLocal", True),
        liveness_interval=interval,
    )


def service_to_wire(service: Service, urls: ResourceUrls) -> dict[str, Any]:
    """ServiceInfo as returned by the platform, with its links."""
    links: dict[str, Any] = {
        "self": {"href": urls.service(service.app_instance_id, service.ser_instance_id)}
    }
    if service.liveness_interval is not None:
        links["liveness"] = {
            "href": urls.liveness(service.app_instance_id, service.ser_instance_id)
        }
    return _drop_none(
        {
            "serInstanceId": service.ser_instance_id,
            "serName": service.ser_name,
            "serCategory": category_to_wire(service.ser_category) if service.ser_category else None,
            "version": service.version,
            "state": service.state.value,
            "transportInfo": transport_to_wire(service.transport_info),
            "serializer": service.serializer,
            "scopeOfLocality": service.scope_of_locality.value,
            "consumedLocalOnly": service.consumed_local_only,
            "isLocal": service.is_local,
            "livenessInterval": service.liveness_interval,
            "_links": links,
        }
    )


def _check_callback(uri: str) -> None:
    parts = urlsplit(uri)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidInput(f"callbackReference: '{uri}' is not an absolute http(s) URI")


def criteria_from_wire(body: JsonObject | None) -> FilteringCriteria:
    """FilteringCriteria from JSON (absent means: all services)."""
    if not body:
        return FilteringCriteria()
    return FilteringCriteria(
        ser_instance_ids=tuple(body.get("serInstanceIds") or ()),
        ser_names=tuple(body.get("serNames") or ()),
        ser_categories=tuple(category_from_wire(c) for c in body.get("serCategories") or ()),
        states=tuple(ServiceState(s) for s in body.get("states") or ()),
        is_local=body.get("isLocal"),
    )


def criteria_to_wire(criteria: FilteringCriteria) -> dict[str, Any]:
    """FilteringCriteria to JSON, omitting empty members."""
    return _drop_none(
        {
            "serInstanceIds": list(criteria.ser_instance_ids) or None,
            "serNames": list(criteria.ser_names) or None,
            "serCategories": [category_to_wire(c) for c in criteria.ser_categories] or None,
            "states": [s.value for s in criteria.states] or None,
            "isLocal": criteria.is_local,
        }
    )


def subscription_request_from_wire(
    body: JsonObject,
) -> tuple[str, FilteringCriteria, float | None]:
    """Callback, criteria and expiry deadline of a new subscription."""
    if body.get("subscriptionType") != SUBSCRIPTION_TYPE:
        raise InvalidInput(f"subscriptionType: must be '{SUBSCRIPTION_TYPE}'")
    callback = body["callbackReference"]
    _check_callback(callback)
    deadline = body.get("expiryDeadline")
    return (
        callback,
        criteria_from_wire(body.get("filteringCriteria")),
        seconds_of(deadline) if deadline else None,
    )


def subscription_to_wire(subscription: Subscription, urls: ResourceUrls) -> dict[str, Any]:
    """SerAvailabilityNotificationSubscription as returned by the platform."""
    href = urls.subscription(subscription.app_instance_id, subscription.subscription_id)
    body: dict[str, Any] = {
        "subscriptionType": SUBSCRIPTION_TYPE,
        "callbackReference": subscription.callback_reference,
        "_links": {"self": {"href": href}},
    }
    criteria = criteria_to_wire(subscription.criteria)
    if criteria:
        body["filteringCriteria"] = criteria
    if subscription.expiry_deadline is not None:
        body["expiryDeadline"] = timestamp(subscription.expiry_deadline)
    return body


def link_list(
    self_href: str, subscription_hrefs: list[str], subscription_type: str
) -> dict[str, Any]:
    """A SubscriptionLinkList: the collection's own link and one link per subscription."""
    return {
        "_links": {
            "self": {"href": self_href},
            "subscriptions": [
                {"href": href, "subscriptionType": subscription_type} for href in subscription_hrefs
            ],
        }
    }


def subscription_links_to_wire(
    app_instance_id: str, subscriptions: list[Subscription], urls: ResourceUrls
) -> dict[str, Any]:
    """SubscriptionLinkList of one application instance."""
    hrefs = [urls.subscription(app_instance_id, sub.subscription_id) for sub in subscriptions]
    return link_list(urls.subscriptions(app_instance_id), hrefs, SUBSCRIPTION_TYPE)


def availability_notification(
    subscription: Subscription, service: Service, change: ChangeType, urls: ResourceUrls
) -> dict[str, Any]:
    """ServiceAvailabilityNotification for one subscriber about one service change."""
    reference: dict[str, Any] = {
        "serName": service.ser_name,
        "serInstanceId": service.ser_instance_id,
        "state": service.state.value,
        "changeType": change.value,
    }
    if change is not ChangeType.REMOVED:
        reference["link"] = {"href": urls.discovered_service(service.ser_instance_id)}
    href = urls.subscription(subscription.app_instance_id, subscription.subscription_id)
    return {
        "notificationType": NOTIFICATION_TYPE,
        "serviceReferences": [reference],
        "_links": {"subscription": {"href": href}},
    }


def liveness_to_wire(info: LivenessInfo) -> dict[str, Any]:
    """ServiceLivenessInfo to JSON."""
    return {
        "state": info.state.value,
        "timeStamp": timestamp(info.last_heartbeat),
        "interval": info.interval,
    }
