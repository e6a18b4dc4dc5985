import flask
from typing import Dict
from typing import Tuple
from typing import Union

from mec010_2_app_lcm_gen.models.app_instance_info import AppInstanceInfo  # noqa: E501
from mec010_2_app_lcm_gen.models.app_lcm_op_occ import AppLcmOpOcc  # noqa: E501
from mec010_2_app_lcm_gen.models.cancel_mode import CancelMode  # noqa: E501
from mec010_2_app_lcm_gen.models.config_platform_for_app_request import ConfigPlatformForAppRequest  # noqa: E501
from mec010_2_app_lcm_gen.models.create_app_instance_request import CreateAppInstanceRequest  # noqa: E501
from mec010_2_app_lcm_gen.models.instantiate_app_request import InstantiateAppRequest  # noqa: E501
from mec010_2_app_lcm_gen.models.operate_app_request import OperateAppRequest  # noqa: E501
from mec010_2_app_lcm_gen.models.problem_details import ProblemDetails  # noqa: E501
from mec010_2_app_lcm_gen.models.terminate_app_request import TerminateAppRequest  # noqa: E501
from mec010_2_app_lcm_gen import util


def appinstances_configureplatformforapp_post_appinstanceid(app_instance_id, body):  # noqa: E501
    """Configure the platform for an app instance

    Hands the MEC platform the parts of the AppD it needs to host the instance (required and produced services, features, transports, traffic and DNS rules, latency, network policy) and answers &#x60;202&#x60;.  # noqa: E501

    :param app_instance_id: Identifier of the app instance, as returned when it was created.
    :type app_instance_id: str
    :param config_platform_for_app_request: 
    :type config_platform_for_app_request: dict | bytes

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    config_platform_for_app_request = body
    if flask.request.is_json:
        config_platform_for_app_request = ConfigPlatformForAppRequest.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def appinstances_delete_appinstanceid(app_instance_id):  # noqa: E501
    """Delete an app instance

    Deletes an app instance resource and its identifier. Only a &#x60;NOT_INSTANTIATED&#x60; instance with no open operation occurrence can be deleted; terminate it first. Subscribers to identifier deletion are notified.  # noqa: E501

    :param app_instance_id: Identifier of the app instance, as returned when it was created.
    :type app_instance_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def appinstances_get(filter=None, all_fields=None, fields=None, exclude_fields=None, exclude_default=None):  # noqa: E501
    """List app instances

    Lists the app instances the caller may see, optionally filtered with &#x60;filter&#x60;. Unless &#x60;all_fields&#x60;, &#x60;fields&#x60; or &#x60;exclude_fields&#x60; say otherwise, &#x60;vimConnectionInfo&#x60; and the &#x60;instantiate&#x60;, &#x60;terminate&#x60; and &#x60;operate&#x60; links are left out (as with &#x60;exclude_default&#x60;). No match is &#x60;200&#x60; with an empty array.  # noqa: E501

    :param filter: Attribute-based filter (ETSI GS MEC 009 clause 6.19) over the attributes of AppInstanceInfo, e.g. &#x60;(eq,instantiationState,INSTANTIATED)&#x60; or &#x60;(eq,appDId,3f0c9a52-7d1e-4b8a-9c61-2e5b7f4d1a90)&#x60;. 
    :type filter: str
    :param all_fields: Return every attribute, including those left out by default (ETSI GS MEC 009 clause 6.18).
    :type all_fields: str
    :param fields: Comma-separated complex attributes to include although they are left out by default.
    :type fields: str
    :param exclude_fields: Comma-separated complex attributes to leave out.
    :type exclude_fields: str
    :param exclude_default: Leave out the attributes excluded by default (&#x60;vimConnectionInfo&#x60; and the &#x60;instantiate&#x60;, &#x60;terminate&#x60; and &#x60;operate&#x60; links); the same as giving none of these parameters.
    :type exclude_default: str

    :rtype: Union[List[AppInstanceInfo], Tuple[List[AppInstanceInfo], int], Tuple[List[AppInstanceInfo], int, Dict[str, str]]
    """
    return 'do some magic!'


