import flask
from typing import Dict
from typing import Tuple
from typing import Union

from platform_users_gen.models.identity import Identity  # noqa: E501
from platform_users_gen.models.new_ssh_key import NewSshKey  # noqa: E501
from platform_users_gen.models.new_user import NewUser  # noqa: E501
from platform_users_gen.models.problem_details import ProblemDetails  # noqa: E501
from platform_users_gen.models.ssh_key import SshKey  # noqa: E501
from platform_users_gen.models.user import User  # noqa: E501
from platform_users_gen.models.user_change import UserChange  # noqa: E501
from platform_users_gen import util


def me_get():  # noqa: E501
    """The caller&#39;s identity

    Who the token in this request belongs to, with its role and scopes. Any valid token may ask, whatever its scopes: an application instance learns its own identity too.  # noqa: E501


    :rtype: Union[Identity, Tuple[Identity, int], Tuple[Identity, int, Dict[str, str]]
    """
    return 'do some magic!'


def user_delete(user_name):  # noqa: E501
    """Remove a user

    Removes the user and its keys: its sign-in and maintenance access end at once (tokens it already holds expire with their lifetime). The last platform admin cannot be removed (&#x60;409&#x60;). Platform admins only.  # noqa: E501

    :param user_name: The user&#39;s name.
    :type user_name: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def user_get(user_name):  # noqa: E501
    """Read a user

    One user with its role and keys. Admins read anyone; others themselves. # noqa: E501

    :param user_name: The user&#39;s name.
    :type user_name: str

    :rtype: Union[User, Tuple[User, int], Tuple[User, int, Dict[str, str]]
    """
    return 'do some magic!'


def user_key_delete(user_name, key_id):  # noqa: E501
    """Revoke an SSH key

    The key no longer signs in, nor opens the maintenance account. # noqa: E501

    :param user_name: The user&#39;s name.
    :type user_name: str
    :param key_id: The key&#39;s identifier (&#x60;keyId&#x60;, the SHA-256 of the key in hex).
    :type key_id: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def user_key_get(user_name, key_id):  # noqa: E501
    """Read one SSH key

     # noqa: E501

    :param user_name: The user&#39;s name.
    :type user_name: str
    :param key_id: The key&#39;s identifier (&#x60;keyId&#x60;, the SHA-256 of the key in hex).
    :type key_id: str

    :rtype: Union[SshKey, Tuple[SshKey, int], Tuple[SshKey, int, Dict[str, str]]
    """
    return 'do some magic!'


def user_keys_get(user_name):  # noqa: E501
    """List a user&#39;s SSH keys

     # noqa: E501

    :param user_name: The user&#39;s name.
    :type user_name: str

    :rtype: Union[List[SshKey], Tuple[List[SshKey], int], Tuple[List[SshKey], int, Dict[str, str]]
    """
    return 'do some magic!'


def user_keys_post(user_name, body):  # noqa: E501
    """Add an SSH key

    Registers one more public key (ssh-ed25519, ecdsa-sha2-nistp256/384/521, or ssh-rsa of at least 3072 bits) in the &#x60;authorized_keys&#x60; form. A key belongs to one user only.  # noqa: E501

    :param user_name: The user&#39;s name.
    :type user_name: str
    :param new_ssh_key: 
    :type new_ssh_key: dict | bytes

    :rtype: Union[SshKey, Tuple[SshKey, int], Tuple[SshKey, int, Dict[str, str]]
    """
    new_ssh_key = body
    if flask.request.is_json:
        new_ssh_key = NewSshKey.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def user_patch(user_name, body):  # noqa: E501
    """Change a user&#39;s role

    Gives the user another role. The last platform admin keeps the role (&#x60;409&#x60;). Platform admins only.  # noqa: E501

    :param user_name: The user&#39;s name.
    :type user_name: str
    :param user_change: 
    :type user_change: dict | bytes

    :rtype: Union[User, Tuple[User, int], Tuple[User, int, Dict[str, str]]
    """
    user_change = body
    if flask.request.is_json:
        user_change = UserChange.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'


def users_get():  # noqa: E501
    """List users

    Every user with role and keys, sorted by name. Platform admins only. # noqa: E501


    :rtype: Union[List[User], Tuple[List[User], int], Tuple[List[User], int, Dict[str, str]]
    """
    return 'do some magic!'


def users_post(body):  # noqa: E501
    """Add a user

    Creates a user with a role and its first SSH keys. Platform admins only. # noqa: E501

    :param new_user: 
    :type new_user: dict | bytes

    :rtype: Union[User, Tuple[User, int], Tuple[User, int, Dict[str, str]]
    """
    new_user = body
    if flask.request.is_json:
        new_user = NewUser.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'
