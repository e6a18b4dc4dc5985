import flask
from typing import Dict
from typing import Tuple
from typing import Union

from platform_users_gen.models.client_credentials import ClientCredentials  # noqa: E501
from platform_users_gen.models.problem_details import ProblemDetails  # noqa: E501
from platform_users_gen import util


def app_credentials_post(app_instance_id):  # noqa: E501
    """Issue new client credentials

    Replaces the OAuth 2.0 client secret of an application instance and shows the new one, once: the platform keeps only its hash. The old secret stops working at once; tokens already issued with it expire with their lifetime. Platform admins, and the app provider owning the instance.  # noqa: E501

    :param app_instance_id: The application instance.
    :type app_instance_id: str

    :rtype: Union[ClientCredentials, Tuple[ClientCredentials, int], Tuple[ClientCredentials, int, Dict[str, str]]
    """
    return 'do some magic!'
