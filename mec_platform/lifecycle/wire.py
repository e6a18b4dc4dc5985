"""AppInstanceInfo, AppLcmOpOcc, LCM subscriptions and notifications as JSON
(ETSI GS MEC 010-2 clause 6.2.2)."""

from __future__ import annotations

from typing import Any

from mec_platform.lifecycle.model import (
    LcmInstance,
    LcmSubscription,
    LcmSubscriptionType,
    OpOcc,
)
from mec_platform.lifecycle.urls import LifecycleUrls
from mec_platform.registry.model import JsonObject
from mec_platform.registry.wire import timestamp

CONTAINER_MCIO_TYPE = "Container"


def instance_to_wire(
    instance: LcmInstance, package_fields: JsonObject, urls: LifecycleUrls
) -> dict[str, Any]:
    """AppInstanceInfo; `package_fields` are appProvider, appName, appSoftVersion, appDVersion."""
    app_id = instance.app_instance_id
    body: dict[str, Any] = {
        "id": app_id,
        "appDId": instance.app_d_id,
        "appPkgId": instance.app_pkg_id,
        **package_fields,
        "instantiationState": instance.instantiation_state.value,
        "_links": _instance_links(instance, urls),
    }
    if instance.name is not None:
        body["appInstanceName"] = instance.name
    if instance.description is not None:
        body["appInstanceDescription"] = instance.description
    if instance.instantiated and instance.operational_state is not None:
        state: dict[str, Any] = {"operationalState": instance.operational_state.value}
        deployment = instance.deployment
        if deployment is not None:
            running = 1 if instance.operational_state.value == "STARTED" else 0
            state["mcioInfo"] = [
                {
                    "mcioId": deployment.container_id,
                    "mcioName": deployment.container_name,
                    "mcioNamespace": "podman",
                    "vduId": deployment.image,
                    "cismId": "podman",
                    "mcioType": CONTAINER_MCIO_TYPE,
                    "desiredInstances": running,
                    "availableInstances": running if instance.runtime_problem is None else 0,
                    **(
                        {"additionalInfo": instance.runtime_problem}
                        if instance.runtime_problem
                        else {}
                    ),
                }
            ]
            if deployment.ip_address:
                body["communicationInterface"] = {
                    "ipAddresses": [
                        {"host": deployment.ip_address, "port": p["port"]} for p in deployment.ports
                    ]
                    or [{"host": deployment.ip_address}]
                }
        body["instantiatedAppState"] = state
    return body


def _instance_links(instance: LcmInstance, urls: LifecycleUrls) -> dict[str, Any]:
    # A task link appears only while that task is possible (MEC 010-2 clause 6.2.2.3).
    app_id = instance.app_instance_id
    tasks = (
        ["terminate", "operate", "configure_platform_for_app"]
        if instance.instantiated
        else ["instantiate"]
    )
    links: dict[str, Any] = {"self": {"href": urls.instance(app_id)}}
    for task in tasks:
        links[task] = {"href": urls.instance_task(app_id, task)}
    return links


def op_occ_to_wire(occ: OpOcc, urls: LifecycleUrls) -> dict[str, Any]:
    """AppLcmOpOcc."""
    body: dict[str, Any] = {
        "id": occ.op_occ_id,
        "operationState": occ.state.value,
        "stateEnteredTime": timestamp(occ.state_entered_time),
        "startTime": timestamp(occ.start_time),
        "lcmOperation": occ.operation.value,
        "isCancelPending": occ.cancel_pending,
        "_links": {
            "self": {"href": urls.op_occ(occ.op_occ_id)},
            "appInstance": {"href": urls.instance(occ.app_instance_id)},
        },
    }
    if occ.params:
        body["operationParams"] = dict(occ.params)
    if occ.cancel_mode is not None:
        body["cancelMode"] = {"CancelMode": occ.cancel_mode.value}
    if occ.error is not None:
        body["error"] = dict(occ.error)
    return body


def subscription_to_wire(subscription: LcmSubscription, urls: LifecycleUrls) -> dict[str, Any]:
    """The *SubscriptionInfo matching the subscription's type."""
    body: dict[str, Any] = {
        key: value
        for key, value in subscription.request.items()
        if key not in {"subscriptionType", "callbackUri"}
    }
    body.update(
        {
            "id": subscription.subscription_id,
            "subscriptionType": subscription.subscription_type.value,
            "callbackUri": subscription.callback_uri,
            "_links": {"self": {"href": urls.subscription(subscription.subscription_id)}},
        }
    )
    return body


def instance_notification(
    notification_id: str,
    subscription: LcmSubscription,
    instance: LcmInstance,
    now: float,
    urls: LifecycleUrls,
) -> dict[str, Any]:
    """AppInstNotification."""
    return {
        "id": notification_id,
        "notificationType": LcmSubscriptionType.INSTANCE_STATE.value,
        "appInstanceState": instance.state_name,
        "subscriptionId": subscription.subscription_id,
        "timeStamp": timestamp(now),
        "appInstanceId": instance.app_instance_id,
        "appPkgId": instance.app_pkg_id,
        "appDId": instance.app_d_id,
        "_links": {"subscription": {"href": urls.subscription(subscription.subscription_id)}},
    }


def op_occ_notification(
    notification_id: str,
    subscription: LcmSubscription,
    occ: OpOcc,
    now: float,
    urls: LifecycleUrls,
) -> dict[str, Any]:
    """AppLcmOpOccNotification."""
    return {
        "id": notification_id,
        "notificationType": LcmSubscriptionType.OP_OCC_STATE.value,
        "operationType": occ.operation.value,
        "operationState": occ.state.value,
        "subscriptionId": subscription.subscription_id,
        "timeStamp": timestamp(now),
        "appLcmOpOccId": occ.op_occ_id,
        "appInstanceId": occ.app_instance_id,
        "_links": {
            "appInstance": {"href": urls.instance(occ.app_instance_id)},
            "subscription": {"href": urls.subscription(subscription.subscription_id)},
            "appLcmOpOcc": {"href": urls.op_occ(occ.op_occ_id)},
        },
    }


def identifier_notification(
    notification_id: str,
    subscription: LcmSubscription,
    app_instance_id: str,
    now: float,
    urls: LifecycleUrls,
) -> dict[str, Any]:
    """AppInstanceIdentifierCreationNotification or ...DeletionNotification."""
    return {
        "id": notification_id,
        "notificationType": subscription.subscription_type.value,
        "subscriptionId": subscription.subscription_id,
        "timeStamp": timestamp(now),
        "appInstanceId": app_instance_id,
        "_links": {
            "subscription": {"href": urls.subscription(subscription.subscription_id)},
            "appInstance": {"href": urls.instance(app_instance_id)},
        },
    }
