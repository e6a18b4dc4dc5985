import flask
from typing import Dict
from typing import Tuple
from typing import Union

from mec010_2_app_lcm_gen.models.app_instance_subscription_link_list import AppInstanceSubscriptionLinkList  # noqa: E501
from mec010_2_app_lcm_gen.models.app_instance_subscription_type import AppInstanceSubscriptionType  # noqa: E501
from mec010_2_app_lcm_gen.models.problem_details import ProblemDetails  # noqa: E501
from mec010_2_app_lcm_gen.models.subscription_info import SubscriptionInfo  # noqa: E501
from mec010_2_app_lcm_gen.models.subscription_request import SubscriptionRequest  # noqa: E501
from mec010_2_app_lcm_gen import util


def subscriptions_delete_subscriptionid(subscription_id):  # noqa: E501
    """Unsubscribe

    Deletes the subscription; no further notifications are sent for it. # noqa: E501

    :param subscription_id: Identifier of the subscription, as returned when it was created.
    :type subscription_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def subscriptions_get(subscriptiontype=None):  # noqa: E501
    """List subscriptions

    Lists the caller&#39;s lifecycle subscriptions as links, optionally only those of one &#x60;subscriptiontype&#x60;. No subscription is &#x60;200&#x60; with an empty &#x60;subscriptions&#x60; list.  # noqa: E501

    :param subscriptiontype: Only list subscriptions of this type.
    :type subscriptiontype: dict | bytes

    :rtype: Union[AppInstanceSubscriptionLinkList, Tuple[AppInstanceSubscriptionLinkList, int], Tuple[AppInstanceSubscriptionLinkList, int, Dict[str, str]]
    """
    if flask.request.is_json:
        subscriptiontype =  AppInstanceSubscriptionType.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def subscriptions_get_subscriptionid(subscription_id):  # noqa: E501
    """Read a subscription

    Returns one subscription, as the &#x60;*SubscriptionInfo&#x60; type of its &#x60;subscriptionType&#x60;. # noqa: E501

    :param subscription_id: Identifier of the subscription, as returned when it was created.
    :type subscription_id: str

    :rtype: Union[SubscriptionInfo, Tuple[SubscriptionInfo, int], Tuple[SubscriptionInfo, int, Dict[str, str]]
    """
    return 'do some magic!'


def subscriptions_post(body):  # noqa: E501
    """Subscribe to lifecycle notifications

    Creates a subscription. The body is one of the four subscription requests, told apart by &#x60;subscriptionType&#x60;:  | &#x60;subscriptionType&#x60; | request | notified about | | --- | --- | --- | | &#x60;AppInstanceStateChangeSubscription&#x60; | AppInstSubscriptionRequest | instance state changes | | &#x60;AppLcmOpOccStateChangeSubscription&#x60; | AppLcmOpOccSubscriptionRequest | operation occurrence state changes | | &#x60;AppIdentifierCreationSubscription&#x60; | AppInstIdCreationSubscriptionRequest | new app instance identifiers | | &#x60;AppIdentifierDeletionSubscription&#x60; | AppInstIdDeletionSubscriptionRequest | deleted app instance identifiers |  The answer is the stored subscription of the matching &#x60;*SubscriptionInfo&#x60; type. From then on the platform POSTs notifications to &#x60;callbackUri&#x60; (see the callback below).  # noqa: E501

    :param subscription_request: 
    :type subscription_request: dict | bytes

    :rtype: Union[SubscriptionInfo, Tuple[SubscriptionInfo, int], Tuple[SubscriptionInfo, int, Dict[str, str]]
    """
    subscription_request = body
    if flask.request.is_json:
        subscription_request = SubscriptionRequest.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'
