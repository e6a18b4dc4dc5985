"""Package subscription handlers (MEC 010-2 clause 7.3.4)."""

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
from mec_platform.packages.model import PackageSubscriptionType
from mec_platform.packages.service import PackageCatalog
from mec_platform.packages.urls import PackageUrls
from mec_platform.packages.wire import subscription_to_wire
from mec_platform.registry.model import Actor


def subscriptions_get(
    *, packages: PackageCatalog, package_urls: PackageUrls, caller: Callable[[], Actor]
) -> Response:
    """GET /subscriptions: AppPkgSubscriptionLinkList."""
    found = visible(caller(), packages.subscriptions(), lambda s: s.owner)
    return subscription_links(
        f"{package_urls.root}/subscriptions",
        [(package_urls.subscription(s.subscription_id), s.subscription_type.value) for s in found],
    )


def subscriptions_post(
    body: dict[str, Any],
    *,
    packages: PackageCatalog,
    package_urls: PackageUrls,
    caller: Callable[[], Actor],
) -> Response:
    """POST /subscriptions: a new AppPkgSubscription."""
    subscription = packages.subscribe(
        PackageSubscriptionType(body["subscriptionType"]),
        body["callbackUri"],
        body.get("appPkgFilter") or [],
        owner_of(caller()),
    )
    location = package_urls.subscription(subscription.subscription_id)
    return ok(subscription_to_wire(subscription, package_urls), 201, Location=location)


def subscriptions_get_subscriptionid(
    subscription_id: str,
    *,
    packages: PackageCatalog,
    package_urls: PackageUrls,
    caller: Callable[[], Actor],
) -> Response:
    """GET /subscriptions/{subscriptionId}."""
    subscription = packages.subscription(subscription_id)
    check_owner(caller(), subscription.owner, "subscriptions")
    return ok(subscription_to_wire(subscription, package_urls))


def subscriptions_delete_subscriptionid(
    subscription_id: str, *, packages: PackageCatalog, caller: Callable[[], Actor]
) -> RawResponse:
    """DELETE /subscriptions/{subscriptionId}."""
    check_owner(caller(), packages.subscription(subscription_id).owner, "subscriptions")
    packages.unsubscribe(subscription_id)
    return no_content()
