import flask
from typing import Dict
from typing import Tuple
from typing import Union

from platform_sensors_gen.models.problem_details import ProblemDetails  # noqa: E501
from platform_sensors_gen.models.sensor_subscription import SensorSubscription  # noqa: E501
from platform_sensors_gen import util


def sensor_subscription_delete(subscription_id):  # noqa: E501
    """Unsubscribe

    Deletes the subscription; notifications not yet delivered are dropped. # noqa: E501

    :param subscription_id: The subscription&#39;s identifier, as returned when it was created.
    :type subscription_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def sensor_subscription_get(subscription_id):  # noqa: E501
    """Read a threshold subscription

     # noqa: E501

    :param subscription_id: The subscription&#39;s identifier, as returned when it was created.
    :type subscription_id: str

    :rtype: Union[SensorSubscription, Tuple[SensorSubscription, int], Tuple[SensorSubscription, int, Dict[str, str]]
    """
    return 'do some magic!'


def sensor_subscriptions_get():  # noqa: E501
    """List threshold subscriptions

    The caller&#39;s subscriptions; platform admins and viewers see everyone&#39;s. None is &#x60;200&#x60; with an empty array.  # noqa: E501


    :rtype: Union[List[SensorSubscription], Tuple[List[SensorSubscription], int], Tuple[List[SensorSubscription], int, Dict[str, str]]
    """
    return 'do some magic!'


def sensor_subscriptions_post(body):  # noqa: E501
    """Subscribe to threshold crossings

    Watches the streams the &#x60;criteria&#x60; name (one sensor, one quantity of every sensor, one stream, or every stream when neither is given). Whenever a new value lies above &#x60;above&#x60; or below &#x60;below&#x60; while the previous value of that stream did not, the platform POSTs a &#x60;SensorThresholdNotification&#x60; to &#x60;callbackReference&#x60; (see the callback below): one notification per crossing, not one per value beyond the limit. At least one of &#x60;above&#x60; and &#x60;below&#x60; is required. The subscription ends at &#x60;expiryDeadline&#x60;, if given, or when it is deleted.  # noqa: E501

    :param sensor_subscription: 
    :type sensor_subscription: dict | bytes

    :rtype: Union[SensorSubscription, Tuple[SensorSubscription, int], Tuple[SensorSubscription, int, Dict[str, str]]
    """
    sensor_subscription = body
    if flask.request.is_json:
        sensor_subscription = SensorSubscription.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'
