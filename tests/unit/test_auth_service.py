"""Unit tests of the Authenticator (OAuth2 token endpoint, SSH login challenges, rate limits,
audit) on the in-memory fakes, with a token signer whose tokens are the claims as JSON."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from mec_platform.auth.credentials import hash_secret
from mec_platform.auth.model import (
    APP_SUPPORT_READ,
    LOGIN_NAMESPACE,
    ROLE_SCOPES,
    SERVICE_MGMT_READ,
    USERS,
    AccessToken,
    Client,
    Role,
    SshKey,
    User,
    login_message,
)
from mec_platform.auth.service import Authenticator, TokenOptions
from mec_platform.errors import InvalidInput, NotFound, OAuthError, TooManyRequests, Unauthorized
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory

ISSUER = "https://mec.test"
AUDIENCE = "mec-platform-test"
SOURCE = "192.0.2.10"
ORIGIN = "https://mec.test:443"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_key() -> SshKey:
    return SshKey("ssh-ed25519", uuid.uuid4().bytes * 2, uid("key"))


class JsonSigner:
    """A token is the claims as JSON, so tests can read what would be signed."""

    def sign(self, claims: Mapping[str, object]) -> str:
        return json.dumps(claims)


@dataclass
class FakeSignatures:
    """Accepts a signature text it was told about and names the key that made it."""

    known: dict[str, SshKey] = field(default_factory=dict)
    calls: list[tuple[str, bytes, str]] = field(default_factory=list)

    def verify(self, armored: str, message: bytes, namespace: str) -> SshKey:
        self.calls.append((armored, message, namespace))
        key = self.known.get(armored)
        if key is None:
            raise Unauthorized("signature: does not verify")
        return key


@dataclass(frozen=True)
class Record:
    """One audit record."""

    who: str
    action: str
    outcome: str
    details: dict[str, object]

    def texts(self) -> list[str]:
        return [self.who, self.action, self.outcome, *(str(v) for v in self.details.values())]


@dataclass
class ListAudit:
    records: list[Record] = field(default_factory=list)

    def record(self, who: str, action: str, outcome: str, **details: object) -> None:
        self.records.append(Record(who, action, outcome, dict(details)))

    def outcomes(self) -> list[str]:
        return [record.outcome for record in self.records]


@dataclass
class Env:
    uows: InMemoryUnitOfWorkFactory
    clock: FakeClock
    signatures: FakeSignatures
    audit: ListAudit
    auth: Authenticator

    def client(self, role: Role = Role.APP) -> tuple[str, str]:
        """A stored app-instance client: (client id, secret)."""
        client_id, secret = uid("app"), uid("secret")
        client = Client(client_id, hash_secret(secret), role, self.clock(), client_id)
        with self.uows(write=True) as uow:
            uow.clients.add(client)
            uow.commit()
        return client_id, secret

    def user(self, role: Role = Role.PROVIDER, keys: int = 1) -> User:
        user = User(uid("user"), role, self.clock(), tuple(new_key() for _ in range(keys)))
        with self.uows(write=True) as uow:
            uow.users.add(user)
            uow.commit()
        return user

    def signature_by(self, key: SshKey) -> str:
        """A signature text the fake verifier attributes to `key`."""
        text = uid("-----BEGIN SSH SIGNATURE-----")
        self.signatures.known[text] = key
        return text


def make_env(**options: Any) -> Env:
    uows, clock = InMemoryUnitOfWorkFactory(), FakeClock()
    signatures, audit = FakeSignatures(), ListAudit()
    options.setdefault("login_origins", frozenset({ORIGIN}))
    settings = TokenOptions(issuer=ISSUER, audience=AUDIENCE, **options)
    auth = Authenticator(uows, JsonSigner(), signatures, audit, clock, settings)
    return Env(uows, clock, signatures, audit, auth)


@pytest.fixture
def env() -> Env:
    return make_env()


def claims(token: AccessToken) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(token.token)
    return decoded


def login(env: Env, user: User, scope: str | None = None, source: str = SOURCE) -> AccessToken:
    """A full SSH login with the user's first key."""
    nonce = env.auth.challenge(user.name, source).nonce
    return env.auth.ssh_login(user.name, nonce, env.signature_by(user.keys[0]), scope, source)


def refused(error: type[Exception], action: Any) -> Any:
    with pytest.raises(error) as raised:
        action()
    return raised.value