def appinstances_get_appinstanceid(app_instance_id):  # noqa: E501
    """Read an app instance

    Returns one app instance with its current instantiation and operational state. # noqa: E501

    :param app_instance_id: Identifier of the app instance, as returned when it was created.
    :type app_instance_id: str

    :rtype: Union[AppInstanceInfo, Tuple[AppInstanceInfo, int], Tuple[AppInstanceInfo, int, Dict[str, str]]
    """
    return 'do some magic!'


def appinstances_instantiate_post_appinstanceid(app_instance_id, body):  # noqa: E501
    """Instantiate an app instance

    Deploys a &#x60;NOT_INSTANTIATED&#x60; instance on the selected MEC host and starts it. The work runs in the background: the answer is &#x60;202&#x60; with the URI of the operation occurrence to follow; when it is &#x60;COMPLETED&#x60; the instance is &#x60;INSTANTIATED&#x60; and &#x60;STARTED&#x60;.  # noqa: E501

    :param app_instance_id: Identifier of the app instance, as returned when it was created.
    :type app_instance_id: str
    :param instantiate_app_request: 
    :type instantiate_app_request: dict | bytes

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    instantiate_app_request = body
    if flask.request.is_json:
        instantiate_app_request = InstantiateAppRequest.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def appinstances_operate_post_appinstanceid(app_instance_id, body):  # noqa: E501
    """Start or stop an app instance

    Changes the operational state of an &#x60;INSTANTIATED&#x60; instance to &#x60;STARTED&#x60; or &#x60;STOPPED&#x60;; a stopped instance stays instantiated. &#x60;202&#x60; with the URI of the operation occurrence.  # noqa: E501

    :param app_instance_id: Identifier of the app instance, as returned when it was created.
    :type app_instance_id: str
    :param operate_app_request: 
    :type operate_app_request: dict | bytes

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    operate_app_request = body
    if flask.request.is_json:
        operate_app_request = OperateAppRequest.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def appinstances_post(body):  # noqa: E501
    """Create an app instance

    Creates an app instance resource for the onboarded package whose AppD is &#x60;appDId&#x60;. The instance starts &#x60;NOT_INSTANTIATED&#x60;; instantiate it to run it. Subscribers to identifier creation are notified.  # noqa: E501

    :param create_app_instance_request: 
    :type create_app_instance_request: dict | bytes

    :rtype: Union[AppInstanceInfo, Tuple[AppInstanceInfo, int], Tuple[AppInstanceInfo, int, Dict[str, str]]
    """
    create_app_instance_request = body
    if flask.request.is_json:
        create_app_instance_request = CreateAppInstanceRequest.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def appinstances_terminate_post_appinstanceid(app_instance_id, body):  # noqa: E501
    """Terminate an app instance

    Stops an &#x60;INSTANTIATED&#x60; instance (forcefully, or gracefully within a timeout) and releases what it ran on. &#x60;202&#x60; with the URI of the operation occurrence; when it is &#x60;COMPLETED&#x60; the instance is &#x60;NOT_INSTANTIATED&#x60; and can be deleted or instantiated again.  # noqa: E501

    :param app_instance_id: Identifier of the app instance, as returned when it was created.
    :type app_instance_id: str
    :param terminate_app_request: 
    :type terminate_app_request: dict | bytes

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    terminate_app_request = body
    if flask.request.is_json:
        terminate_app_request = TerminateAppRequest.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def applcmopoccs_cancel_post_applcmopoccid(app_lcm_op_occ_id, body):  # noqa: E501
    """Cancel a running operation

    Asks to cancel an operation occurrence that is &#x60;STARTING&#x60; or &#x60;PROCESSING&#x60;. A &#x60;STARTING&#x60; one stops at once; for a &#x60;PROCESSING&#x60; one &#x60;isCancelPending&#x60; is &#x60;true&#x60; until the work has stopped. Either way the occurrence ends in &#x60;FAILED_TEMP&#x60;: retry it, or mark it failed.  # noqa: E501

    :param app_lcm_op_occ_id: Identifier of the operation occurrence, as given in the &#x60;Location&#x60; header of the task that started it.
    :type app_lcm_op_occ_id: str
    :param cancel_mode: 
    :type cancel_mode: dict | bytes

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    cancel_mode = body
    if flask.request.is_json:
        cancel_mode = CancelMode.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def applcmopoccs_fail_post_applcmopoccid(app_lcm_op_occ_id):  # noqa: E501
    """Mark a temporarily failed operation as failed

    Gives up on a &#x60;FAILED_TEMP&#x60; occurrence: it becomes &#x60;FAILED&#x60; for good and releases its instance, which keeps the state the failed operation left it in. Send no body.  # noqa: E501

    :param app_lcm_op_occ_id: Identifier of the operation occurrence, as given in the &#x60;Location&#x60; header of the task that started it.
    :type app_lcm_op_occ_id: str

    :rtype: Union[AppLcmOpOcc, Tuple[AppLcmOpOcc, int], Tuple[AppLcmOpOcc, int, Dict[str, str]]
    """
    return 'do some magic!'


