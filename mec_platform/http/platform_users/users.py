"""Users API handlers for people and their SSH keys."""

from __future__ import annotations

from typing import Any

from mec_platform.auth.model import parse_role
from mec_platform.auth.ssh_keys import parse_public_key
from mec_platform.auth.users import Users
from mec_platform.http.platform_users.wire import identity_to_wire, key_to_wire, user_to_wire
from mec_platform.http.responses import RawResponse, Response, no_content, ok
from mec_platform.http.security import current_principal
from mec_platform.registry.urls import ResourceUrls


def me_get() -> Response:
    """GET /me: the caller's identity."""
    return ok(identity_to_wire(current_principal()))


def users_get(*, users: Users) -> Response:
    """GET /users: every user."""
    return ok([user_to_wire(user) for user in users.all()])


def users_post(body: dict[str, Any], *, users: Users, urls: ResourceUrls) -> Response:
    """POST /users: add a user with its first keys."""
    keys = [parse_public_key(line) for line in body.get("sshKeys") or ()]
    user = users.add(body["userName"], parse_role(body["role"]), keys)
    location = f"{urls.api_root}/users/v1/users/{user.name}"
    return ok(user_to_wire(user), 201, Location=location)


def user_get(user_name: str, *, users: Users) -> Response:
    """GET /users/{userName}."""
    return ok(user_to_wire(users.get(user_name)))


def user_patch(user_name: str, body: dict[str, Any], *, users: Users) -> Response:
    """PATCH /users/{userName}: change the role."""
    return ok(user_to_wire(users.set_role(user_name, parse_role(body["role"]))))


def user_delete(user_name: str, *, users: Users) -> RawResponse:
    """DELETE /users/{userName}."""
    users.remove(user_name)
    return no_content()


def user_keys_get(user_name: str, *, users: Users) -> Response:
    """GET /users/{userName}/keys."""
    return ok([key_to_wire(key) for key in users.get(user_name).keys])


def user_keys_post(
    user_name: str, body: dict[str, Any], *, users: Users, urls: ResourceUrls
) -> Response:
    """POST /users/{userName}/keys: register a key."""
    key = users.add_key(user_name, parse_public_key(body["publicKey"]))
    location = f"{urls.api_root}/users/v1/users/{user_name}/keys/{key.key_id}"
    return ok(key_to_wire(key), 201, Location=location)


def user_key_get(user_name: str, key_id: str, *, users: Users) -> Response:
    """GET /users/{userName}/keys/{keyId}."""
    return ok(key_to_wire(users.key(user_name, key_id)))


def user_key_delete(user_name: str, key_id: str, *, users: Users) -> RawResponse:
    """DELETE /users/{userName}/keys/{keyId}: revoke."""
    users.remove_key(user_name, key_id)
    return no_content()
