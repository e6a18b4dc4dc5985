"""Unit tests of Users (people, roles, SSH keys) on the in-memory fakes, with a maintenance
access that records every set of keys rendered."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest

from mec_platform.auth.model import Role, SshKey, User
from mec_platform.auth.users import Users
from mec_platform.errors import (
    Conflict,
    InvalidInput,
    MaintenanceAccessUnavailable,
    NotFound,
)
from mec_platform.http.problems import status_of
from mec_platform.registry.model import AppInstance
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_key() -> SshKey:
    return SshKey("ssh-ed25519", uuid.uuid4().bytes * 2, uid("key"))


@dataclass
class RecordingMaintenance:
    """Keeps every rendering; the last one is what the box would allow."""

    renders: list[list[tuple[str, SshKey]]] = field(default_factory=list)
    failure: Exception | None = None

    def render(self, read_keys: Callable[[], Sequence[tuple[str, SshKey]]]) -> None:
        if self.failure is not None:
            raise self.failure
        self.renders.append(list(read_keys()))

    @property
    def current(self) -> set[tuple[str, str]]:
        """(user name, key id) of the last rendering."""
        return {(name, key.key_id) for name, key in self.renders[-1]}


@dataclass
class Env:
    uows: InMemoryUnitOfWorkFactory
    clock: FakeClock
    maintenance: RecordingMaintenance
    users: Users

    def add(self, role: Role, keys: int = 1) -> User:
        return self.users.add(uid("user"), role, [new_key() for _ in range(keys)])


@pytest.fixture
def env() -> Env:
    uows, clock, maintenance = InMemoryUnitOfWorkFactory(), FakeClock(), RecordingMaintenance()
    return Env(uows, clock, maintenance, Users(uows, maintenance, clock))


def pairs(user: User) -> set[tuple[str, str]]:
    return {(user.name, key.key_id) for key in user.keys}


def unchanged(env: Env, action: Callable[[], object], error: type[Exception]) -> str:
    """`action` raises `error`, the store stays as it was and nothing is rendered."""
    before, renders = env.uows.store.snapshot(), len(env.maintenance.renders)
    with pytest.raises(error) as raised:
        action()
    assert env.uows.store == before
    assert len(env.maintenance.renders) == renders
    return str(raised.value)


def test_add_stores_the_user_with_keys_and_renders_only_admins_keys(env: Env) -> None:
    admin = env.add(Role.ADMIN, keys=2)
    assert env.maintenance.current == pairs(admin)
    provider = env.add(Role.PROVIDER)
    viewer = env.add(Role.VIEWER)
    assert env.maintenance.current == pairs(admin)
    assert len(env.maintenance.renders) == 3  # rendered again after every change
    assert env.users.get(provider.name) == provider
    assert env.uows.store.users[viewer.name].keys == viewer.keys
    assert viewer.created_at == env.clock()


def test_all_lists_users_by_name(env: Env) -> None:
    names = [env.add(role).name for role in (Role.VIEWER, Role.ADMIN, Role.PROVIDER)]
    assert [user.name for user in env.users.all()] == sorted(names)


def test_a_user_name_is_taken_once(env: Env) -> None:
    user = env.add(Role.PROVIDER)
    detail = unchanged(env, lambda: env.users.add(user.name, Role.VIEWER, [new_key()]), Conflict)
    assert user.name in detail


def test_a_key_is_taken_once(env: Env) -> None:
    owner = env.add(Role.ADMIN)
    name = uid("user")
    unchanged(env, lambda: env.users.add(name, Role.ADMIN, [new_key(), owner.keys[0]]), Conflict)
    assert name not in env.uows.store.users
    other = env.add(Role.PROVIDER)
    unchanged(env, lambda: env.users.add_key(other.name, owner.keys[0]), Conflict)


@pytest.mark.parametrize(
    "name", ["", "Alice", "9lives", "-dash", "has space", "a/b", "x" * 65, "ünï", "root\n"]
)
def test_invalid_names_are_refused(env: Env, name: str) -> None:
    unchanged(env, lambda: env.users.add(name, Role.VIEWER), InvalidInput)


@pytest.mark.parametrize("name", ["a", "_svc", "ops.team-1", "x" * 64])
def test_valid_names_are_accepted(env: Env, name: str) -> None:
    assert env.users.add(name, Role.VIEWER).name == name


def test_promoting_to_admin_opens_maintenance_and_demoting_closes_it(env: Env) -> None:
    admin, provider = env.add(Role.ADMIN), env.add(Role.PROVIDER, keys=2)
    assert env.users.set_role(provider.name, Role.ADMIN).role is Role.ADMIN
    assert env.maintenance.current == pairs(admin) | pairs(provider)
    env.users.set_role(admin.name, Role.VIEWER)
    assert env.maintenance.current == pairs(provider)
    assert env.users.get(admin.name).role is Role.VIEWER


def test_the_last_admin_may_not_be_removed(env: Env) -> None:
    admin = env.add(Role.ADMIN)
    env.add(Role.PROVIDER)
    assert "last platform admin" in unchanged(env, lambda: env.users.remove(admin.name), Conflict)


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.VIEWER])
def test_the_last_admin_may_not_be_demoted(env: Env, role: Role) -> None:
    admin = env.add(Role.ADMIN)
    env.add(Role.VIEWER)
    assert admin.name in unchanged(env, lambda: env.users.set_role(admin.name, role), Conflict)
    assert env.users.set_role(admin.name, Role.ADMIN).role is Role.ADMIN  # staying is fine


def test_an_admin_may_go_while_another_remains(env: Env) -> None:
    first, second = env.add(Role.ADMIN), env.add(Role.ADMIN)
    env.users.remove(first.name)
    assert env.maintenance.current == pairs(second)
    assert first.name not in env.uows.store.users
    unchanged(env, lambda: env.users.remove(second.name), Conflict)


def test_removing_a_user_takes_its_keys_along(env: Env) -> None:
    env.add(Role.ADMIN)
    provider = env.add(Role.PROVIDER)
    env.users.remove(provider.name)
    with env.uows() as uow:
        assert uow.users.owner_of_key(provider.keys[0].key_id) is None
    assert env.users.add(uid("user"), Role.VIEWER, [provider.keys[0]]).keys == provider.keys


def test_remove_key_revokes_maintenance_access(env: Env) -> None:
    admin = env.add(Role.ADMIN, keys=2)
    kept, revoked = admin.keys
    env.users.remove_key(admin.name, revoked.key_id)
    assert env.maintenance.current == {(admin.name, kept.key_id)}
    assert env.users.get(admin.name).keys == (kept,)
    unchanged(env, lambda: env.users.key(admin.name, revoked.key_id), NotFound)


def test_add_key_and_read_it_back(env: Env) -> None:
    admin = env.add(Role.ADMIN)
    key = new_key()
    assert env.users.add_key(admin.name, key) == key
    assert env.users.key(admin.name, key.key_id) == key
    assert env.maintenance.current == pairs(admin) | {(admin.name, key.key_id)}


def test_a_key_of_another_user_is_not_found(env: Env) -> None:
    alice, bob = env.add(Role.ADMIN), env.add(Role.ADMIN)
    theirs = bob.keys[0].key_id
    detail = unchanged(env, lambda: env.users.key(alice.name, theirs), NotFound)
    assert alice.name in detail and bob.name not in detail  # whose key it is stays unsaid
    unchanged(env, lambda: env.users.remove_key(alice.name, theirs), NotFound)
    assert env.users.get(bob.name).keys == bob.keys


@pytest.mark.parametrize(
    "action",
    [
        lambda users, name, key: users.get(name),
        lambda users, name, key: users.remove(name),
        lambda users, name, key: users.set_role(name, Role.VIEWER),
        lambda users, name, key: users.add_key(name, key),
        lambda users, name, key: users.remove_key(name, key.key_id),
    ],
    ids=["get", "remove", "set_role", "add_key", "remove_key"],
)
def test_an_unknown_user_is_not_found(
    env: Env, action: Callable[[Users, str, SshKey], object]
) -> None:
    env.add(Role.ADMIN)
    name = uid("nobody")
    detail = unchanged(env, lambda: action(env.users, name, new_key()), NotFound)
    assert name in detail


# -- owners of application instances --------------------------------------------------------
def own(env: Env, owner: str, count: int = 1) -> list[str]:
    """Give `owner` `count` application instances, as `app add --owner` would."""
    with env.uows(write=True) as uow:
        ids = [uid("app") for _ in range(count)]
        for app_id in ids:
            uow.apps.add(AppInstance(app_id, "cam", owner=owner))
        uow.commit()
    return ids


def forget(env: Env, app_ids: list[str]) -> None:
    with env.uows(write=True) as uow:
        for app_id in app_ids:
            uow.apps.remove(app_id)
        uow.commit()


def test_a_provider_owning_instances_may_not_be_removed(env: Env) -> None:
    env.add(Role.ADMIN)
    provider = env.add(Role.PROVIDER)
    apps = own(env, provider.name, 3)
    own(env, uid("someone-else"))
    detail = unchanged(env, lambda: env.users.remove(provider.name), Conflict)
    assert f"'{provider.name}' owns 3 application instances" in detail
    forget(env, apps[1:])
    detail = unchanged(env, lambda: env.users.remove(provider.name), Conflict)
    assert "owns 1 application instance;" in detail
    forget(env, apps[:1])
    env.users.remove(provider.name)
    assert provider.name not in env.uows.store.users


def test_an_owner_keeps_a_role_that_can_act_on_its_instances(env: Env) -> None:
    env.add(Role.ADMIN)
    provider = env.add(Role.PROVIDER)
    apps = own(env, provider.name, 2)
    detail = unchanged(env, lambda: env.users.set_role(provider.name, Role.VIEWER), Conflict)
    assert f"'{provider.name}' owns 2 application instances" in detail
    assert "viewer" in detail
    # An admin acts on every instance: promoting the owner (and back) is fine.
    assert env.users.set_role(provider.name, Role.ADMIN).role is Role.ADMIN
    unchanged(env, lambda: env.users.set_role(provider.name, Role.VIEWER), Conflict)
    assert env.users.set_role(provider.name, Role.PROVIDER).role is Role.PROVIDER
    forget(env, apps)
    assert env.users.set_role(provider.name, Role.VIEWER).role is Role.VIEWER


def test_an_owning_admin_may_not_be_removed_either(env: Env) -> None:
    env.add(Role.ADMIN)
    admin = env.add(Role.ADMIN)
    own(env, admin.name)
    assert "owns 1 application instance" in unchanged(
        env, lambda: env.users.remove(admin.name), Conflict
    )


# -- maintenance access that cannot be written ----------------------------------------------
@pytest.mark.parametrize(
    ("failure", "why"),
    [
        (MaintenanceAccessUnavailable("/srv/ssh/mec-maint: No space left on device"), "No space"),
        (PermissionError(13, "Permission denied"), "Permission denied"),
    ],
    ids=["reported", "os-error"],
)
def test_a_change_is_kept_and_reported_when_the_files_cannot_be_written(
    env: Env, failure: Exception, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    admin = env.add(Role.ADMIN, keys=2)
    env.maintenance.failure = failure
    caplog.set_level(logging.ERROR, "mec_platform.auth")
    with pytest.raises(MaintenanceAccessUnavailable) as raised:
        env.users.remove_key(admin.name, admin.keys[0].key_id)
    detail = raised.value.detail
    assert detail.startswith("the change is stored, but the maintenance access files")
    assert why in detail
    assert status_of(raised.value) == 503
    assert env.users.get(admin.name).keys == admin.keys[1:]  # the revocation is committed
    assert "maintenance access files not written" in caplog.text


def test_every_change_reports_a_failed_rendering(env: Env) -> None:
    admin = env.add(Role.ADMIN)
    env.maintenance.failure = MaintenanceAccessUnavailable("disk full")
    changes: list[Callable[[], object]] = [
        lambda: env.users.add(uid("user"), Role.VIEWER),
        lambda: env.users.add_key(admin.name, new_key()),
        lambda: env.users.set_role(admin.name, Role.ADMIN),
    ]
    for change in changes:
        with pytest.raises(MaintenanceAccessUnavailable, match=r"stored.*disk full"):
            change()
    with pytest.raises(MaintenanceAccessUnavailable):
        env.users.render_maintenance_access()
