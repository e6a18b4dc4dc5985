"""The single policy point: may this principal call this operation on this resource?

Scopes (checked by connexion from our specs) say which APIs a token reaches at all; this module
decides per resource, from the role, the HTTP method and the owner the path names:

- a platform admin may do everything;
- a viewer may only read (GET), anything a token with its scopes reaches, but of the users
  API only its own identity and keys;
- an app instance may act only on its own `appInstanceId`;
- an app provider may act on the app instances it owns, and on its own user record;
- people manage their own SSH keys; only admins manage users, roles and the audit log.

A path naming another instance is refused in the same words whether that instance exists or
not, so a caller learns nothing about instances that are not its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mec_platform.auth.model import Principal, Role

# Operations only platform admins may call.
ADMIN_ONLY = frozenset(
    {
        "UsersGET",
        "UsersPOST",
        "UserDELETE",
        "UserPATCH",
        "AuditGET",
        # Forgetting a sensor stream removes it (and its history) for every app.
        "SensorDELETE",
    }
)
READ_METHODS = frozenset({"GET", "HEAD"})

OwnerLookup = Callable[[str], tuple[bool, str | None]]
"""(exists, owner) of an application instance."""


@dataclass(frozen=True)
class Operation:
    """What a request asks for: method, operationId and the path parameters."""

    method: str
    operation_id: str
    path_params: Mapping[str, str]


@dataclass(frozen=True)
class Decision:
    """Allowed, or refused with a reason safe to show to the caller."""

    allowed: bool
    reason: str = ""


ALLOW = Decision(True)


def decide(principal: Principal, operation: Operation, owner_of: OwnerLookup) -> Decision:
    """Allow or refuse one request; `owner_of` is consulted only for app providers."""
    if principal.role is Role.ADMIN:
        return ALLOW
    if principal.role is Role.VIEWER and operation.method.upper() not in READ_METHODS:
        return _deny(principal, "has read-only access")
    if operation.operation_id in ADMIN_ONLY:
        return _deny(principal, "may not manage users or the platform; a platform admin may")
    user_name = operation.path_params.get("userName")
    if user_name is not None and not (principal.is_person and user_name == principal.subject):
        return _deny(principal, "may act only on its own user record")
    instance = operation.path_params.get("appInstanceId")
    if instance is not None:
        return _instance_decision(principal, instance, owner_of)
    return ALLOW


def _instance_decision(principal: Principal, instance: str, owner_of: OwnerLookup) -> Decision:
    if principal.role is Role.VIEWER:
        return ALLOW
    if principal.role is Role.APP:
        if principal.app_instance_id == instance:
            return ALLOW
        return _deny(principal, "may act only on its own application instance")
    exists, owner = owner_of(instance)
    if exists and owner == principal.subject:
        return ALLOW
    return _deny(principal, "may act only on application instances it owns")


def _deny(principal: Principal, why: str) -> Decision:
    return Decision(False, f"{principal.role.value} '{principal.subject}' {why}")
