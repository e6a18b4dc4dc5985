"""MEC 011 wire format of Application Support objects (camelCase JSON) <-> the domain model.

Schema validation (types, enums, required) is done by connexion against our spec before these
functions run; what is checked here are the rules a schema cannot express. The admin command
and the storage layer use the same mappers, so rules look the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mec_platform.appsupport.model import (
    AppInfo,
    FeatureDependency,
    JsonObject,
    ServiceDependency,
    TerminationSubscription,
)
from mec_platform.appsupport.rules import (
    DestinationInterface,
    DnsRule,
    FilterType,
    IpAddressType,
    RuleState,
    TrafficAction,
    TrafficFilter,
    TrafficRule,
    TunnelInfo,
)
from mec_platform.appsupport.urls import AppSupportUrls
from mec_platform.errors import InvalidInput
from mec_platform.registry.model import AppInstance
from mec_platform.registry.wire import link_list

TERMINATION_SUBSCRIPTION_TYPE = "AppTerminationNotificationSubscription"
TERMINATION_NOTIFICATION_TYPE = "AppTerminationNotification"


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _enum(kind: Any, value: Any, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(f"{field}: '{value}' is not one of {allowed}") from None


def _require(body: JsonObject, field: str, where: str) -> Any:
    if body.get(field) is None:
        raise InvalidInput(f"{where}{field}: is required")
    return body[field]


# -- registrations ----------------------------------------------------------------------------
def _service_dependency(body: JsonObject) -> ServiceDependency:
    category = body.get("serCategory") or {}
    transports = tuple(
        str((dependency.get("transport") or {}).get("type"))
        for dependency in body.get("serTransportDependencies") or ()
        if (dependency.get("transport") or {}).get("type")
    )
    return ServiceDependency(
        ser_name=body["serName"],
        version=body["version"],
        ser_category_id=category.get("id"),
        transport_types=transports,
    )


def app_info_from_wire(body: JsonObject) -> AppInfo:
    """AppInfo from a registration request (or from storage)."""
    name = body["appName"]
    if not str(name).strip():
        raise InvalidInput("appName: must not be empty")
    document = {key: value for key, value in body.items() if key != "appInstanceId"}
    return AppInfo(
        app_name=name,
        document=document,
        services_required=tuple(
            _service_dependency(item) for item in body.get("appServiceRequired") or ()
        ),
        features_required=tuple(
            FeatureDependency(item["featureName"], item["version"])
            for item in body.get("appFeatureRequired") or ()
        ),
        is_ins_by_mec=bool(body.get("isInsByMec", False)),
    )


def app_info_to_wire(app: AppInstance) -> dict[str, Any]:
    """The registration of an application instance as AppInfo."""
    document = dict(app.info.document) if app.info else {"appName": app.name}
    return {**document, "appInstanceId": app.app_instance_id}


# -- termination subscriptions and notifications ----------------------------------------------
def termination_subscription_to_wire(
    subscription: TerminationSubscription, urls: AppSupportUrls
) -> dict[str, Any]:
    """AppTerminationNotificationSubscription with its self link."""
    href = urls.subscription(subscription.app_instance_id, subscription.subscription_id)
    return {
        "subscriptionType": TERMINATION_SUBSCRIPTION_TYPE,
        "callbackReference": subscription.callback_reference,
        "_links": {"self": {"href": href}},
        "appInstanceId": subscription.app_instance_id,
    }


def termination_subscription_from_wire(app_instance_id: str, body: JsonObject) -> str:
    """The callback of a subscription request; the body must name the path's application."""
    if body.get("subscriptionType") != TERMINATION_SUBSCRIPTION_TYPE:
        raise InvalidInput(f"subscriptionType: must be {TERMINATION_SUBSCRIPTION_TYPE}")
    if body.get("appInstanceId") != app_instance_id:
        raise InvalidInput("appInstanceId: does not match the appInstanceId of the URI")
    return str(body["callbackReference"])


def subscription_link_list(
    app_instance_id: str, subscriptions: Sequence[TerminationSubscription], urls: AppSupportUrls
) -> dict[str, Any]:
    """SubscriptionLinkList of an application's termination subscriptions."""
    hrefs = [urls.subscription(app_instance_id, sub.subscription_id) for sub in subscriptions]
    return link_list(urls.subscriptions(app_instance_id), hrefs, TERMINATION_SUBSCRIPTION_TYPE)


def termination_notification(
    subscription: TerminationSubscription,
    action: str,
    max_graceful_timeout: int,
    urls: AppSupportUrls,
) -> dict[str, Any]:
    """AppTerminationNotification sent to one subscriber."""
    app_id = subscription.app_instance_id
    return {
        "notificationType": TERMINATION_NOTIFICATION_TYPE,
        "operationAction": action,
        "maxGracefulTimeout": max_graceful_timeout,
        "_links": {
            "subscription": {"href": urls.subscription(app_id, subscription.subscription_id)},
            "confirmTermination": {"href": urls.confirm_termination(app_id)},
        },
    }


# -- DNS rules --------------------------------------------------------------------------------
def dns_rule_from_wire(body: JsonObject, revision: int = 1) -> DnsRule:
    """DnsRule from JSON; the address must belong to the declared family."""
    ttl = body.get("ttl")
    return DnsRule(
        dns_rule_id=_require(body, "dnsRuleId", ""),
        domain_name=_require(body, "domainName", ""),
        ip_address_type=_enum(IpAddressType, body.get("ipAddressType"), "ipAddressType"),
        ip_address=_require(body, "ipAddress", ""),
        state=_enum(RuleState, body.get("state"), "state"),
        ttl=int(ttl) if ttl is not None else None,
        revision=revision,
    )


