import flask
from typing import Dict
from typing import Tuple
from typing import Union

from platform_sensors_gen.models.export_status import ExportStatus  # noqa: E501
from platform_sensors_gen.models.problem_details import ProblemDetails  # noqa: E501
from platform_sensors_gen import util


def exports_get():  # noqa: E501
    """State of the exports to upstream brokers

    Each configured export: the upstream broker (host and port, never credentials), the topics it forwards, whether it is connected, and its store-and-forward queue. Messages wait in the queue on this box&#39;s disk while the upstream broker is unreachable and are sent in order once it is back. An empty array means no export is configured.  # noqa: E501


    :rtype: Union[List[ExportStatus], Tuple[List[ExportStatus], int], Tuple[List[ExportStatus], int, Dict[str, str]]
    """
    return 'do some magic!'
