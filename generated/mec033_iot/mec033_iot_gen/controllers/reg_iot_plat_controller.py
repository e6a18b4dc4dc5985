import flask
from typing import Dict
from typing import Tuple
from typing import Union

from mec033_iot_gen.models.iot_platform_info import IotPlatformInfo  # noqa: E501
from mec033_iot_gen.models.problem_details import ProblemDetails  # noqa: E501
from mec033_iot_gen import util


def registerediotplatforms_by_id_delete(registered_iot_platform_id):  # noqa: E501
    """Deregister an IoT platform

    Removes the registration of an IoT platform (clause 5.3.6). Devices that named it stay registered but are no longer &#x60;enabled&#x60; unless they have a traffic rule of their own. The built-in platform &#x60;umec-mqtt&#x60; cannot be deregistered (&#x60;403&#x60;).  # noqa: E501

    :param registered_iot_platform_id: The &#x60;iotPlatformId&#x60; the IoT platform was registered under (&#x60;umec-mqtt&#x60; for the built-in one).
    :type registered_iot_platform_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def registerediotplatforms_by_id_get(registered_iot_platform_id, fields=None):  # noqa: E501
    """Read an IoT platform

    Returns one IoT platform with its user transports and vendor-specific service transports (clauses 5.3.3 and 5.4.2), with its current &#x60;ETag&#x60;.  # noqa: E501

    :param registered_iot_platform_id: The &#x60;iotPlatformId&#x60; the IoT platform was registered under (&#x60;umec-mqtt&#x60; for the built-in one).
    :type registered_iot_platform_id: str
    :param fields: Attributes of IotPlatformInfo the client wants to see (userTransportInfo, customServicesTransportInfo, or any other IotPlatformInfo attribute). No attribute is left out by default, so every attribute is returned whatever the list; an unknown name is &#x60;400&#x60;. 
    :type fields: List[str]

    :rtype: Union[IotPlatformInfo, Tuple[IotPlatformInfo, int], Tuple[IotPlatformInfo, int, Dict[str, str]]
    """
    return 'do some magic!'


def registerediotplatforms_by_id_put(registered_iot_platform_id, body, if_match=None):  # noqa: E501
    """Update an IoT platform

    Replaces the registration of an IoT platform (clause 5.3.5). &#x60;iotPlatformId&#x60; must equal &#x60;registeredIotPlatformId&#x60; (&#x60;400&#x60; otherwise). The built-in platform &#x60;umec-mqtt&#x60; cannot be changed (&#x60;403&#x60;). Pass the &#x60;ETag&#x60; you read in &#x60;If-Match&#x60; to refuse the change (&#x60;412&#x60;) if the platform changed since.  # noqa: E501

    :param registered_iot_platform_id: The &#x60;iotPlatformId&#x60; the IoT platform was registered under (&#x60;umec-mqtt&#x60; for the built-in one).
    :type registered_iot_platform_id: str
    :param iot_platform_info: 
    :type iot_platform_info: dict | bytes
    :param if_match: The &#x60;ETag&#x60; last read; the update is refused with &#x60;412&#x60; if the resource changed since.
    :type if_match: str

    :rtype: Union[IotPlatformInfo, Tuple[IotPlatformInfo, int], Tuple[IotPlatformInfo, int, Dict[str, str]]
    """
    iot_platform_info = body
    if flask.request.is_json:
        iot_platform_info = IotPlatformInfo.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def registerediotplatforms_get(fields=None):  # noqa: E501
    """List IoT platforms

    Lists the built-in platform &#x60;umec-mqtt&#x60; followed by every registered IoT platform (clause 5.3.2).  # noqa: E501

    :param fields: Attributes of IotPlatformInfo the client wants to see (iotPlatformId, enabled, or any other IotPlatformInfo attribute). No attribute is left out by default, so every attribute is returned whatever the list; an unknown name is &#x60;400&#x60;. 
    :type fields: List[str]

    :rtype: Union[List[IotPlatformInfo], Tuple[List[IotPlatformInfo], int], Tuple[List[IotPlatformInfo], int, Dict[str, str]]
    """
    return 'do some magic!'


def registerediotplatforms_post(body):  # noqa: E501
    """Register an IoT platform

    Registers an IoT platform under its &#x60;iotPlatformId&#x60; (clause 5.3.4). An id already in use, &#x60;umec-mqtt&#x60; included, is &#x60;409&#x60;. Every user transport is topic based (&#x60;MB_TOPIC_BASED&#x60;), and the transport ids of a platform are distinct.  # noqa: E501

    :param iot_platform_info: 
    :type iot_platform_info: dict | bytes

    :rtype: Union[IotPlatformInfo, Tuple[IotPlatformInfo, int], Tuple[IotPlatformInfo, int, Dict[str, str]]
    """
    iot_platform_info = body
    if flask.request.is_json:
        iot_platform_info = IotPlatformInfo.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'
