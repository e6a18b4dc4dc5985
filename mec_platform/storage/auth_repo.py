"""SQLAlchemy repositories of authentication: users with their SSH keys, the OAuth2 clients of
app instances, and single-use login challenges."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mec_platform.auth.model import Client, LoginChallenge, Role, SshKey, User
from mec_platform.errors import Conflict, NotFound
from mec_platform.storage.tables import (
    app_instances,
    login_challenges,
    oauth_clients,
    ssh_keys,
    users,
)

KEY_TAKEN = "sshKey: this key is registered already"
CLIENT_TAKEN = "client: the app instance has OAuth2 client credentials already"


def _key_of(row: Row[Any]) -> SshKey:
    return SshKey(key_type=row.key_type, blob=bytes(row.blob), comment=row.comment)


class SqlUserRepository:
    """People in `users`, their SSH keys in `ssh_keys`."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, user: User) -> None:
        if self._exists(user.name):
            raise Conflict(f"userName: a user named '{user.name}' exists already")
        try:
            self._conn.execute(
                insert(users).values(
                    name=user.name, role=user.role.value, created_at=user.created_at
                )
            )
        except IntegrityError as exc:  # added by a concurrent transaction since the check
            raise Conflict(f"userName: a user named '{user.name}' exists already") from exc
        for key in user.keys:
            self.add_key(user.name, key)

    def get(self, name: str) -> User | None:
        found = self._load(users.c.name == name)
        return found[0] if found else None

    # `list` names a method of this class, so the type is spelled `builtins.list` inside it.
    def all(self) -> builtins.list[User]:
        return self._load(None)

    def with_role(self, role: Role, *, for_update: bool = False) -> builtins.list[User]:
        """Users holding `role`; `for_update` locks their rows (SELECT ... FOR UPDATE).

        On PostgreSQL a concurrent transaction that changed a locked row is waited for, and
        the row is checked again once it commits, so a user demoted meanwhile drops out.
        SQLite has no row locks and ignores it; its writers run one at a time anyway.
        """
        return self._load(users.c.role == role.value, for_update=for_update)

    def owned_instances(self, name: str) -> int:
        # app_instances.owner names the user without a foreign key (an instance may have none).
        query = select(func.count()).select_from(app_instances).where(app_instances.c.owner == name)
        return int(self._conn.execute(query).scalar_one())

    def set_role(self, name: str, role: Role) -> None:
        self._conn.execute(update(users).where(users.c.name == name).values(role=role.value))

    def remove(self, name: str) -> None:
        """Remove the user with its keys and login challenges."""
        for table in (ssh_keys, login_challenges):
            self._conn.execute(delete(table).where(table.c.user_name == name))
        self._conn.execute(delete(users).where(users.c.name == name))

    def add_key(self, name: str, key: SshKey) -> None:
        if not self._exists(name):
            raise NotFound(f"user '{name}' does not exist")
        if self.owner_of_key(key.key_id) is not None:
            raise Conflict(KEY_TAKEN)
        try:
            self._conn.execute(insert(ssh_keys).values(**self._key_values(name, key)))
        except IntegrityError as exc:  # the same key added concurrently
            raise Conflict(KEY_TAKEN) from exc

    def remove_key(self, name: str, key_id: str) -> None:
        self._conn.execute(
            delete(ssh_keys).where(ssh_keys.c.user_name == name, ssh_keys.c.key_id == key_id)
        )

    def owner_of_key(self, key_id: str) -> str | None:
        query = select(ssh_keys.c.user_name).where(ssh_keys.c.key_id == key_id)
        owner: str | None = self._conn.execute(query).scalar()
        return owner

    def _exists(self, name: str) -> bool:
        query = select(users.c.name).where(users.c.name == name)
        return self._conn.execute(query).first() is not None

    def _key_values(self, name: str, key: SshKey) -> dict[str, Any]:
        last = select(func.max(ssh_keys.c.position)).where(ssh_keys.c.user_name == name)
        position = int(self._conn.execute(last).scalar() or 0) + 1
        return {
            "key_id": key.key_id,
            "user_name": name,
            "key_type": key.key_type,
            "blob": key.blob,
            "comment": key.comment,
            "added_at": self._now,
            "position": position,
        }

    def _load(
        self, condition: ColumnElement[bool] | None, *, for_update: bool = False
    ) -> builtins.list[User]:
        """Users matching `condition` (all when None) with their keys, two queries in all."""
        query = select(users).order_by(users.c.created_at, users.c.name)
        if condition is not None:
            query = query.where(condition)
        if for_update:  # locked in one order, so two lockers cannot deadlock
            query = query.with_for_update()
        rows = self._conn.execute(query).all()
        keys = self._keys_of(row.name for row in rows)
        return [
            User(row.name, Role(row.role), row.created_at, tuple(keys.get(row.name, ())))
            for row in rows
        ]

    def _keys_of(self, names: Iterable[str]) -> dict[str, builtins.list[SshKey]]:
        wanted = list(names)
        if not wanted:
            return {}
        k = ssh_keys.c
        query = (
            select(ssh_keys)
            .where(k.user_name.in_(wanted))
            .order_by(k.user_name, k.added_at, k.position, k.key_id)
        )
        keys: dict[str, builtins.list[SshKey]] = {}
        for row in self._conn.execute(query):
            keys.setdefault(row.user_name, []).append(_key_of(row))
        return keys


