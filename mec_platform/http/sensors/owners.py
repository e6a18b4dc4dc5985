"""Who owns threshold subscriptions: the caller's subject. Platform admins (and viewers, who
read everything their scopes reach) see every owner's; with authentication off the platform
itself acts, for everyone."""

from __future__ import annotations

from dataclasses import dataclass

from connexion.context import context

from mec_platform.auth.model import Principal, Role
from mec_platform.http.security import PRINCIPAL

PLATFORM_OWNER = "platform"


@dataclass(frozen=True)
class Subscriber:
    """The owner recorded on new subscriptions and whose subscriptions the caller reaches."""

    owner: str
    reach: str | None  # None: every owner's


def subscriber_for(principal: Principal | None) -> Subscriber:
    """The subscriber a verified principal (None when authentication is off) acts as."""
    if principal is None:
        return Subscriber(PLATFORM_OWNER, None)
    sees_all = principal.role in (Role.ADMIN, Role.VIEWER)
    return Subscriber(principal.subject, None if sees_all else principal.subject)


def calling_subscriber() -> Subscriber:
    """The subscriber of the request being handled."""
    token_info = context.get("token_info") or {}
    principal = token_info.get(PRINCIPAL)
    return subscriber_for(principal if isinstance(principal, Principal) else None)
