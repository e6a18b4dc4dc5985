"""AppTerminationNotificationSubscription handlers (MEC 011 clauses 7.2.3 and 7.2.4)."""

from __future__ import annotations

from typing import Any

from mec_platform.appsupport.subscriptions import TerminationSubscriptions
from mec_platform.appsupport.urls import AppSupportUrls
from mec_platform.appsupport.wire import (
    subscription_link_list,
    termination_subscription_from_wire,
    termination_subscription_to_wire,
)
from mec_platform.http.responses import RawResponse, Response, no_content, ok


def applications_subscriptions_get_appinstanceid(
    app_instance_id: str,
    *,
    termination_subscriptions: TerminationSubscriptions,
    app_urls: AppSupportUrls,
) -> Response:
    """GET /applications/{appInstanceId}/subscriptions: links to the caller's subscriptions."""
    found = termination_subscriptions.list(app_instance_id)
    return ok(subscription_link_list(app_instance_id, found, app_urls))


def applications_subscriptions_post_appinstanceid(
    app_instance_id: str,
    body: dict[str, Any],
    *,
    termination_subscriptions: TerminationSubscriptions,
    app_urls: AppSupportUrls,
) -> Response:
    """POST /applications/{appInstanceId}/subscriptions: subscribe to termination notices."""
    callback = termination_subscription_from_wire(app_instance_id, body)
    subscription = termination_subscriptions.subscribe(app_instance_id, callback)
    location = app_urls.subscription(app_instance_id, subscription.subscription_id)
    return ok(termination_subscription_to_wire(subscription, app_urls), 201, Location=location)


def applications_subscriptions_get_appinstanceid_subscriptionid(
    app_instance_id: str,
    subscription_id: str,
    *,
    termination_subscriptions: TerminationSubscriptions,
    app_urls: AppSupportUrls,
) -> Response:
    """GET /applications/{appInstanceId}/subscriptions/{subscriptionId}."""
    subscription = termination_subscriptions.get(app_instance_id, subscription_id)
    return ok(termination_subscription_to_wire(subscription, app_urls))


def applications_subscriptions_delete_appinstanceid_subscriptionid(
    app_instance_id: str,
    subscription_id: str,
    *,
    termination_subscriptions: TerminationSubscriptions,
) -> RawResponse:
    """DELETE /applications/{appInstanceId}/subscriptions/{subscriptionId}."""
    termination_subscriptions.unsubscribe(app_instance_id, subscription_id)
    return no_content()