# -- client credentials ---------------------------------------------------------------------
def test_client_credentials_issue_a_token_for_the_app_instance(env: Env) -> None:
    client_id, secret = env.client()
    token = env.auth.client_credentials(client_id, secret, None, SOURCE)
    now = int(env.clock())
    assert token.expires_in == 900
    assert token.scopes == ROLE_SCOPES[Role.APP]
    body = claims(token)
    assert {k: v for k, v in body.items() if k != "jti"} == {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": client_id,
        "role": "app-instance",
        "app_instance_id": client_id,
        "client_id": client_id,
        "scope": " ".join(sorted(ROLE_SCOPES[Role.APP])),
        "iat": now,
        "nbf": now,
        "exp": now + 900,
    }
    assert env.audit.records[-1].outcome == "issued"


def test_every_token_has_its_own_id(env: Env) -> None:
    client_id, secret = env.client()
    ids = {
        claims(env.auth.client_credentials(client_id, secret, None, SOURCE))["jti"] for _ in "abcde"
    }
    assert len(ids) == 5 and all(isinstance(jti, str) and len(jti) >= 16 for jti in ids)


def test_ttl_comes_from_the_options() -> None:
    env = make_env(ttl=120)
    client_id, secret = env.client()
    token = env.auth.client_credentials(client_id, secret, None, SOURCE)
    assert token.expires_in == 120 and claims(token)["exp"] == int(env.clock()) + 120


def test_wrong_secret_and_unknown_client_are_refused_alike(env: Env) -> None:
    client_id, _ = env.client()
    wrong = refused(OAuthError, lambda: env.auth.client_credentials(client_id, "x", None, SOURCE))
    unknown = refused(
        OAuthError, lambda: env.auth.client_credentials(uid("app"), "x", None, SOURCE)
    )
    assert wrong.error == unknown.error == "invalid_client"
    assert wrong.detail == unknown.detail == "client authentication failed"
    assert env.audit.outcomes() == ["refused", "refused"]


def test_an_unknown_client_with_an_empty_secret_is_refused(env: Env) -> None:
    error = refused(OAuthError, lambda: env.auth.client_credentials(uid("app"), "", None, SOURCE))
    assert error.error == "invalid_client"


def test_a_client_may_ask_for_fewer_scopes(env: Env) -> None:
    client_id, secret = env.client()
    wanted = f"{SERVICE_MGMT_READ} {APP_SUPPORT_READ}"
    token = env.auth.client_credentials(client_id, secret, wanted, SOURCE)
    assert token.scopes == {SERVICE_MGMT_READ, APP_SUPPORT_READ}
    assert claims(token)["scope"] == " ".join(sorted([SERVICE_MGMT_READ, APP_SUPPORT_READ]))


@pytest.mark.parametrize("scope", [USERS, f"{SERVICE_MGMT_READ} made:up"])
def test_a_scope_beyond_the_role_is_invalid_scope(env: Env, scope: str) -> None:
    client_id, secret = env.client()
    error = refused(
        OAuthError, lambda: env.auth.client_credentials(client_id, secret, scope, SOURCE)
    )
    assert error.error == "invalid_scope"
    assert error.detail.startswith("scope: not granted to app-instance: ")
    assert SERVICE_MGMT_READ not in error.detail


# -- SSH login ------------------------------------------------------------------------------
def test_ssh_login_issues_a_token_for_the_person(env: Env) -> None:
    user = env.user(Role.VIEWER)
    challenge = env.auth.challenge(user.name, SOURCE)
    assert challenge.user_name == user.name
    assert challenge.expires_at == env.clock() + env.auth.challenge_ttl
    signature = env.signature_by(user.keys[0])
    token = env.auth.ssh_login(user.name, challenge.nonce, signature, None, SOURCE)
    body = claims(token)
    assert body["sub"] == user.name and body["role"] == "viewer"
    assert "app_instance_id" not in body
    assert body["scope"] == " ".join(sorted(ROLE_SCOPES[Role.VIEWER]))
    message = login_message(ORIGIN, user.name, challenge.nonce)
    assert env.signatures.calls == [(signature, message, LOGIN_NAMESPACE)]
    assert body["client_id"] == "mec-platform-cli"


def test_any_registered_key_of_the_user_signs_in(env: Env) -> None:
    user = env.user(Role.ADMIN, keys=2)
    nonce = env.auth.challenge(user.name, SOURCE).nonce
    token = env.auth.ssh_login(user.name, nonce, env.signature_by(user.keys[1]), USERS, SOURCE)
    assert claims(token)["role"] == "platform-admin" and token.scopes == {USERS}


