"""Token endpoint handlers: client credentials and SSH-signature grants, login challenges,
and the public keys that verify tokens."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import flask

from mec_platform.auth.model import LOGIN_NAMESPACE, AccessToken
from mec_platform.auth.service import SSH_GRANT, Authenticator
from mec_platform.errors import OAuthError
from mec_platform.http.responses import Response, ok

JwksSource = Callable[[], dict[str, Any]]


def token_post(body: dict[str, Any], *, authenticator: Authenticator) -> Response:
    """POST /token (RFC 6749 clauses 4.4 and 5)."""
    source = flask.request.remote_addr or "unknown"
    scope = body.get("scope")
    try:
        grant = _grant_type(body)
        if grant == "client_credentials":
            client_id, secret = _client_authentication(body)
        else:
            user, nonce, signature = (
                _field(body, name) for name in ("username", "challenge", "signature")
            )
    except OAuthError as exc:
        # Refused before the authenticator saw it (malformed): audited all the same.
        authenticator.record_refusal(exc, source)
        raise
    if grant == "client_credentials":
        token = authenticator.client_credentials(client_id, secret, scope, source)
    else:
        token = authenticator.ssh_login(user, nonce, signature, scope, source)
    return ok(_token_response(token))


def _grant_type(body: dict[str, Any]) -> str:
    grant = body.get("grant_type")
    if grant in ("client_credentials", SSH_GRANT):
        return str(grant)
    if not grant:
        raise OAuthError("grant_type: required", "invalid_request")
    raise OAuthError(f"grant_type: '{grant[:80]}' is not supported", "unsupported_grant_type")


def challenges_post(body: dict[str, Any], *, authenticator: Authenticator) -> Response:
    """POST /challenges: a nonce to sign with an SSH key."""
    source = flask.request.remote_addr or "unknown"
    challenge = authenticator.challenge(body["userName"], source)
    return ok(
        {
            "challenge": challenge.nonce,
            "namespace": LOGIN_NAMESPACE,
            "expiresIn": authenticator.challenge_ttl,
        },
        201,
    )


def jwks_get(*, jwks: JwksSource) -> Response:
    """GET /jwks: the public keys whose tokens are accepted."""
    return ok(jwks())


def _token_response(token: AccessToken) -> dict[str, Any]:
    return {
        "access_token": token.token,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "scope": " ".join(sorted(token.scopes)),
    }


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not value:
        raise OAuthError(f"{name}: required for this grant type", "invalid_request")
    return str(value)


def _client_authentication(body: dict[str, Any]) -> tuple[str, str]:
    """client_secret_basic (RFC 6749 clause 2.3.1) or client_secret_post, not both."""
    header = flask.request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        if body.get("client_secret"):
            raise OAuthError("client: authenticate with one method only", "invalid_request")
        return _basic(header[6:].strip())
    return _field(body, "client_id"), _field(body, "client_secret")


def _basic(encoded: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("Authorization: malformed Basic credentials", "invalid_client") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise OAuthError("Authorization: malformed Basic credentials", "invalid_client")
    # RFC 6749 clause 2.3.1: both parts are form-urlencoded before being joined.
    return unquote_plus(client_id), unquote_plus(secret)
