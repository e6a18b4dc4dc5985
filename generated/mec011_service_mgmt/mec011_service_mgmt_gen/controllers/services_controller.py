import flask
from typing import Dict
from typing import Tuple
from typing import Union

from mec011_service_mgmt_gen.models.locality_type import LocalityType  # noqa: E501
from mec011_service_mgmt_gen.models.problem_details import ProblemDetails  # noqa: E501
from mec011_service_mgmt_gen.models.service_info import ServiceInfo  # noqa: E501
from mec011_service_mgmt_gen import util


def applications_services_delete_appinstanceid_serviceid(app_instance_id, service_id):  # noqa: E501
    """Deregister a service

    Removes the service; subscribers whose filter matches it are notified (&#x60;REMOVED&#x60;). # noqa: E501

    :param app_instance_id: Identifier of the app instance, as assigned by the platform when the app was instantiated.
    :type app_instance_id: str
    :param service_id: The service&#39;s &#x60;serInstanceId&#x60;.
    :type service_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_services_get_appinstanceid(app_instance_id, ser_instance_id=None, ser_name=None, ser_category_id=None, scope_of_locality=None, consumed_local_only=None, is_local=None):  # noqa: E501
    """List the services of one app instance

    Lists the services registered by the given app instance, with the same filters as &#x60;GET /services&#x60;: parameters are ANDed, comma-separated values of one parameter ORed, &#x60;ser_instance_id&#x60;, &#x60;ser_name&#x60; and &#x60;ser_category_id&#x60; are mutually exclusive (&#x60;400&#x60; when more than one is given), and no match is &#x60;200&#x60; with an empty array. &#x60;404&#x60; means the app instance is unknown.  # noqa: E501

    :param app_instance_id: Identifier of the app instance, as assigned by the platform when the app was instantiated.
    :type app_instance_id: str
    :param ser_instance_id: Only services with one of these &#x60;serInstanceId&#x60;s (comma-separated, ORed). Cannot be combined with &#x60;ser_name&#x60; or &#x60;ser_category_id&#x60;.
    :type ser_instance_id: List[str]
    :param ser_name: Only services with one of these &#x60;serName&#x60;s (comma-separated, ORed). Cannot be combined with &#x60;ser_instance_id&#x60; or &#x60;ser_category_id&#x60;.
    :type ser_name: List[str]
    :param ser_category_id: Only services whose &#x60;serCategory.id&#x60; equals this value. Cannot be combined with &#x60;ser_instance_id&#x60; or &#x60;ser_name&#x60;.
    :type ser_category_id: str
    :param scope_of_locality: Only services whose &#x60;scopeOfLocality&#x60; equals this value.
    :type scope_of_locality: dict | bytes
    :param consumed_local_only: Only services whose &#x60;consumedLocalOnly&#x60; equals this value.
    :type consumed_local_only: bool
    :param is_local: &#x60;true&#x60;: only services in the caller&#39;s locality; &#x60;false&#x60;: only services elsewhere. Absent: both.
    :type is_local: bool

    :rtype: Union[List[ServiceInfo], Tuple[List[ServiceInfo], int], Tuple[List[ServiceInfo], int, Dict[str, str]]
    """
    if flask.request.is_json:
        scope_of_locality =  LocalityType.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def applications_services_get_appinstanceid_serviceid(app_instance_id, service_id):  # noqa: E501
    """Read one service of an app instance

    Returns one service registered by this app instance, with its current &#x60;ETag&#x60;. # noqa: E501

    :param app_instance_id: Identifier of the app instance, as assigned by the platform when the app was instantiated.
    :type app_instance_id: str
    :param service_id: The service&#39;s &#x60;serInstanceId&#x60;.
    :type service_id: str

    :rtype: Union[ServiceInfo, Tuple[ServiceInfo, int], Tuple[ServiceInfo, int, Dict[str, str]]
    """
    return 'do some magic!'


def applications_services_post_appinstanceid(app_instance_id, body):  # noqa: E501
    """Register a service

    Registers a service produced by this app instance. The platform allocates &#x60;serInstanceId&#x60; (a value sent by the client is ignored) and fills in &#x60;_links&#x60;. Give exactly one of &#x60;transportId&#x60; (a transport from &#x60;GET /transports&#x60;) or &#x60;transportInfo&#x60; (your own transport). To opt in to heartbeats, send &#x60;livenessInterval&#x60; (0 lets the platform choose); if the platform wants heartbeats, the response carries the agreed &#x60;livenessInterval&#x60; and &#x60;_links.liveness&#x60;.  # noqa: E501

    :param app_instance_id: Identifier of the app instance, as assigned by the platform when the app was instantiated.
    :type app_instance_id: str
    :param service_info: The service to register (no &#x60;serInstanceId&#x60;, no &#x60;_links&#x60;).
    :type service_info: dict | bytes

    :rtype: Union[ServiceInfo, Tuple[ServiceInfo, int], Tuple[ServiceInfo, int, Dict[str, str]]
    """
    service_info = body
    if flask.request.is_json:
        service_info = ServiceInfo.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def applications_services_put_appinstanceid_serviceid(app_instance_id, service_id, body, if_match=None):  # noqa: E501
    """Update a service

    Replaces the mutable attributes of a registered service, typically its &#x60;state&#x60;. Send the representation you read (with &#x60;transportInfo&#x60;, without &#x60;transportId&#x60;); &#x60;serInstanceId&#x60;, when present, must equal &#x60;serviceId&#x60;, and &#x60;_links&#x60; is ignored. Pass the &#x60;ETag&#x60; you read in &#x60;If-Match&#x60; to avoid overwriting a newer version: a stale value gives &#x60;412&#x60;.  # noqa: E501

    :param app_instance_id: Identifier of the app instance, as assigned by the platform when the app was instantiated.
    :type app_instance_id: str
    :param service_id: The service&#39;s &#x60;serInstanceId&#x60;.
    :type service_id: str
    :param service_info: The updated service.
    :type service_info: dict | bytes
    :param if_match: The &#x60;ETag&#x60; last read for this service; the update is refused with &#x60;412&#x60; if the service changed since.
    :type if_match: str

    :rtype: Union[ServiceInfo, Tuple[ServiceInfo, int], Tuple[ServiceInfo, int, Dict[str, str]]
    """
    service_info = body
    if flask.request.is_json:
        service_info = ServiceInfo.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def services_get(ser_instance_id=None, ser_name=None, ser_category_id=None, scope_of_locality=None, consumed_local_only=None, is_local=None):  # noqa: E501
    """Discover services

    Lists the registered services visible to the caller, optionally filtered. Different query parameters are combined with AND; the comma-separated values of one parameter are combined with OR. &#x60;ser_instance_id&#x60;, &#x60;ser_name&#x60; and &#x60;ser_category_id&#x60; exclude each other: giving more than one of them is a &#x60;400&#x60;. When nothing matches, the answer is &#x60;200&#x60; with an empty array.  # noqa: E501

    :param ser_instance_id: Only services with one of these &#x60;serInstanceId&#x60;s (comma-separated, ORed). Cannot be combined with &#x60;ser_name&#x60; or &#x60;ser_category_id&#x60;.
    :type ser_instance_id: List[str]
    :param ser_name: Only services with one of these &#x60;serName&#x60;s (comma-separated, ORed). Cannot be combined with &#x60;ser_instance_id&#x60; or &#x60;ser_category_id&#x60;.
    :type ser_name: List[str]
    :param ser_category_id: Only services whose &#x60;serCategory.id&#x60; equals this value. Cannot be combined with &#x60;ser_instance_id&#x60; or &#x60;ser_name&#x60;.
    :type ser_category_id: str
    :param scope_of_locality: Only services whose &#x60;scopeOfLocality&#x60; equals this value.
    :type scope_of_locality: dict | bytes
    :param consumed_local_only: Only services whose &#x60;consumedLocalOnly&#x60; equals this value.
    :type consumed_local_only: bool
    :param is_local: &#x60;true&#x60;: only services in the caller&#39;s locality; &#x60;false&#x60;: only services elsewhere. Absent: both.
    :type is_local: bool

    :rtype: Union[List[ServiceInfo], Tuple[List[ServiceInfo], int], Tuple[List[ServiceInfo], int, Dict[str, str]]
    """
    if flask.request.is_json:
        scope_of_locality =  LocalityType.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def services_get_serviceid(service_id):  # noqa: E501
    """Read one service

    Returns one registered service by its &#x60;serInstanceId&#x60;, with its current &#x60;ETag&#x60;. # noqa: E501

    :param service_id: The service&#39;s &#x60;serInstanceId&#x60;.
    :type service_id: str

    :rtype: Union[ServiceInfo, Tuple[ServiceInfo, int], Tuple[ServiceInfo, int, Dict[str, str]]
    """
    return 'do some magic!'