def test_a_challenge_works_once(env: Env) -> None:
    user = env.user()
    nonce = env.auth.challenge(user.name, SOURCE).nonce
    signature = env.signature_by(user.keys[0])
    env.auth.ssh_login(user.name, nonce, signature, None, SOURCE)
    replay = refused(
        OAuthError, lambda: env.auth.ssh_login(user.name, nonce, signature, None, SOURCE)
    )
    assert replay.error == "invalid_grant"
    assert env.uows.store.challenges == {}


def test_a_challenge_of_another_user_is_refused(env: Env) -> None:
    victim, intruder = env.user(), env.user()
    nonce = env.auth.challenge(victim.name, SOURCE).nonce
    signature = env.signature_by(intruder.keys[0])
    error = refused(
        OAuthError, lambda: env.auth.ssh_login(intruder.name, nonce, signature, None, SOURCE)
    )
    assert error.error == "invalid_grant"
    assert env.signatures.calls == []  # refused before any signature is looked at


def test_an_expired_challenge_is_refused(env: Env) -> None:
    user = env.user()
    nonce = env.auth.challenge(user.name, SOURCE).nonce
    env.clock.advance(env.auth.challenge_ttl + 1)
    signature = env.signature_by(user.keys[0])
    error = refused(
        OAuthError, lambda: env.auth.ssh_login(user.name, nonce, signature, None, SOURCE)
    )
    assert error.error == "invalid_grant" and "expired" in error.detail


def test_a_signature_that_does_not_verify_is_invalid_grant(env: Env) -> None:
    user = env.user()
    nonce = env.auth.challenge(user.name, SOURCE).nonce
    error = refused(
        OAuthError, lambda: env.auth.ssh_login(user.name, nonce, "garbage", None, SOURCE)
    )
    assert error.error == "invalid_grant"
    assert error.detail.startswith("signature: does not verify (signed logins name one of: ")


@pytest.mark.parametrize("whose", ["nobody's", "another user's"])
def test_a_key_not_registered_for_the_user_is_refused(env: Env, whose: str) -> None:
    user, other = env.user(), env.user()
    key = new_key() if whose == "nobody's" else other.keys[0]
    nonce = env.auth.challenge(user.name, SOURCE).nonce
    signature = env.signature_by(key)
    error = refused(
        OAuthError, lambda: env.auth.ssh_login(user.name, nonce, signature, None, SOURCE)
    )
    assert error.error == "invalid_grant" and "not registered for this user" in error.detail


def test_an_unknown_user_gets_a_challenge_that_is_not_stored(env: Env) -> None:
    name = uid("nobody")
    challenge = env.auth.challenge(name, SOURCE)
    assert challenge.user_name == name and challenge.nonce
    assert env.uows.store.challenges == {}
    key = new_key()
    error = refused(
        OAuthError,
        lambda: env.auth.ssh_login(name, challenge.nonce, env.signature_by(key), None, SOURCE),
    )
    assert error.error == "invalid_grant"


def test_challenges_are_fresh_and_expired_ones_are_purged(env: Env) -> None:
    user = env.user()
    first = env.auth.challenge(user.name, SOURCE)
    env.clock.advance(env.auth.challenge_ttl + 1)
    second = env.auth.challenge(user.name, SOURCE)
    assert first.nonce != second.nonce
    assert list(env.uows.store.challenges) == [second.nonce]


def test_a_viewer_may_not_ask_for_write_scopes(env: Env) -> None:
    user = env.user(Role.VIEWER)
    error = refused(OAuthError, lambda: login(env, user, scope="mec011:service-mgmt"))
    assert error.error == "invalid_scope"


# -- operator tokens ------------------------------------------------------------------------
def test_issue_for_user_mints_a_token_with_the_users_role(env: Env) -> None:
    user = env.user(Role.ADMIN)
    token = env.auth.issue_for_user(user.name, ttl=60)
    body = claims(token)
    assert body["sub"] == user.name and body["role"] == "platform-admin"
    assert body["exp"] == int(env.clock()) + 60 and token.expires_in == 60
    assert env.audit.records[-1] == Record(
        f"user {user.name}", "token", "issued", {"grant": "operator"}
    )


def test_issue_for_an_unknown_user_is_not_found(env: Env) -> None:
    name = uid("nobody")
    error = refused(NotFound, lambda: env.auth.issue_for_user(name))
    assert name in error.detail
    assert env.audit.records == []


