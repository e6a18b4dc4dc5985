"""Use cases of authentication: the OAuth2 token endpoint (client credentials for app
instances, an SSH-signature grant for people) and the login challenges behind the latter.

Every refusal is recorded in the audit log with the reason and the caller's address, and
counted per address: after too many failures the address gets 429 until its window passes.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from mec_platform.appsupport.limits import SlidingWindowLimiter
from mec_platform.auth.credentials import UNKNOWN_CLIENT_HASH, secret_matches
from mec_platform.auth.model import (
    LOGIN_NAMESPACE,
    MAX_TOKEN_TTL,
    ROLE_SCOPES,
    AccessToken,
    LoginChallenge,
    Role,
    check_user_name,
    login_message,
)
from mec_platform.auth.ports import (
    AuditLog,
    AuthUnitOfWorkFactory,
    SshSignatureVerifier,
    TokenSigner,
)
from mec_platform.errors import (
    InvalidInput,
    NotFound,
    OAuthError,
    PlatformError,
    TooManyRequests,
)
from mec_platform.registry.ports import Clock

CLI_CLIENT = "mec-platform-cli"
SSH_GRANT = "urn:mec-platform:params:oauth:grant-type:ssh-signature"


@dataclass(frozen=True)
class TokenOptions:
    """Who issues tokens for whom, for how long, and how often one may ask."""

    issuer: str
    audience: str
    ttl: int = 900
    challenge_ttl: int = 60
    requests_per_window: int = 30
    failures_per_window: int = 10
    window: float = 60.0
    # Origins (auth.model.origin_of) a login signature may name: the platform's own.
    login_origins: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _check_lifetime("MEC_TOKEN_TTL", self.ttl)


def _check_lifetime(name: str, seconds: int) -> None:
    """No token lives less than a second or longer than MAX_TOKEN_TTL."""
    if not 0 < seconds <= MAX_TOKEN_TTL:
        raise InvalidInput(f"{name}: {seconds} is not between 1 and {MAX_TOKEN_TTL} seconds")


@dataclass(frozen=True)
class Identity:
    """Whom a token is issued to."""

    subject: str
    role: Role
    app_instance_id: str | None = None


class Authenticator:
    """Issues access tokens after checking client secrets or SSH signatures."""

    def __init__(
        self,
        uows: AuthUnitOfWorkFactory,
        signer: TokenSigner,
        signatures: SshSignatureVerifier,
        audit: AuditLog,
        clock: Clock,
        options: TokenOptions,
    ) -> None:
        self._uows = uows
        self._signer = signer
        self._signatures = signatures
        self._audit = audit
        self._clock = clock
        self._options = options
        self._requests = SlidingWindowLimiter(options.requests_per_window, options.window, clock)
        self._failures = SlidingWindowLimiter(options.failures_per_window, options.window, clock)

    @property
    def challenge_ttl(self) -> int:
        """Seconds a login challenge stays valid."""
        return self._options.challenge_ttl

    def client_credentials(
        self, client_id: str, client_secret: str, scope: str | None, source: str
    ) -> AccessToken:
        """RFC 6749 clause 4.4: a token for an app instance's client."""
        return self._guarded(
            f"client {client_id}",
            source,
            lambda: self._client_token(client_id, client_secret, scope),
        )

    def challenge(self, user_name: str, source: str) -> LoginChallenge:
        """A nonce for `user_name` to sign; issued for unknown names too (they learn nothing)."""
        check_user_name(user_name)
        who = f"user {user_name}"
        self._refuse_if_blocked(who, source)
        # Per address, not per name: asking for someone's challenges must not lock them out.
        self._limit(f"challenges from {source}", who, source)
        challenge = LoginChallenge(
            secrets.token_urlsafe(24), user_name, self._clock() + self._options.challenge_ttl
        )
        with self._uows(write=True) as uow:
            uow.challenges.purge_expired(self._clock())
            if uow.users.get(user_name) is not None:
                uow.challenges.add(challenge)
                uow.commit()
        return challenge

    def ssh_login(
        self, user_name: str, nonce: str, signature: str, scope: str | None, source: str
    ) -> AccessToken:
        """A token for a person who signed a fresh challenge with one of their SSH keys."""
        return self._guarded(
            f"user {user_name}", source, lambda: self._login(user_name, nonce, signature, scope)
        )

    def record_refusal(self, error: OAuthError, source: str) -> None:
        """Audit a token request refused before it named a client or user (malformed)."""
        self._audit.record("unknown caller", "token", "refused", reason=error.detail, source=source)

    def issue_for_user(self, user_name: str, ttl: int | None = None) -> AccessToken:
        """A token minted by the operator on the box (who can read the signing key anyway)."""
        if ttl is not None:
            _check_lifetime("ttl", ttl)
        with self._uows() as uow:
            user = uow.users.get(user_name)
        if user is None:
            raise NotFound(f"userName: no user '{user_name}'")
        token = self._issue(Identity(user.name, user.role), None, ttl)
        self._audit.record(f"user {user_name}", "token", "issued", grant="operator")
        return token

    # -- internals --------------------------------------------------------------------------
    def _guarded(self, who: str, source: str, attempt: Callable[[], AccessToken]) -> AccessToken:
        self._refuse_if_blocked(who, source)
        try:
            token = attempt()
        except PlatformError as exc:
            self._audit.record(who, "token", "refused", reason=exc.detail, source=source)
            # Failed proofs of identity count; an outage or a malformed request does not.
            if isinstance(exc, OAuthError) and exc.error in ("invalid_client", "invalid_grant"):
                self._count_failure(source)
            raise
        # Counted only once the caller proved who it is, so nobody can use up another's quota.
        self._limit(who, who, source)
        self._audit.record(who, "token", "issued", source=source, scope=" ".join(token.scopes))
        return token

    def _refuse_if_blocked(self, who: str, source: str) -> None:
        retry_after = self._failures.blocked(source)
        if retry_after is not None:
            self._audit.record(who, "token", "throttled", source=source)
            raise TooManyRequests(
                f"authentication: too many failed attempts from {source}; "
                f"retry after {retry_after} s",
                retry_after,
            )

    def _limit(self, key: str, who: str, source: str) -> None:
        try:
            self._requests.check(key, "token requests")
        except TooManyRequests:
            self._audit.record(who, "token", "throttled", source=source)
            raise

    def _count_failure(self, source: str) -> None:
        # A full window is not this request's error: the next one from there gets the 429.
        with contextlib.suppress(TooManyRequests):
            self._failures.check(source, "authentication")

    def _client_token(self, client_id: str, secret: str, scope: str | None) -> AccessToken:
        with self._uows() as uow:
            client = uow.clients.get(client_id)
        stored = client.secret_hash if client is not None else UNKNOWN_CLIENT_HASH
        if not secret_matches(secret, stored) or client is None:
            raise OAuthError("client authentication failed", "invalid_client")
        return self._issue(Identity(client.client_id, client.role, client.app_instance_id), scope)

    def _login(self, user_name: str, nonce: str, signature: str, scope: str | None) -> AccessToken:
        try:
            check_user_name(user_name)
        except InvalidInput as exc:
            raise OAuthError(exc.detail, "invalid_request") from None
        with self._uows(write=True) as uow:
            challenge = uow.challenges.take(nonce)
            uow.commit()
            user = uow.users.get(user_name)
        if challenge is None or challenge.user_name != user_name or user is None:
            raise OAuthError(
                "challenge: unknown, used already, or not for this user", "invalid_grant"
            )
        if challenge.expires_at <= self._clock():
            raise OAuthError("challenge: expired; ask for a new one", "invalid_grant")
        key = None
        failure = "signature: no address of this platform is configured to sign in through"
        for origin in sorted(self._options.login_origins):
            message = login_message(origin, user_name, nonce)
            try:
                key = self._signatures.verify(signature, message, LOGIN_NAMESPACE)
                break
            except PlatformError as exc:
                failure = exc.detail
        if key is None:
            addresses = ", ".join(sorted(self._options.login_origins))
            raise OAuthError(f"{failure} (signed logins name one of: {addresses})", "invalid_grant")
        if key.key_id not in {known.key_id for known in user.keys}:
            raise OAuthError(
                "signature: made with a key not registered for this user", "invalid_grant"
            )
        return self._issue(Identity(user.name, user.role), scope)

    def _issue(self, who: Identity, scope: str | None, ttl: int | None = None) -> AccessToken:
        allowed = ROLE_SCOPES[who.role]
        wanted = frozenset(scope.split()) if scope else allowed
        if not wanted <= allowed:
            unknown = " ".join(sorted(wanted - allowed))
            raise OAuthError(f"scope: not granted to {who.role.value}: {unknown}", "invalid_scope")
        now = int(self._clock())
        lifetime = ttl or self._options.ttl
        claims: dict[str, object] = {
            "iss": self._options.issuer,
            "aud": self._options.audience,
            "sub": who.subject,
            "role": who.role.value,
            "scope": " ".join(sorted(wanted)),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": secrets.token_hex(12),
            # RFC 9068: the client the token was issued to (people sign in with the CLI).
            "client_id": who.subject if who.role is Role.APP else CLI_CLIENT,
        }
        if who.app_instance_id is not None:
            claims["app_instance_id"] = who.app_instance_id
        return AccessToken(self._signer.sign(claims), lifetime, wanted)
