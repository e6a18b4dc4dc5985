"""Use cases of people: users, their roles and SSH keys, and the maintenance access they give.

Platform admins' keys open the box's maintenance account(s) over SSH: after every change the
authorised keys are rendered again from the database, so removing a key (or a user, or an
admin's role) revokes the sign-in and the shell at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mec_platform.auth.model import Role, SshKey, User, check_user_name
from mec_platform.auth.ports import AuthUnitOfWork, AuthUnitOfWorkFactory, MaintenanceAccess
from mec_platform.errors import Conflict, NotFound
from mec_platform.registry.ports import Clock

log = logging.getLogger("mec_platform.auth")


class Users:
    """Add, change and remove people; keep maintenance access in step."""

    def __init__(
        self, uows: AuthUnitOfWorkFactory, maintenance: MaintenanceAccess, clock: Clock
    ) -> None:
        self._uows = uows
        self._maintenance = maintenance
        self._clock = clock

    def add(self, name: str, role: Role, keys: Sequence[SshKey] = ()) -> User:
        """Create a user with its first keys."""
        user = User(check_user_name(name), role, self._clock())
        with self._uows(write=True) as uow:
            if uow.users.get(name) is not None:
                raise Conflict(f"userName: '{name}' exists already")
            uow.users.add(user)
            for key in keys:
                uow.users.add_key(name, key)
            uow.commit()
        self.render_maintenance_access()
        return User(user.name, user.role, user.created_at, tuple(keys))

    def get(self, name: str) -> User:
        """One user with its keys."""
        with self._uows() as uow:
            return _require(uow, name)

    def all(self) -> list[User]:
        """Every user, by name."""
        with self._uows() as uow:
            return sorted(uow.users.all(), key=lambda user: user.name)

    def remove(self, name: str) -> None:
        """Delete a user with its keys; an admin may not remove the last admin."""
        with self._uows(write=True) as uow:
            user = _require(uow, name)
            if user.role is Role.ADMIN:
                _keep_an_admin(uow, name)
            uow.users.remove(name)
            uow.commit()
        self.render_maintenance_access()

    def set_role(self, name: str, role: Role) -> User:
        """Give a user another role."""
        with self._uows(write=True) as uow:
            user = _require(uow, name)
            if user.role is Role.ADMIN and role is not Role.ADMIN:
                _keep_an_admin(uow, name)
            uow.users.set_role(name, role)
            uow.commit()
        self.render_maintenance_access()
        return User(user.name, role, user.created_at, user.keys)

    def add_key(self, name: str, key: SshKey) -> SshKey:
        """Register one more key for a user."""
        with self._uows(write=True) as uow:
            _require(uow, name)
            uow.users.add_key(name, key)
            uow.commit()
        self.render_maintenance_access()
        return key

    def key(self, name: str, key_id: str) -> SshKey:
        """One key of a user."""
        return _key_of(self.get(name), key_id)

    def remove_key(self, name: str, key_id: str) -> None:
        """Revoke a key: no more sign-in with it, no more maintenance shell."""
        with self._uows(write=True) as uow:
            _key_of(_require(uow, name), key_id)
            uow.users.remove_key(name, key_id)
            uow.commit()
        self.render_maintenance_access()

    def render_maintenance_access(self) -> None:
        """Write the maintenance account's authorised keys from the admins' keys."""
        with self._uows() as uow:
            admins = uow.users.with_role(Role.ADMIN)
        self._maintenance.render([(user.name, key) for user in admins for key in user.keys])


def _require(uow: AuthUnitOfWork, name: str) -> User:
    user = uow.users.get(name)
    if user is None:
        raise NotFound(f"userName: no user '{name}'")
    return user


def _key_of(user: User, key_id: str) -> SshKey:
    for key in user.keys:
        if key.key_id == key_id:
            return key
    raise NotFound(f"keyId: user '{user.name}' has no key '{key_id}'")


def _keep_an_admin(uow: AuthUnitOfWork, name: str) -> None:
    if [user.name for user in uow.users.with_role(Role.ADMIN)] == [name]:
        raise Conflict(f"userName: '{name}' is the last platform admin; appoint another first")