def dns_rule_to_wire(rule: DnsRule) -> dict[str, Any]:
    """DnsRule as JSON."""
    return _drop_none(
        {
            "dnsRuleId": rule.dns_rule_id,
            "domainName": rule.domain_name,
            "ipAddressType": rule.ip_address_type.value,
            "ipAddress": rule.ip_address,
            "ttl": rule.ttl,
            "state": rule.state.value,
        }
    )


# -- traffic rules ----------------------------------------------------------------------------
_FILTER_LISTS = {
    "srcAddress": "src_address",
    "dstAddress": "dst_address",
    "srcPort": "src_port",
    "dstPort": "dst_port",
    "protocol": "protocol",
    "tag": "tag",
    "srcTunnelAddress": "src_tunnel_address",
    "tgtTunnelAddress": "tgt_tunnel_address",
    "srcTunnelPort": "src_tunnel_port",
    "dstTunnelPort": "dst_tunnel_port",
}
_FILTER_NUMBERS = {"qCI": "q_ci", "dSCP": "d_scp", "tC": "t_c"}


def traffic_filter_from_wire(body: JsonObject) -> TrafficFilter:
    """TrafficFilter from JSON (lists of strings, three integers)."""
    values: dict[str, Any] = {
        attr: tuple(str(item) for item in body.get(name) or ())
        for name, attr in _FILTER_LISTS.items()
    }
    values.update({attr: body.get(name) for name, attr in _FILTER_NUMBERS.items()})
    return TrafficFilter(**values)


def traffic_filter_to_wire(selector: TrafficFilter) -> dict[str, Any]:
    """TrafficFilter as JSON; empty lists and absent numbers are left out."""
    body: dict[str, Any] = {
        name: list(getattr(selector, attr))
        for name, attr in _FILTER_LISTS.items()
        if getattr(selector, attr)
    }
    body.update(
        {
            name: getattr(selector, attr)
            for name, attr in _FILTER_NUMBERS.items()
            if getattr(selector, attr) is not None
        }
    )
    return body


def _interface_from_wire(body: JsonObject) -> DestinationInterface:
    tunnel = body.get("tunnelInfo")
    return DestinationInterface(
        interface_type=_require(body, "interfaceType", "dstInterface."),
        tunnel_info=TunnelInfo(
            tunnel_type=_require(tunnel, "tunnelType", "dstInterface.tunnelInfo."),
            tunnel_dst_address=tunnel.get("tunnelDstAddress"),
            tunnel_src_address=tunnel.get("tunnelSrcAddress"),
        )
        if tunnel
        else None,
        src_mac_address=body.get("srcMacAddress"),
        dst_mac_address=body.get("dstMacAddress"),
        dst_ip_address=body.get("dstIpAddress"),
    )


def _interface_to_wire(interface: DestinationInterface) -> dict[str, Any]:
    tunnel = interface.tunnel_info
    return _drop_none(
        {
            "interfaceType": interface.interface_type,
            "tunnelInfo": _drop_none(
                {
                    "tunnelType": tunnel.tunnel_type,
                    "tunnelDstAddress": tunnel.tunnel_dst_address,
                    "tunnelSrcAddress": tunnel.tunnel_src_address,
                }
            )
            if tunnel
            else None,
            "srcMacAddress": interface.src_mac_address,
            "dstMacAddress": interface.dst_mac_address,
            "dstIpAddress": interface.dst_ip_address,
        }
    )


def traffic_rule_from_wire(body: JsonObject, revision: int = 1) -> TrafficRule:
    """TrafficRule from JSON; `dstInterface` is one object (ETSI's shape) or a list."""
    interfaces = body.get("dstInterface")
    if isinstance(interfaces, Mapping):
        interfaces = [interfaces]
    filters = body.get("trafficFilter")
    if not isinstance(filters, list) or not filters:
        raise InvalidInput("trafficFilter: at least one filter is required")
    return TrafficRule(
        traffic_rule_id=_require(body, "trafficRuleId", ""),
        filter_type=_enum(FilterType, body.get("filterType"), "filterType"),
        priority=int(_require(body, "priority", "")),
        traffic_filter=tuple(traffic_filter_from_wire(item) for item in filters),
        action=_enum(TrafficAction, body.get("action"), "action"),
        state=_enum(RuleState, body.get("state"), "state"),
        dst_interface=tuple(_interface_from_wire(item) for item in interfaces or ()),
        revision=revision,
    )


def traffic_rule_to_wire(rule: TrafficRule) -> dict[str, Any]:
    """TrafficRule as JSON (one destination interface is sent as an object, as ETSI has it)."""
    body: dict[str, Any] = {
        "trafficRuleId": rule.traffic_rule_id,
        "filterType": rule.filter_type.value,
        "priority": rule.priority,
        "trafficFilter": [traffic_filter_to_wire(item) for item in rule.traffic_filter],
        "action": rule.action.value,
        "state": rule.state.value,
    }
    if len(rule.dst_interface) == 1:
        body["dstInterface"] = _interface_to_wire(rule.dst_interface[0])
    elif rule.dst_interface:
        body["dstInterface"] = [_interface_to_wire(item) for item in rule.dst_interface]
    return body
