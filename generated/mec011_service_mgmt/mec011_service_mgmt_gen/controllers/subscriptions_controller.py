import flask
from typing import Dict
from typing import Tuple
from typing import Union

from mec011_service_mgmt_gen.models.problem_details import ProblemDetails  # noqa: E501
from mec011_service_mgmt_gen.models.ser_availability_notification_subscription import SerAvailabilityNotificationSubscription  # noqa: E501
from mec011_service_mgmt_gen.models.subscription_link_list import SubscriptionLinkList  # noqa: E501
from mec011_service_mgmt_gen import util


def applications_subscriptions_delete_appinstanceid_subscriptionid(app_instance_id, subscription_id):  # noqa: E501
    """Unsubscribe

    Deletes the subscription; no further notifications are sent for it. # noqa: E501

    :param app_instance_id: Identifier of the app instance, as assigned by the platform when the app was instantiated.
    :type app_instance_id: str
    :param subscription_id: Identifier of the subscription (last segment of its &#x60;Location&#x60;).
    :type subscription_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_subscriptions_get_appinstanceid(app_instance_id):  # noqa: E501
    """List the subscriptions of an app instance

    Returns links to all service-availability subscriptions this app instance holds. # noqa: E501

    :param app_instance_id: Identifier of the app instance, as assigned by the platform when the app was instantiated.
    :type app_instance_id: str

    :rtype: Union[SubscriptionLinkList, Tuple[SubscriptionLinkList, int], Tuple[SubscriptionLinkList, int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_subscriptions_get_appinstanceid_subscriptionid(app_instance_id, subscription_id):  # noqa: E501
    """Read one subscription

    Returns one subscription of this app instance. # noqa: E501

    :param app_instance_id: Identifier of the app instance, as assigned by the platform when the app was instantiated.
    :type app_instance_id: str
    :param subscription_id: Identifier of the subscription (last segment of its &#x60;Location&#x60;).
    :type subscription_id: str

    :rtype: Union[SerAvailabilityNotificationSubscription, Tuple[SerAvailabilityNotificationSubscription, int], Tuple[SerAvailabilityNotificationSubscription, int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_subscriptions_post_appinstanceid(app_instance_id, body):  # noqa: E501
    """Subscribe to service availability

    Creates a subscription. From then on the platform POSTs a &#x60;ServiceAvailabilityNotification&#x60; to &#x60;callbackReference&#x60; each time a service matching &#x60;filteringCriteria&#x60; is added, removed, or changes state or attributes. Without &#x60;filteringCriteria&#x60; every service matches.  # noqa: E501

    :param app_instance_id: Identifier of the app instance, as assigned by the platform when the app was instantiated.
    :type app_instance_id: str
    :param ser_availability_notification_subscription: The subscription to create (no &#x60;_links&#x60;).
    :type ser_availability_notification_subscription: dict | bytes

    :rtype: Union[SerAvailabilityNotificationSubscription, Tuple[SerAvailabilityNotificationSubscription, int], Tuple[SerAvailabilityNotificationSubscription, int, Dict[str, str]]
    """
    ser_availability_notification_subscription = body
    if flask.request.is_json:
        ser_availability_notification_subscription = SerAvailabilityNotificationSubscription.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'