def applcmopoccs_get(filter=None, all_fields=None, fields=None, exclude_fields=None, exclude_default=None):  # noqa: E501
    """List operation occurrences

    Lists lifecycle operation occurrences, optionally filtered with &#x60;filter&#x60; (for example &#x60;(eq,operationState,FAILED_TEMP)&#x60;). Unless &#x60;all_fields&#x60;, &#x60;fields&#x60; or &#x60;exclude_fields&#x60; say otherwise, &#x60;operationParams&#x60; and &#x60;_links&#x60; are left out (as with &#x60;exclude_default&#x60;). No match is &#x60;200&#x60; with an empty array.  # noqa: E501

    :param filter: Attribute-based filter (ETSI GS MEC 009 clause 6.19) over the attributes of AppLcmOpOcc, e.g. &#x60;(eq,operationState,FAILED_TEMP)&#x60; or &#x60;(eq,lcmOperation,INSTANTIATE)&#x60;. 
    :type filter: str
    :param all_fields: Return every attribute, including those left out by default (ETSI GS MEC 009 clause 6.18).
    :type all_fields: str
    :param fields: Comma-separated complex attributes of AppLcmOpOcc to include although they are left out by default.
    :type fields: str
    :param exclude_fields: Comma-separated complex attributes of AppLcmOpOcc to leave out.
    :type exclude_fields: str
    :param exclude_default: Leave out the attributes excluded by default (&#x60;operationParams&#x60; and &#x60;_links&#x60;); the same as giving none of these parameters.
    :type exclude_default: str

    :rtype: Union[List[AppLcmOpOcc], Tuple[List[AppLcmOpOcc], int], Tuple[List[AppLcmOpOcc], int, Dict[str, str]]
    """
    return 'do some magic!'


def applcmopoccs_get_applcmopoccid(app_lcm_op_occ_id):  # noqa: E501
    """Read an operation occurrence

    Returns one operation occurrence with its state, parameters and links. # noqa: E501

    :param app_lcm_op_occ_id: Identifier of the operation occurrence, as given in the &#x60;Location&#x60; header of the task that started it.
    :type app_lcm_op_occ_id: str

    :rtype: Union[AppLcmOpOcc, Tuple[AppLcmOpOcc, int], Tuple[AppLcmOpOcc, int, Dict[str, str]]
    """
    return 'do some magic!'


def applcmopoccs_retry_post_applcmopoccid(app_lcm_op_occ_id):  # noqa: E501
    """Retry a temporarily failed operation

    Runs a &#x60;FAILED_TEMP&#x60; occurrence again from the start with its original parameters; it goes back to &#x60;STARTING&#x60;. Send no body.  # noqa: E501

    :param app_lcm_op_occ_id: Identifier of the operation occurrence, as given in the &#x60;Location&#x60; header of the task that started it.
    :type app_lcm_op_occ_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'
