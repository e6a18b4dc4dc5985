"""Users API wire format (camelCase JSON) <-> auth model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mec_platform.auth.model import Principal, SshKey, User


def timestamp(seconds: float) -> str:
    """RFC 3339 UTC time with seconds."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def key_to_wire(key: SshKey) -> dict[str, Any]:
    """An SshKey document."""
    body: dict[str, Any] = {
        "keyId": key.key_id,
        "type": key.key_type,
        "fingerprint": key.fingerprint,
        "publicKey": key.openssh,
    }
    if key.comment:
        body["comment"] = key.comment
    return body


def user_to_wire(user: User) -> dict[str, Any]:
    """A User document."""
    return {
        "userName": user.name,
        "role": user.role.value,
        "createdAt": timestamp(user.created_at),
        "sshKeys": [key_to_wire(key) for key in user.keys],
    }


def identity_to_wire(principal: Principal) -> dict[str, Any]:
    """An Identity document."""
    body: dict[str, Any] = {
        "subject": principal.subject,
        "role": principal.role.value,
        "scopes": sorted(principal.scopes),
        "expiresAt": timestamp(principal.expires_at),
    }
    if principal.app_instance_id is not None:
        body["appInstanceId"] = principal.app_instance_id
    return body
