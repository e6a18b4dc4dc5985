import flask
from typing import Dict
from typing import Tuple
from typing import Union

from platform_sensors_gen.models.mqtt_configuration import MqttConfiguration  # noqa: E501
from platform_sensors_gen.models.problem_details import ProblemDetails  # noqa: E501
from platform_sensors_gen import util


def app_mqtt_configuration_get(app_instance_id):  # noqa: E501
    """Read an application&#39;s MQTT configuration

    The broker&#39;s address, the user name and the topics of the application&#39;s account, without the password. &#x60;404&#x60; when no credentials were issued (or they were revoked).  # noqa: E501

    :param app_instance_id: The application instance.
    :type app_instance_id: str

    :rtype: Union[MqttConfiguration, Tuple[MqttConfiguration, int], Tuple[MqttConfiguration, int, Dict[str, str]]
    """
    return 'do some magic!'


def app_mqtt_credentials_delete(app_instance_id):  # noqa: E501
    """Revoke an application&#39;s MQTT credentials

    The account stops working at once; the broker closes its connections. # noqa: E501

    :param app_instance_id: The application instance.
    :type app_instance_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def app_mqtt_credentials_post(app_instance_id):  # noqa: E501
    """Issue MQTT credentials to an application

    Creates a new MQTT password for the application instance and shows it, once: the platform keeps only its hash. A password issued before stops working at once. The user name is the &#x60;appInstanceId&#x60;. The answer also lists the topics the account may read (sensor topics of the sensor services the application requires) and read and write (&#x60;apps/&lt;appInstanceId&gt;/#&#x60;).  # noqa: E501

    :param app_instance_id: The application instance.
    :type app_instance_id: str

    :rtype: Union[MqttConfiguration, Tuple[MqttConfiguration, int], Tuple[MqttConfiguration, int, Dict[str, str]]
    """
    return 'do some magic!'
