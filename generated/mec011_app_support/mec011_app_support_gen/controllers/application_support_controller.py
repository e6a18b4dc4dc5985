import flask
from typing import Dict
from typing import Tuple
from typing import Union

from mec011_app_support_gen.models.app_info import AppInfo  # noqa: E501
from mec011_app_support_gen.models.app_ready_confirmation import AppReadyConfirmation  # noqa: E501
from mec011_app_support_gen.models.app_termination_confirmation import AppTerminationConfirmation  # noqa: E501
from mec011_app_support_gen.models.app_termination_notification_subscription import AppTerminationNotificationSubscription  # noqa: E501
from mec011_app_support_gen.models.current_time import CurrentTime  # noqa: E501
from mec011_app_support_gen.models.dns_rule import DnsRule  # noqa: E501
from mec011_app_support_gen.models.problem_details import ProblemDetails  # noqa: E501
from mec011_app_support_gen.models.subscription_link_list import SubscriptionLinkList  # noqa: E501
from mec011_app_support_gen.models.timing_caps import TimingCaps  # noqa: E501
from mec011_app_support_gen.models.traffic_rule import TrafficRule  # noqa: E501
from mec011_app_support_gen import util


def applications_confirmready_post_appinstanceid(app_instance_id, body):  # noqa: E501
    """Confirm the app instance is ready

    Tells the platform the app instance is up and running, after which the platform activates the app&#39;s rules and lets other apps use what it offers. &#x60;409&#x60; means the instance has already confirmed readiness.  # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str
    :param app_ready_confirmation: The readiness indication.
    :type app_ready_confirmation: dict | bytes

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    app_ready_confirmation = body
    if flask.request.is_json:
        app_ready_confirmation = AppReadyConfirmation.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def applications_confirmtermination_post_appinstanceid(app_instance_id, body):  # noqa: E501
    """Confirm the app instance may be stopped or terminated

    Answers an &#x60;AppTerminationNotification&#x60;: the app has finished its clean-up and the platform may go ahead without waiting for &#x60;maxGracefulTimeout&#x60; to expire. &#x60;operationAction&#x60; must repeat the value of the notification. &#x60;409&#x60; means no stop or termination of this instance is in progress (or it was already confirmed).  # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str
    :param app_termination_confirmation: The operation the app instance is answering.
    :type app_termination_confirmation: dict | bytes

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    app_termination_confirmation = body
    if flask.request.is_json:
        app_termination_confirmation = AppTerminationConfirmation.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def applications_dnsrules_get_appinstanceid(app_instance_id):  # noqa: E501
    """List the DNS rules of an app instance

    Returns every DNS rule of the app instance, active or not. # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str

    :rtype: Union[List[DnsRule], Tuple[List[DnsRule], int], Tuple[List[DnsRule], int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_dnsrules_get_appinstanceid_dnsruleid(app_instance_id, dns_rule_id):  # noqa: E501
    """Read one DNS rule

    Returns one DNS rule of the app instance, with its current &#x60;ETag&#x60;. # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str
    :param dns_rule_id: The rule&#39;s &#x60;dnsRuleId&#x60;.
    :type dns_rule_id: str

    :rtype: Union[DnsRule, Tuple[DnsRule, int], Tuple[DnsRule, int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_dnsrules_put_appinstanceid_dnsruleid(app_instance_id, dns_rule_id, body, if_match=None):  # noqa: E501
    """Update a DNS rule

    Replaces the DNS rule, typically to switch its &#x60;state&#x60; between &#x60;ACTIVE&#x60; and &#x60;INACTIVE&#x60;. Send the representation you read with your changes; &#x60;dnsRuleId&#x60; must equal the one in the path. An &#x60;ACTIVE&#x60; rule may not claim a domain name that another application&#39;s &#x60;ACTIVE&#x60; rule serves (&#x60;409&#x60;). Pass the &#x60;ETag&#x60; you read in &#x60;If-Match&#x60; so that a rule changed in the meantime is not overwritten: a stale value gives &#x60;412&#x60;.  # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str
    :param dns_rule_id: The rule&#39;s &#x60;dnsRuleId&#x60;.
    :type dns_rule_id: str
    :param dns_rule: The updated DNS rule.
    :type dns_rule: dict | bytes
    :param if_match: The &#x60;ETag&#x60; last read for this rule; the update is refused with &#x60;412&#x60; if the rule changed since.
    :type if_match: str

    :rtype: Union[DnsRule, Tuple[DnsRule, int], Tuple[DnsRule, int, Dict[str, str]]
    """
    dns_rule = body
    if flask.request.is_json:
        dns_rule = DnsRule.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def applications_subscriptions_delete_appinstanceid_subscriptionid(app_instance_id, subscription_id):  # noqa: E501
    """Unsubscribe

    Deletes the subscription; no further notifications are sent for it. # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str
    :param subscription_id: Identifier of the subscription (last segment of its &#x60;Location&#x60;).
    :type subscription_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_subscriptions_get_appinstanceid(app_instance_id):  # noqa: E501
    """List the subscriptions of an app instance

    Returns links to all termination-notification subscriptions this app instance holds. # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str

    :rtype: Union[SubscriptionLinkList, Tuple[SubscriptionLinkList, int], Tuple[SubscriptionLinkList, int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_subscriptions_get_appinstanceid_subscriptionid(app_instance_id, subscription_id):  # noqa: E501
    """Read one subscription

    Returns one subscription of this app instance. # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str
    :param subscription_id: Identifier of the subscription (last segment of its &#x60;Location&#x60;).
    :type subscription_id: str

    :rtype: Union[AppTerminationNotificationSubscription, Tuple[AppTerminationNotificationSubscription, int], Tuple[AppTerminationNotificationSubscription, int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_subscriptions_post_appinstanceid(app_instance_id, body):  # noqa: E501
    """Subscribe to termination notifications

    Creates a subscription. From then on, whenever the platform is about to stop or terminate the app instance named in &#x60;appInstanceId&#x60;, it POSTs an &#x60;AppTerminationNotification&#x60; to &#x60;callbackReference&#x60; first.  # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str
    :param app_termination_notification_subscription: The subscription to create (no &#x60;_links&#x60;).
    :type app_termination_notification_subscription: dict | bytes

    :rtype: Union[AppTerminationNotificationSubscription, Tuple[AppTerminationNotificationSubscription, int], Tuple[AppTerminationNotificationSubscription, int, Dict[str, str]]
    """
    app_termination_notification_subscription = body
    if flask.request.is_json:
        app_termination_notification_subscription = AppTerminationNotificationSubscription.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def applications_trafficrules_get_appinstanceid(app_instance_id):  # noqa: E501
    """List the traffic rules of an app instance

    Returns every traffic rule of the app instance, active or not. # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str

    :rtype: Union[List[TrafficRule], Tuple[List[TrafficRule], int], Tuple[List[TrafficRule], int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_trafficrules_get_appinstanceid_trafficruleid(app_instance_id, traffic_rule_id):  # noqa: E501
    """Read one traffic rule

    Returns one traffic rule of the app instance, with its current &#x60;ETag&#x60;. # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str
    :param traffic_rule_id: The rule&#39;s &#x60;trafficRuleId&#x60;.
    :type traffic_rule_id: str

    :rtype: Union[TrafficRule, Tuple[TrafficRule, int], Tuple[TrafficRule, int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_trafficrules_put_appinstanceid_trafficruleid(app_instance_id, traffic_rule_id, body, if_match=None):  # noqa: E501
    """Update a traffic rule

    Replaces the traffic rule, typically to switch its &#x60;state&#x60; between &#x60;ACTIVE&#x60; and &#x60;INACTIVE&#x60;. Send the representation you read with your changes; &#x60;trafficRuleId&#x60; must equal the one in the path. A rule this MEC host cannot enforce is refused with &#x60;400&#x60;; making a rule &#x60;ACTIVE&#x60; while this host&#39;s packet filter is switched off is refused with &#x60;409&#x60;. Pass the &#x60;ETag&#x60; you read in &#x60;If-Match&#x60; so that a rule changed in the meantime is not overwritten: a stale value gives &#x60;412&#x60;.  # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str
    :param traffic_rule_id: The rule&#39;s &#x60;trafficRuleId&#x60;.
    :type traffic_rule_id: str
    :param traffic_rule: The updated traffic rule.
    :type traffic_rule: dict | bytes
    :param if_match: The &#x60;ETag&#x60; last read for this rule; the update is refused with &#x60;412&#x60; if the rule changed since.
    :type if_match: str

    :rtype: Union[TrafficRule, Tuple[TrafficRule, int], Tuple[TrafficRule, int, Dict[str, str]]
    """
    traffic_rule = body
    if flask.request.is_json:
        traffic_rule = TrafficRule.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def registrations_delete_appinstanceid(app_instance_id):  # noqa: E501
    """Deregister an app instance

    Removes the registration; the app instance is no longer known to this API. # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def registrations_get_appinstanceid(app_instance_id):  # noqa: E501
    """Read a registration

    Returns the registration of the app instance as currently stored. # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str

    :rtype: Union[AppInfo, Tuple[AppInfo, int], Tuple[AppInfo, int, Dict[str, str]]
    """
    return 'do some magic!'


def registrations_post(body):  # noqa: E501
    """Register an app instance

    Registers the calling app instance with the platform. &#x60;appName&#x60; is mandatory. An app instantiated by MEC management sets &#x60;isInsByMec: true&#x60; and gives its &#x60;appInstanceId&#x60; and &#x60;appDId&#x60;; any other app must describe its &#x60;endpoint&#x60;, and the platform allocates its &#x60;appInstanceId&#x60;. &#x60;409&#x60; means this app instance is already registered (update it with PUT instead). An &#x60;appInstanceId&#x60; chosen for a new instance becomes its OAuth 2.0 client id and a segment of its URLs: at most 256 letters, digits and &#x60;-._~:@!$&amp;&#39;()*+,;&#x3D;&#x60;, or &#x60;400&#x60;.  # noqa: E501

    :param app_info: The profile of the app instance to register.
    :type app_info: dict | bytes

    :rtype: Union[AppInfo, Tuple[AppInfo, int], Tuple[AppInfo, int, Dict[str, str]]
    """
    app_info = body
    if flask.request.is_json:
        app_info = AppInfo.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def registrations_put_appinstanceid(app_instance_id, body):  # noqa: E501
    """Update a registration

    Replaces the registration with the profile in the body. &#x60;appInstanceId&#x60; may be left out of the body; when present it must equal the one in the path (&#x60;400&#x60; otherwise).  # noqa: E501

    :param app_instance_id: Identifier of the app instance (its &#x60;AppInfo.appInstanceId&#x60;).
    :type app_instance_id: str
    :param app_info: The complete, updated profile of the app instance.
    :type app_info: dict | bytes

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    app_info = body
    if flask.request.is_json:
        app_info = AppInfo.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def timing_currenttime_get():  # noqa: E501
    """Read the platform time

    Returns the platform clock as Unix time, and whether it is traceable to UTC. # noqa: E501


    :rtype: Union[CurrentTime, Tuple[CurrentTime, int], Tuple[CurrentTime, int, Dict[str, str]]
    """
    return 'do some magic!'


def timing_timingcaps_get():  # noqa: E501
    """Read the platform timing capabilities

    Lists the NTP servers and PTP masters an app instance may synchronise its clock with, stamped with the platform time at which the list was produced.  # noqa: E501


    :rtype: Union[TimingCaps, Tuple[TimingCaps, int], Tuple[TimingCaps, int, Dict[str, str]]
    """
    return 'do some magic!'
