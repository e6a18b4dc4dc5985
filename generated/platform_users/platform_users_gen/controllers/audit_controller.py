import flask
from typing import Dict
from typing import Tuple
from typing import Union

from platform_users_gen.models.audit_record import AuditRecord  # noqa: E501
from platform_users_gen.models.problem_details import ProblemDetails  # noqa: E501
from platform_users_gen import util


def audit_get(limit=None, since=None):  # noqa: E501
    """Read the audit log

    The latest records, oldest first. Platform admins only. # noqa: E501

    :param limit: How many of the latest records to return.
    :type limit: int
    :param since: Only records at or after this time (RFC 3339).
    :type since: str

    :rtype: Union[List[AuditRecord], Tuple[List[AuditRecord], int], Tuple[List[AuditRecord], int, Dict[str, str]]
    """
    since = util.deserialize_datetime(since)
    return 'do some magic!'
