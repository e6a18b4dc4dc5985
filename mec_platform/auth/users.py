"""Use cases of people: users, their roles and SSH keys, and the maintenance access they give.

Platform admins' keys open the box's maintenance account(s) over SSH: after every change the
authorised keys are rendered again from the database, so removing a key (or a user, or an
admin's role) revokes the sign-in and the shell at once. A change is committed before the files
are written; if writing them fails, the caller learns that the change is stored all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mec_platform.auth.model import Role, SshKey, User, check_user_name
from mec_platform.auth.ports import AuthUnitOfWork, AuthUnitOfWorkFactory, MaintenanceAccess
from mec_platform.errors import Conflict, MaintenanceAccessUnavailable, NotFound, PlatformError
from mec_platform.registry.ports import Clock

log = logging.getLogger("mec_platform.auth")

# Roles that can act on the application instances a user owns.
_OWNER_ROLES = (Role.ADMIN, Role.PROVIDER)


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
        self._render_after_change()
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
        """Delete a user with its keys; not the last admin, nor an owner of app instances."""
        with self._uows(write=True) as uow:
            user = _require(uow, name)
            # Instances name their owner without a foreign key: a later user of the same
            # name would take them over.
            _owns_nothing(uow, name, "remove them first, or a later user of that name gets them")
            if user.role is Role.ADMIN:
                _keep_an_admin(uow, name)
            uow.users.remove(name)
            uow.commit()
        self._render_after_change()

    def set_role(self, name: str, role: Role) -> User:
        """Give a user another role; an owner of app instances keeps one that can act on them."""
        with self._uows(write=True) as uow:
            user = _require(uow, name)
            if user.role in _OWNER_ROLES and role not in _OWNER_ROLES:
                _owns_nothing(uow, name, f"a {role.value} cannot act on them; remove them first")
            if user.role is Role.ADMIN and role is not Role.ADMIN:
                _keep_an_admin(uow, name)
            uow.users.set_role(name, role)
            uow.commit()
        self._render_after_change()
        return User(user.name, role, user.created_at, user.keys)

    def add_key(self, name: str, key: SshKey) -> SshKey:
        """Register one more key for a user."""
        with self._uows(write=True) as uow:
            _require(uow, name)
            uow.users.add_key(name, key)
            uow.commit()
        self._render_after_change()
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
        self._render_after_change()

    def render_maintenance_access(self) -> None:
        """Write the maintenance accounts' authorised keys from the admins' keys (at start too)."""
        self._maintenance.render(self._admin_keys)

    def _admin_keys(self) -> list[tuple[str, SshKey]]:
        with self._uows() as uow:
            admins = uow.users.with_role(Role.ADMIN)
        return [(user.name, key) for user in admins for key in user.keys]

    def _render_after_change(self) -> None:
        """Render after a commit; a failure is a 503 saying the change itself is stored."""
        try:
            self.render_maintenance_access()
        except (OSError, PlatformError) as exc:
            why = exc.detail if isinstance(exc, PlatformError) else str(exc)
            log.error("maintenance access files not written after a user change: %s", why)
            raise MaintenanceAccessUnavailable(
                f"the change is stored, but the maintenance access files could not be written: "
                f"{why}"
            ) from exc


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
    # The admins' rows stay locked until the commit: of two concurrent demotions (or
    # removals) of the last two admins, the second sees the first and is refused.
    admins = uow.users.with_role(Role.ADMIN, for_update=True)
    if not any(user.name != name for user in admins):
        raise Conflict(f"userName: '{name}' is the last platform admin; appoint another first")


def _owns_nothing(uow: AuthUnitOfWork, name: str, advice: str) -> None:
    count = uow.users.owned_instances(name)
    if count:
        noun = "instance" if count == 1 else "instances"
        raise Conflict(f"userName: '{name}' owns {count} application {noun}; {advice}")
