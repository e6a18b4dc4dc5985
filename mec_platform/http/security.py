"""Token checks for connexion: the `oauth2` scheme of our specs, verified in-process.

connexion calls the function built here for every operation whose spec declares the scheme,
with the scopes that operation requires. The bearer token is verified locally (signature,
expiry, audience; no network call), its scopes compared with the operation's, and the caller's
`Principal` left in the request context for the policy point and the handlers. Every refusal
is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from connexion.context import context
from connexion.lifecycle import ConnexionRequest

from mec_platform.auth.model import Principal, Role
from mec_platform.auth.ports import AuditLog, TokenVerifier
from mec_platform.errors import Forbidden, PlatformError, Unauthorized
from mec_platform.registry.model import PLATFORM, Actor

PRINCIPAL = "principal"


def client_address(scope: Any) -> str:
    """The peer's address as the ASGI server saw it."""
    client = scope.get("client") if hasattr(scope, "get") else None
    return str(client[0]) if client else "unknown"


def bearer_handler(verifier: TokenVerifier, audit: AuditLog) -> type:
    """A connexion security handler class for `type: oauth2` bound to our verifier."""

    class PlatformBearerToken:
        """Checks `Authorization: Bearer <JWT>` and the operation's scopes."""

        def get_fn(
            self, security_scheme: dict[str, Any], required_scopes: Iterable[str]
        ) -> Callable[[ConnexionRequest], dict[str, Any]]:
            required = frozenset(required_scopes or ())

            def verify(request: ConnexionRequest) -> dict[str, Any]:
                try:
                    principal = _authenticate(verifier, request.headers.get("authorization"))
                except Unauthorized as exc:
                    _refused(audit, request, _who(request), 401, exc)
                    raise
                try:
                    _require_scopes(principal, required)
                except Forbidden as exc:
                    _refused(audit, request, describe(principal), 403, exc)
                    raise
                return {"sub": principal.subject, PRINCIPAL: principal}

            return verify

    return PlatformBearerToken


def current_principal() -> Principal:
    """The caller of the request being handled (after the token check)."""
    token_info = context.get("token_info") or {}
    principal = token_info.get(PRINCIPAL)
    if not isinstance(principal, Principal):
        raise Unauthorized("no access token was checked for this request")
    return principal


def calling_actor() -> Actor:
    """The caller as an owner of application instances (the platform when auth is off)."""
    token_info = context.get("token_info") or {}
    principal = token_info.get(PRINCIPAL)
    if not isinstance(principal, Principal):
        return PLATFORM
    if principal.role is Role.APP:
        return Actor(app_instance_id=principal.app_instance_id)
    if principal.role is Role.PROVIDER:
        return Actor(provider=principal.subject)
    return PLATFORM


def principal_of(scope: Any) -> Principal | None:
    """The principal connexion's security step left in an ASGI scope, if any."""
    extensions = scope.get("extensions") or {}
    token_info = (extensions.get("connexion_context") or {}).get("token_info") or {}
    principal = token_info.get(PRINCIPAL)
    return principal if isinstance(principal, Principal) else None


def _authenticate(verifier: TokenVerifier, header: str | None) -> Principal:
    if not header:
        raise Unauthorized("no access token: send 'Authorization: Bearer <token>'")
    kind, _, token = header.strip().partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization: expected 'Bearer <token>'")
    return verifier.verify(token.strip())


def _require_scopes(principal: Principal, required: frozenset[str]) -> None:
    missing = required - principal.scopes
    if missing:
        raise Forbidden(f"token: lacks the scope {' '.join(sorted(missing))} this operation needs")


def describe(principal: Principal) -> str:
    """How the audit log names a caller."""
    return f"{principal.role.value} {principal.subject}"


def _refused(
    audit: AuditLog, request: ConnexionRequest, who: str, status: int, exc: PlatformError
) -> None:
    audit.record(
        who,
        f"{request.method} {request.url.path}",
        f"refused {status}",
        reason=exc.detail,
        source=client_address(request.scope),
    )


def _who(request: ConnexionRequest) -> str:
    # The token is not trusted here; name the caller only by what it claims to be, if anything.
    return "anonymous" if not request.headers.get("authorization") else "unverified bearer"