def _client_of(row: Row[Any]) -> Client:
    return Client(
        client_id=row.client_id,
        secret_hash=row.secret_hash,
        role=Role(row.role),
        created_at=row.created_at,
        app_instance_id=row.app_instance_id,
    )


class SqlClientRepository:
    """OAuth2 clients in `oauth_clients`, at most one per app instance."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, client: Client) -> None:
        app = client.app_instance_id
        if self.get(client.client_id) is not None:
            raise Conflict("client: this client id is taken already")
        if app is not None and self.for_app(app) is not None:
            raise Conflict(CLIENT_TAKEN)
        try:
            self._conn.execute(insert(oauth_clients).values(**self._values(client)))
        except IntegrityError as exc:  # created by a concurrent transaction since the checks
            raise Conflict(CLIENT_TAKEN) from exc

    def get(self, client_id: str) -> Client | None:
        return self._first(oauth_clients.c.client_id == client_id)

    def for_app(self, app_instance_id: str) -> Client | None:
        return self._first(oauth_clients.c.app_instance_id == app_instance_id)

    def replace_secret(self, client_id: str, secret_hash: str) -> None:
        self._conn.execute(
            update(oauth_clients)
            .where(oauth_clients.c.client_id == client_id)
            .values(secret_hash=secret_hash)
        )

    def remove_for_app(self, app_instance_id: str) -> None:
        self._conn.execute(
            delete(oauth_clients).where(oauth_clients.c.app_instance_id == app_instance_id)
        )

    def _first(self, condition: ColumnElement[bool]) -> Client | None:
        row = self._conn.execute(select(oauth_clients).where(condition)).first()
        return _client_of(row) if row else None

    @staticmethod
    def _values(client: Client) -> dict[str, Any]:
        return {
            "client_id": client.client_id,
            "secret_hash": client.secret_hash,
            "role": client.role.value,
            "app_instance_id": client.app_instance_id,
            "created_at": client.created_at,
        }


class SqlChallengeRepository:
    """Outstanding login challenges in `login_challenges`; taking one deletes it."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, challenge: LoginChallenge) -> None:
        self._conn.execute(
            insert(login_challenges).values(
                nonce=challenge.nonce,
                user_name=challenge.user_name,
                expires_at=challenge.expires_at,
            )
        )

    def take(self, nonce: str) -> LoginChallenge | None:
        """Remove and return the challenge (None if unknown or already used)."""
        # One statement that deletes and returns: of two concurrent takers on PostgreSQL the
        # second waits for the first's row lock and then finds nothing to delete.
        t = login_challenges
        statement = (
            delete(t).where(t.c.nonce == nonce).returning(t.c.nonce, t.c.user_name, t.c.expires_at)
        )
        row = self._conn.execute(statement).first()
        return LoginChallenge(row.nonce, row.user_name, row.expires_at) if row else None

    def purge_expired(self, now: float) -> int:
        t = login_challenges
        return int(self._conn.execute(delete(t).where(t.c.expires_at <= now)).rowcount)
