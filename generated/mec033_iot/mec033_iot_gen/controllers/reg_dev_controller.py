import flask
from typing import Dict
from typing import Tuple
from typing import Union

from mec033_iot_gen.models.device_info import DeviceInfo  # noqa: E501
from mec033_iot_gen.models.problem_details import ProblemDetails  # noqa: E501
from mec033_iot_gen import util


def registereddevices_by_id_delete(registered_device_id):  # noqa: E501
    """Deregister a device

    Removes the registration of a device (clause 5.2.6). # noqa: E501

    :param registered_device_id: The &#x60;deviceId&#x60; the device was registered under.
    :type registered_device_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def registereddevices_by_id_get(registered_device_id):  # noqa: E501
    """Read a registered device

    Returns one registered device (clause 5.2.4) with its current &#x60;ETag&#x60;. # noqa: E501

    :param registered_device_id: The &#x60;deviceId&#x60; the device was registered under.
    :type registered_device_id: str

    :rtype: Union[DeviceInfo, Tuple[DeviceInfo, int], Tuple[DeviceInfo, int, Dict[str, str]]
    """
    return 'do some magic!'


def registereddevices_by_id_put(registered_device_id, body, if_match=None):  # noqa: E501
    """Update a registered device

    Replaces the registration of a device (clauses 5.2.5 and 5.4.3), for instance to associate it with a user transport. &#x60;deviceId&#x60; must equal &#x60;registeredDeviceId&#x60; (&#x60;400&#x60; otherwise); a device that is not registered is &#x60;404&#x60;. Pass the &#x60;ETag&#x60; you read in &#x60;If-Match&#x60; to refuse the change (&#x60;412&#x60;) if the device changed since.  # noqa: E501

    :param registered_device_id: The &#x60;deviceId&#x60; the device was registered under.
    :type registered_device_id: str
    :param device_info: 
    :type device_info: dict | bytes
    :param if_match: The &#x60;ETag&#x60; last read; the update is refused with &#x60;412&#x60; if the resource changed since.
    :type if_match: str

    :rtype: Union[DeviceInfo, Tuple[DeviceInfo, int], Tuple[DeviceInfo, int, Dict[str, str]]
    """
    device_info = body
    if flask.request.is_json:
        device_info = DeviceInfo.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def registereddevices_get(filter=None, fields=None):  # noqa: E501
    """List registered devices

    Lists every registered device, optionally narrowed with &#x60;filter&#x60;; for example &#x60;(eq,enabled,TRUE)&#x60; lists the devices with a valid traffic rule. No match is &#x60;200&#x60; with an empty array.  # noqa: E501

    :param filter: Attribute-based filter (ETSI GS MEC 009 clause 6.19) over the attributes of DeviceInfo, e.g. &#x60;(eq,enabled,TRUE)&#x60;, &#x60;(eq,requestedIotPlatformId,umec-mqtt)&#x60; or &#x60;(cont,deviceMetadata/value,temperature)&#x60;. Terms separated by &#x60;;&#x60; must all hold. 
    :type filter: str
    :param fields: Attributes of DeviceInfo the client wants to see (deviceMetadata, gpsi, msisdn, deviceId, requestedMecTrafficRule, requestedIotPlatformId, requestedUserTransportId, or any other DeviceInfo attribute). No attribute is left out by default, so every attribute is returned whatever the list; an unknown name is &#x60;400&#x60;. 
    :type fields: List[str]

    :rtype: Union[List[DeviceInfo], Tuple[List[DeviceInfo], int], Tuple[List[DeviceInfo], int, Dict[str, str]]
    """
    return 'do some magic!'


def registereddevices_post(body):  # noqa: E501
    """Register a device

    Registers a new device under its &#x60;deviceId&#x60; (clause 5.2.3). A device already registered under that id is &#x60;409&#x60;; change it with PUT instead. &#x60;enabled&#x60; is computed, whatever the request says.  # noqa: E501

    :param device_info: 
    :type device_info: dict | bytes

    :rtype: Union[DeviceInfo, Tuple[DeviceInfo, int], Tuple[DeviceInfo, int, Dict[str, str]]
    """
    device_info = body
    if flask.request.is_json:
        device_info = DeviceInfo.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'
