"""Unit tests of Users (people, roles, SSH keys) on the in-memory fakes, with a maintenance
access that records every set of keys rendered."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest

from mec_platform.auth.model import Role, SshKey, User
from mec_platform.auth.users import Users
from mec_platform.errors import Conflict, InvalidInput, NotFound
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_key() -> SshKey:
    return SshKey("ssh-ed25519", uuid.uuid4().bytes * 2, uid("key"))


@dataclass
class RecordingMaintenance:
    """Keeps every rendering; the last one is what the box would allow."""

    renders: list[list[tuple[str, SshKey]]] = field(default_factory=list)

    def render(self, keys: Sequence[tuple[str, SshKey]]) -> None:
        self.renders.append(list(keys))

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
