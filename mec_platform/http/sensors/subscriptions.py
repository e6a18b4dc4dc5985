"""Threshold subscription handlers; each caller reaches its own (admins everyone's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mec_platform.http.responses import RawResponse, Response, no_content, ok
from mec_platform.http.sensors.owners import Subscriber
from mec_platform.sensors.service import SensorCatalog
from mec_platform.sensors.urls import SensorUrls
from mec_platform.sensors.wire import subscription_request_from_wire, subscription_to_wire


def sensor_subscriptions_get(
    *,
    sensors: SensorCatalog,
    sensor_urls: SensorUrls,
    subscriber: Callable[[], Subscriber],
) -> Response:
    """GET /subscriptions: the SensorSubscriptions the caller reaches."""
    found = sensors.list_subscriptions(subscriber().reach)
    return ok([subscription_to_wire(s, sensor_urls) for s in found])


def sensor_subscriptions_post(
    body: dict[str, Any],
    *,
    sensors: SensorCatalog,
    sensor_urls: SensorUrls,
    subscriber: Callable[[], Subscriber],
) -> Response:
    """POST /subscriptions: a new SensorSubscription owned by the caller."""
    request = subscription_request_from_wire(body)
    subscription = sensors.subscribe(
        subscriber().owner, request.callback_reference, request.criteria, request.expiry_deadline
    )
    location = sensor_urls.subscription(subscription.subscription_id)
    return ok(subscription_to_wire(subscription, sensor_urls), 201, Location=location)


def sensor_subscription_get(
    subscription_id: str,
    *,
    sensors: SensorCatalog,
    sensor_urls: SensorUrls,
    subscriber: Callable[[], Subscriber],
) -> Response:
    """GET /subscriptions/{subscriptionId}."""
    subscription = sensors.get_subscription(subscriber().reach, subscription_id)
    return ok(subscription_to_wire(subscription, sensor_urls))


def sensor_subscription_delete(
    subscription_id: str, *, sensors: SensorCatalog, subscriber: Callable[[], Subscriber]
) -> RawResponse:
    """DELETE /subscriptions/{subscriptionId}."""
    sensors.unsubscribe(subscriber().reach, subscription_id)
    return no_content()
