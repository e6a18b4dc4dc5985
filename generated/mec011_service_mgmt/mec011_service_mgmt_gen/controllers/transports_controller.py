import flask
from typing import Dict
from typing import Tuple
from typing import Union

from mec011_service_mgmt_gen.models.problem_details import ProblemDetails  # noqa: E501
from mec011_service_mgmt_gen.models.transport_info import TransportInfo  # noqa: E501
from mec011_service_mgmt_gen import util


def transports_get():  # noqa: E501
    """List platform-provided transports

    Lists the transports the platform offers. A producer can register a service on one of them by putting its &#x60;id&#x60; into &#x60;ServiceInfo.transportId&#x60; instead of describing its own &#x60;transportInfo&#x60;.  # noqa: E501


    :rtype: Union[List[TransportInfo], Tuple[List[TransportInfo], int], Tuple[List[TransportInfo], int, Dict[str, str]]
    """
    return 'do some magic!'
