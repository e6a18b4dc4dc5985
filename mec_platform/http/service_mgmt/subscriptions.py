"""Service availability subscription handlers (tag `subscriptions`)."""

from __future__ import annotations

from typing import Any

from mec_platform.http.responses import RawResponse, Response, no_content, ok
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.urls import ResourceUrls
from mec_platform.registry.wire import (
    subscription_links_to_wire,
    subscription_request_from_wire,
    subscription_to_wire,
)


def applications_subscriptions_get_appinstanceid(
    app_instance_id: str, *, registry: ServiceRegistry, urls: ResourceUrls
) -> Response:
    """GET /applications/{appInstanceId}/subscriptions: links to the caller's subscriptions."""
    subscriptions = registry.list_subscriptions(app_instance_id)
    return ok(subscription_links_to_wire(app_instance_id, subscriptions, urls))


def applications_subscriptions_post_appinstanceid(
    app_instance_id: str, body: dict[str, Any], *, registry: ServiceRegistry, urls: ResourceUrls
) -> Response:
    """POST /applications/{appInstanceId}/subscriptions: subscribe to availability changes."""
    callback, criteria, deadline = subscription_request_from_wire(body)
    subscription = registry.subscribe(app_instance_id, callback, criteria, deadline)
    location = urls.subscription(app_instance_id, subscription.subscription_id)
    return ok(subscription_to_wire(subscription, urls), 201, Location=location)


def applications_subscriptions_get_appinstanceid_subscriptionid(
    app_instance_id: str, subscription_id: str, *, registry: ServiceRegistry, urls: ResourceUrls
) -> Response:
    """GET /applications/{appInstanceId}/subscriptions/{subscriptionId}."""
    subscription = registry.get_subscription(app_instance_id, subscription_id)
    return ok(subscription_to_wire(subscription, urls))


def applications_subscriptions_delete_appinstanceid_subscriptionid(
    app_instance_id: str, subscription_id: str, *, registry: ServiceRegistry
) -> RawResponse:
    """DELETE /applications/{appInstanceId}/subscriptions/{subscriptionId}."""
    registry.unsubscribe(app_instance_id, subscription_id)
    return no_content()