# -- rate limits ----------------------------------------------------------------------------
def test_too_many_failures_from_one_source_block_it_until_the_window_passes() -> None:
    env = make_env(failures_per_window=3, window=60.0)
    client_id, secret = env.client()
    for _ in range(3):
        refused(OAuthError, lambda: env.auth.client_credentials(client_id, "bad", None, SOURCE))
    blocked = refused(
        TooManyRequests, lambda: env.auth.client_credentials(client_id, secret, None, SOURCE)
    )
    assert blocked.retry_after == 60
    env.clock.advance(45)
    later = refused(
        TooManyRequests, lambda: env.auth.client_credentials(client_id, secret, None, SOURCE)
    )
    assert later.retry_after == 15
    # Another address is not affected, and a login from the blocked one is refused too.
    assert env.auth.client_credentials(client_id, secret, None, "192.0.2.99").token
    user = env.user()
    refused(TooManyRequests, lambda: env.auth.challenge(user.name, SOURCE))
    env.clock.advance(15)
    assert env.auth.client_credentials(client_id, secret, None, SOURCE).token


def test_throttled_attempts_do_not_extend_the_block() -> None:
    env = make_env(failures_per_window=2, window=10.0)
    client_id, secret = env.client()
    for _ in range(2):
        refused(OAuthError, lambda: env.auth.client_credentials(client_id, "bad", None, SOURCE))
    for _ in range(5):
        env.clock.advance(1)
        refused(
            TooManyRequests, lambda: env.auth.client_credentials(client_id, "bad", None, SOURCE)
        )
    env.clock.advance(5)
    assert env.auth.client_credentials(client_id, secret, None, SOURCE).token
    assert env.audit.outcomes() == ["refused"] * 2 + ["throttled"] * 5 + ["issued"]


def test_requests_per_window_are_limited_per_client() -> None:
    env = make_env(requests_per_window=2, window=30.0)
    client_id, secret = env.client()
    other_id, other_secret = env.client()
    for _ in range(2):
        env.auth.client_credentials(client_id, secret, None, SOURCE)
    error = refused(
        TooManyRequests, lambda: env.auth.client_credentials(client_id, secret, None, SOURCE)
    )
    assert error.retry_after == 30
    assert env.auth.client_credentials(other_id, other_secret, None, SOURCE).token
    env.clock.advance(30)
    assert env.auth.client_credentials(client_id, secret, None, SOURCE).token


# -- audit ----------------------------------------------------------------------------------
def test_audit_never_records_a_secret_or_a_signature() -> None:
    env = make_env(failures_per_window=4)
    client_id, secret = env.client()
    user = env.user()
    env.auth.client_credentials(client_id, secret, None, SOURCE)
    refused(OAuthError, lambda: env.auth.client_credentials(client_id, secret + "x", None, SOURCE))
    nonce = env.auth.challenge(user.name, SOURCE).nonce
    good = env.signature_by(user.keys[0])
    bad = uid("-----BEGIN SSH SIGNATURE----- forged")
    refused(OAuthError, lambda: env.auth.ssh_login(user.name, nonce, bad, None, SOURCE))
    nonce = env.auth.challenge(user.name, SOURCE).nonce
    env.auth.ssh_login(user.name, nonce, good, None, SOURCE)
    refused(OAuthError, lambda: env.auth.ssh_login(user.name, nonce, good, None, SOURCE))
    refused(OAuthError, lambda: env.auth.client_credentials(uid("app"), secret, None, SOURCE))
    refused(TooManyRequests, lambda: env.auth.client_credentials(client_id, secret, None, SOURCE))
    expected = ["issued", "refused", "refused", "issued", "refused", "refused", "throttled"]
    assert env.audit.outcomes() == expected
    for record in env.audit.records:
        assert record.details.get("source") == SOURCE
        for text in record.texts():
            assert secret not in text and good not in text and bad not in text


def test_refusals_say_why_and_from_where(env: Env) -> None:
    client_id, _ = env.client()
    refused(OAuthError, lambda: env.auth.client_credentials(client_id, "bad", None, SOURCE))
    assert env.audit.records == [
        Record(
            f"client {client_id}",
            "token",
            "refused",
            {"reason": "client authentication failed", "source": SOURCE},
        )
    ]


# -- limits that must not become a lever against others -------------------------------------
def test_challenges_asked_by_someone_else_do_not_lock_a_user_out() -> None:
    env = make_env(requests_per_window=3)
    victim = env.user()
    for _ in range(3):
        env.auth.challenge(victim.name, "198.51.100.66")
    assert login(env, victim, source=SOURCE).token


