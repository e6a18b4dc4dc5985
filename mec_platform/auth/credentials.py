"""OAuth2 client credentials of application instances: created with the instance, shown once,
stored as a hash, replaceable when lost."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from mec_platform.auth.model import Client, IssuedCredentials, Role
from mec_platform.auth.ports import AuthUnitOfWorkFactory, ClientsUnitOfWork
from mec_platform.errors import NotFound
from mec_platform.registry.ports import Clock

_PREFIX = "sha256:"


def new_secret() -> str:
    """A client secret: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The stored form of a secret.

    A plain SHA-256 suffices because secrets are 256 random bits chosen by the platform:
    there is no dictionary to guess from, so a slow password hash would only cost time.
    """
    return _PREFIX + hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored: str) -> bool:
    """Compare in constant time."""
    return hmac.compare_digest(hash_secret(secret), stored)


# A hash no secret has, compared against when the client is unknown, so the time taken does
# not tell whether a client id exists.
UNKNOWN_CLIENT_HASH = hash_secret("")


class AppCredentials:
    """Creates and replaces the client credentials of application instances."""

    def __init__(self, uows: AuthUnitOfWorkFactory, clock: Clock) -> None:
        self._uows = uows
        self._clock = clock

    def create(self, uow: ClientsUnitOfWork, app_instance_id: str) -> IssuedCredentials:
        """Credentials for a new instance, inside the caller's transaction; client id = its id."""
        secret = new_secret()
        uow.clients.add(
            Client(
                client_id=app_instance_id,
                secret_hash=hash_secret(secret),
                role=Role.APP,
                created_at=self._clock(),
                app_instance_id=app_instance_id,
            )
        )
        return IssuedCredentials(app_instance_id, secret)

    def replace(self, app_instance_id: str) -> IssuedCredentials:
        """New secret for an instance (the old one stops working); created if it had none."""
        with self._uows(write=True) as uow:
            if uow.apps.get_for_update(app_instance_id) is None:
                raise NotFound(f"appInstanceId: no application instance '{app_instance_id}'")
            client = uow.clients.for_app(app_instance_id)
            if client is None:
                issued = self.create(uow, app_instance_id)
            else:
                issued = IssuedCredentials(client.client_id, new_secret())
                uow.clients.replace_secret(client.client_id, hash_secret(issued.client_secret))
            uow.commit()
        return issued
