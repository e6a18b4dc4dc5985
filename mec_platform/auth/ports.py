"""Ports of authentication: identity repositories, token keys, SSH signatures, maintenance
access files and the audit log."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from mec_platform.auth.model import Client, LoginChallenge, Principal, Role, SshKey, User
from mec_platform.registry.ports import UnitOfWork


class UserRepository(Protocol):
    """People and their SSH keys."""

    def add(self, user: User) -> None: ...

    def get(self, name: str) -> User | None: ...

    def all(self) -> list[User]: ...

    def set_role(self, name: str, role: Role) -> None: ...

    def remove(self, name: str) -> None:
        """Remove the user with its keys and login challenges."""
        ...

    def add_key(self, name: str, key: SshKey) -> None: ...

    def remove_key(self, name: str, key_id: str) -> None: ...

    def owner_of_key(self, key_id: str) -> str | None:
        """The user holding a key (a key belongs to one user at most)."""
        ...

    def with_role(self, role: Role, *, for_update: bool = False) -> list[User]:
        """Users holding `role`; `for_update` locks their rows until the transaction ends."""
        ...

    def owned_instances(self, name: str) -> int:
        """How many application instances name this user as their owner."""
        ...


class ClientRepository(Protocol):
    """OAuth2 clients (one per app instance)."""

    def add(self, client: Client) -> None: ...

    def get(self, client_id: str) -> Client | None: ...

    def for_app(self, app_instance_id: str) -> Client | None: ...

    def replace_secret(self, client_id: str, secret_hash: str) -> None: ...

    def remove_for_app(self, app_instance_id: str) -> None: ...


class ChallengeRepository(Protocol):
    """Outstanding login challenges; taking one removes it, so a nonce works once."""

    def add(self, challenge: LoginChallenge) -> None: ...

    def take(self, nonce: str) -> LoginChallenge | None:
        """Remove and return the challenge (None if unknown or already used)."""
        ...

    def purge_expired(self, now: float) -> int: ...


class ClientsUnitOfWork(Protocol):
    """Any unit of work holding the client repository (Application Support's too)."""

    @property
    def clients(self) -> ClientRepository: ...


class AuthUnitOfWork(UnitOfWork, Protocol):
    """The registry's unit of work plus the identity repositories."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def clients(self) -> ClientRepository: ...

    @property
    def challenges(self) -> ChallengeRepository: ...


class TokenSigner(Protocol):
    """Signs access tokens with the install's current key."""

    def sign(self, claims: Mapping[str, object]) -> str: ...


class TokenVerifier(Protocol):
    """Checks an access token locally (signature, expiry, audience) and returns its identity."""

    def verify(self, token: str) -> Principal:
        """The principal, or raise Unauthorized saying what is wrong with the token."""
        ...


class SshSignatureVerifier(Protocol):
    """Checks an `ssh-keygen -Y sign` signature over a message."""

    def verify(self, armored: str, message: bytes, namespace: str) -> SshKey:
        """The key that made the signature, or raise Unauthorized."""
        ...


class MaintenanceAccess(Protocol):
    """Renders who may log in to the box's maintenance account(s) over SSH."""

    def render(self, read_keys: Callable[[], Sequence[tuple[str, SshKey]]]) -> None:
        """Make exactly the (user name, key) pairs `read_keys` returns the authorised keys.

        `read_keys` runs under a lock every platform process shares, so a rendering of an
        older state never lands after a newer one. Raises MaintenanceAccessUnavailable when
        the files cannot be written.
        """
        ...


class AuditLog(Protocol):
    """Append-only record of who did what, when, with what outcome; never a secret."""

    def record(self, who: str, action: str, outcome: str, **details: object) -> None: ...


class AuthUnitOfWorkFactory(Protocol):
    """Opens a unit of work over the identity repositories."""

    def __call__(self, *, write: bool = False) -> AuthUnitOfWork: ...