def test_a_refusal_by_the_request_limit_is_audited() -> None:
    env = make_env(requests_per_window=1)
    client_id, secret = env.client()
    env.auth.client_credentials(client_id, secret, None, SOURCE)
    refused(TooManyRequests, lambda: env.auth.client_credentials(client_id, secret, None, SOURCE))
    assert env.audit.outcomes() == ["issued", "throttled"]


# -- review fixes ---------------------------------------------------------------------------
@dataclass
class OnlyFor:
    """A verifier accepting one signature text over one exact message."""

    signature: str
    message: bytes
    key: SshKey

    def verify(self, armored: str, message: bytes, namespace: str) -> SshKey:
        if armored != self.signature or message != self.message or namespace != LOGIN_NAMESPACE:
            raise Unauthorized("signature: does not verify")
        return self.key


def test_a_signature_naming_another_platform_is_refused() -> None:
    env = make_env(login_origins=frozenset({ORIGIN, "http://box.local:8080"}))
    user = env.user(Role.ADMIN)
    nonce = env.auth.challenge(user.name, SOURCE).nonce
    # Signed for a relaying platform with this platform's nonce: worth nothing here.
    relayed = OnlyFor("sig", login_message("https://evil.test:443", user.name, nonce), user.keys[0])
    auth = Authenticator(env.uows, JsonSigner(), relayed, env.audit, env.clock, env.auth._options)
    error = refused(OAuthError, lambda: auth.ssh_login(user.name, nonce, "sig", None, SOURCE))
    assert error.error == "invalid_grant"
    assert "http://box.local:8080" in error.detail and ORIGIN in error.detail
    # The same nonce signed for one of this platform's own addresses signs in.
    nonce = env.auth.challenge(user.name, SOURCE).nonce
    own = OnlyFor("sig", login_message("http://box.local:8080", user.name, nonce), user.keys[0])
    auth = Authenticator(env.uows, JsonSigner(), own, env.audit, env.clock, env.auth._options)
    assert auth.ssh_login(user.name, nonce, "sig", None, SOURCE).token


def test_a_signature_for_another_user_name_is_refused(env: Env) -> None:
    user = env.user(Role.ADMIN)
    nonce = env.auth.challenge(user.name, SOURCE).nonce
    other = OnlyFor("sig", login_message(ORIGIN, "someone-else", nonce), user.keys[0])
    auth = Authenticator(env.uows, JsonSigner(), other, env.audit, env.clock, env.auth._options)
    refused(OAuthError, lambda: auth.ssh_login(user.name, nonce, "sig", None, SOURCE))


@pytest.mark.parametrize("name", ["\ud800", "../etc", "UPPER", "x" * 65, ""])
def test_invalid_user_names_are_bad_input_not_errors(env: Env, name: str) -> None:
    refused(InvalidInput, lambda: env.auth.challenge(name, SOURCE))
    error = refused(OAuthError, lambda: env.auth.ssh_login(name, "n" * 32, "sig", None, SOURCE))
    assert error.error == "invalid_request"


def test_only_failed_proofs_of_identity_count_towards_the_failure_limit() -> None:
    env = make_env(failures_per_window=2)
    client_id, secret = env.client()
    for _ in range(3):
        # Asking for scopes beyond the role is refused, but proves the caller knew the secret.
        error = refused(
            OAuthError,
            lambda: env.auth.client_credentials(client_id, secret, "platform:users", SOURCE),
        )
        assert error.error == "invalid_scope"
    assert env.auth.client_credentials(client_id, secret, None, SOURCE).token


@pytest.mark.parametrize("ttl", [0, -5, 86_401])
def test_operator_tokens_live_between_a_second_and_a_day(env: Env, ttl: int) -> None:
    user = env.user(Role.ADMIN)
    refused(InvalidInput, lambda: env.auth.issue_for_user(user.name, ttl))


def test_token_lifetime_setting_is_bounded() -> None:
    refused(InvalidInput, lambda: TokenOptions(issuer=ISSUER, audience=AUDIENCE, ttl=86_401))
    refused(InvalidInput, lambda: TokenOptions(issuer=ISSUER, audience=AUDIENCE, ttl=0))


def test_a_malformed_token_request_is_audited(env: Env) -> None:
    env.auth.record_refusal(OAuthError("grant_type: required", "invalid_request"), SOURCE)
    assert env.audit.records == [
        Record(
            "unknown caller",
            "token",
            "refused",
            {"reason": "grant_type: required", "source": SOURCE},
        )
    ]
