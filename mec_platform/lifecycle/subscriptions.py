"""Which LCM subscriptions want a notification: AppInstanceSubscriptionFilter and the
operation filters of MEC 010-2 clause 6.2.2 (values within one list OR'd, attributes AND'd)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mec_platform.errors import InvalidInput
from mec_platform.lifecycle.model import LcmInstance, LcmSubscription, LcmSubscriptionType, OpOcc
from mec_platform.registry.model import JsonObject

APP_IDENTITY, APP_NAME, APP_D_ID, APP_FROM_PROVIDER = 1, 2, 3, 4

FILTER_KEY = {
    LcmSubscriptionType.INSTANCE_STATE: "appInstanceSubscriptionFilter",
    LcmSubscriptionType.IDENTIFIER_CREATION: "appInstanceSubscriptionFilter",
    LcmSubscriptionType.IDENTIFIER_DELETION: "appInstanceSubscriptionFilter",
    LcmSubscriptionType.OP_OCC_STATE: "appLcmOpOccSubscriptionFilter",
}


def parse_subscription_type(value: object) -> LcmSubscriptionType:
    """The subscriptionType of a request, or InvalidInput naming the allowed values."""
    try:
        return LcmSubscriptionType(str(value))
    except ValueError:
        allowed = ", ".join(t.value for t in LcmSubscriptionType)
        raise InvalidInput(
            f"subscriptionType: '{str(value)[:80]}' is not one of {allowed}"
        ) from None


def instance_filter_matches(
    criteria: Any, instance: LcmInstance, provider: str | None, name: str | None
) -> bool:
    """AppInstanceSubscriptionFilter against one instance (absent filter: everything)."""
    if not isinstance(criteria, dict):
        return True
    selector = criteria.get("appInstSelectorType", 0)
    listed = criteria.get("appInstances") or []
    if selector == APP_IDENTITY:
        return instance.app_instance_id in listed
    if selector == APP_NAME:
        return instance.name in listed
    if selector == APP_D_ID:
        return instance.app_d_id in listed
    if selector == APP_FROM_PROVIDER:
        return _from_providers(criteria.get("appsFromProviders") or [], provider, name)
    return True


def _from_providers(entries: Sequence[Any], provider: str | None, name: str | None) -> bool:
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("appProvider") != provider:
            continue
        products = entry.get("appProducts") or []
        if not products or any(isinstance(p, dict) and p.get("appName") == name for p in products):
            return True
    return False


def _listed(value: object, wanted: str) -> bool:
    # ETSI types these filters as a single string; a list of values is accepted as well.
    if value is None:
        return True
    if isinstance(value, list):
        return wanted in value
    return value == wanted


def wants_instance_state(sub: LcmSubscription, instance: LcmInstance, app: JsonObject) -> bool:
    """AppInstNotification for this subscriber?"""
    if sub.subscription_type is not LcmSubscriptionType.INSTANCE_STATE:
        return False
    if not _listed(sub.request.get("appInstanceState"), instance.state_name):
        return False
    return instance_filter_matches(
        sub.request.get("appInstanceSubscriptionFilter"),
        instance,
        app.get("appProvider"),
        app.get("appName"),
    )


def wants_identifier(
    sub: LcmSubscription, kind: LcmSubscriptionType, instance: LcmInstance, app: JsonObject
) -> bool:
    """Identifier creation/deletion notification for this subscriber?"""
    if sub.subscription_type is not kind:
        return False
    return instance_filter_matches(
        sub.request.get("appInstanceSubscriptionFilter"),
        instance,
        app.get("appProvider"),
        app.get("appName"),
    )


def wants_op_occ(sub: LcmSubscription, occ: OpOcc, instance: LcmInstance, app: JsonObject) -> bool:
    """AppLcmOpOccNotification for this subscriber?"""
    if sub.subscription_type is not LcmSubscriptionType.OP_OCC_STATE:
        return False
    criteria = sub.request.get("appLcmOpOccSubscriptionFilter")
    if not isinstance(criteria, dict):
        return True
    return (
        _listed(criteria.get("operationTypes"), occ.operation.value)
        and _listed(criteria.get("operationStates"), occ.state.value)
        and instance_filter_matches(
            criteria.get("appInstanceSubscriptionFilter"),
            instance,
            app.get("appProvider"),
            app.get("appName"),
        )
    )
