"""LCM subscription handlers (MEC 010-2 clause 7.4.3 and 7.4.4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mec_platform.http.ownership import check_owner, owner_of, visible
from mec_platform.http.responses import (
    RawResponse,
    Response,
    no_content,
    ok,
    subscription_links,
)
from mec_platform.lifecycle.service import Lifecycle
from mec_platform.lifecycle.urls import LifecycleUrls
from mec_platform.lifecycle.wire import subscription_to_wire
from mec_platform.registry.model import Actor


def subscriptions_get(
    subscriptiontype: str | None = None,
    *,
    lifecycle: Lifecycle,
    lcm_urls: LifecycleUrls,
    caller: Callable[[], Actor],
) -> Response:
    """GET /subscriptions: AppInstanceSubscriptionLinkList."""
    found = visible(caller(), lifecycle.subscriptions(), lambda s: s.owner)
    if subscriptiontype:
        found = [s for s in found if s.subscription_type.value == subscriptiontype]
    return subscription_links(
        f"{lcm_urls.root}/subscriptions",
        [(lcm_urls.subscription(s.subscription_id), s.subscription_type.value) for s in found],
    )


def subscriptions_post(
    body: dict[str, Any],
    *,
    lifecycle: Lifecycle,
    lcm_urls: LifecycleUrls,
    caller: Callable[[], Actor],
) -> Response:
    """POST /subscriptions: one of the four LCM subscription kinds."""
    subscription = lifecycle.subscribe(body, owner_of(caller()))
    location = lcm_urls.subscription(subscription.subscription_id)
    return ok(subscription_to_wire(subscription, lcm_urls), 201, Location=location)


def subscriptions_get_subscriptionid(
    subscription_id: str,
    *,
    lifecycle: Lifecycle,
    lcm_urls: LifecycleUrls,
    caller: Callable[[], Actor],
) -> Response:
    """GET /subscriptions/{subscriptionId}."""
    subscription = lifecycle.subscription(subscription_id)
    check_owner(caller(), subscription.owner, "subscriptions")
    return ok(subscription_to_wire(subscription, lcm_urls))


def subscriptions_delete_subscriptionid(
    subscription_id: str, *, lifecycle: Lifecycle, caller: Callable[[], Actor]
) -> RawResponse:
    """DELETE /subscriptions/{subscriptionId}."""
    check_owner(caller(), lifecycle.subscription(subscription_id).owner, "subscriptions")
    lifecycle.unsubscribe(subscription_id)
    return no_content()
