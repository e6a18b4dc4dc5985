import flask
from typing import Dict
from typing import Tuple
from typing import Union

from platform_oauth2_gen.models.challenge import Challenge  # noqa: E501
from platform_oauth2_gen.models.challenge_request import ChallengeRequest  # noqa: E501
from platform_oauth2_gen.models.jwk_set import JwkSet  # noqa: E501
from platform_oauth2_gen.models.o_auth_problem import OAuthProblem  # noqa: E501
from platform_oauth2_gen.models.token_response import TokenResponse  # noqa: E501
from platform_oauth2_gen import util


def challenges_post(body):  # noqa: E501
    """Ask for a login challenge

    A single-use nonce for the named user, valid for 60 seconds. Sign the nonce (its exact characters, no newline) in the &#x60;mec-platform-login&#x60; namespace. A nonce is returned for any name, so the answer does not tell whether a user exists.  # noqa: E501

    :param challenge_request: 
    :type challenge_request: dict | bytes

    :rtype: Union[Challenge, Tuple[Challenge, int], Tuple[Challenge, int, Dict[str, str]]
    """
    challenge_request = body
    if flask.request.is_json:
        challenge_request = ChallengeRequest.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def jwks_get():  # noqa: E501
    """Public keys that verify tokens

    The JWK Set (RFC 7517) of the keys whose tokens are currently accepted. # noqa: E501


    :rtype: Union[JwkSet, Tuple[JwkSet, int], Tuple[JwkSet, int, Dict[str, str]]
    """
    return 'do some magic!'


def token_post(grant_type=None, client_id=None, client_secret=None, scope=None, username=None, challenge=None, signature=None):  # noqa: E501
    """Obtain an access token

    &#x60;grant_type&#x3D;client_credentials&#x60; with &#x60;client_id&#x60; and &#x60;client_secret&#x60; (or HTTP Basic), or &#x60;grant_type&#x3D;urn:mec-platform:params:oauth:grant-type:ssh-signature&#x60; with &#x60;username&#x60;, &#x60;challenge&#x60; and &#x60;signature&#x60;. &#x60;scope&#x60; narrows the token to some of the scopes of the caller&#39;s role; without it the token carries all of them.  # noqa: E501

    :param grant_type: &#x60;client_credentials&#x60; or &#x60;urn:mec-platform:params:oauth:grant-type:ssh-signature&#x60;; any other value is answered with the RFC 6749 error &#x60;unsupported_grant_type&#x60;. 
    :type grant_type: str
    :param client_id: 
    :type client_id: str
    :param client_secret: 
    :type client_secret: str
    :param scope: 
    :type scope: str
    :param username: 
    :type username: str
    :param challenge: 
    :type challenge: str
    :param signature: 
    :type signature: str

    :rtype: Union[TokenResponse, Tuple[TokenResponse, int], Tuple[TokenResponse, int, Dict[str, str]]
    """
    return 'do some magic!'
