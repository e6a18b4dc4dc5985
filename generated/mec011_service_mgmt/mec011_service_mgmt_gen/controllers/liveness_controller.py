import flask
from typing import Dict
from typing import Tuple
from typing import Union

from mec011_service_mgmt_gen.models.problem_details import ProblemDetails  # noqa: E501
from mec011_service_mgmt_gen.models.service_liveness_info import ServiceLivenessInfo  # noqa: E501
from mec011_service_mgmt_gen.models.service_liveness_update import ServiceLivenessUpdate  # noqa: E501
from mec011_service_mgmt_gen import util


def resourceuriallocatedbymecplatform_get(app_instance_id, service_id):  # noqa: E501
    """Read the liveness of a service

    Shows the service&#39;s state, when its last heartbeat arrived and the interval the platform expects. The link to this resource is &#x60;_links.liveness&#x60; of the service; it exists only for services that send heartbeats (&#x60;404&#x60; otherwise).  # noqa: E501

    :param app_instance_id: Identifier of the app instance, as assigned by the platform when the app was instantiated.
    :type app_instance_id: str
    :param service_id: The service&#39;s &#x60;serInstanceId&#x60;.
    :type service_id: str

    :rtype: Union[ServiceLivenessInfo, Tuple[ServiceLivenessInfo, int], Tuple[ServiceLivenessInfo, int, Dict[str, str]]
    """
    return 'do some magic!'


def resourceuriallocatedbymecplatform_patch(app_instance_id, service_id, body):  # noqa: E501
    """Send a heartbeat

    Tells the platform the service is still alive. Send &#x60;{\&quot;state\&quot;: \&quot;ACTIVE\&quot;}&#x60; at least once per &#x60;livenessInterval&#x60; seconds. The platform answers &#x60;204&#x60; when nothing changes, or &#x60;200&#x60; with a &#x60;ServiceLivenessInfo&#x60; when it wants a different interval from now on. &#x60;409&#x60; means the service is &#x60;INACTIVE&#x60; (for example after missed heartbeats): reactivate it with a PUT on the service before sending heartbeats again.  # noqa: E501

    :param app_instance_id: Identifier of the app instance, as assigned by the platform when the app was instantiated.
    :type app_instance_id: str
    :param service_id: The service&#39;s &#x60;serInstanceId&#x60;.
    :type service_id: str
    :param service_liveness_update: The heartbeat.
    :type service_liveness_update: dict | bytes

    :rtype: Union[ServiceLivenessInfo, Tuple[ServiceLivenessInfo, int], Tuple[ServiceLivenessInfo, int, Dict[str, str]]
    """
    service_liveness_update = body
    if flask.request.is_json:
        service_liveness_update = ServiceLivenessUpdate.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'
