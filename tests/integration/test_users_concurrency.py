"""Users on real SQLite and PostgreSQL under concurrency: the rule "the last platform admin
stays" holds when two admins are demoted or removed at the same moment, because the admins'
rows are locked (SELECT ... FOR UPDATE) before they are counted. PostgreSQL runs READ
COMMITTED, where a plain SELECT would let both transactions see two admins; SQLite lets one
writer in at a time. Each test gets a fresh database: the rule is about all admins."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest

from mec_platform.auth.model import Role, SshKey, User
from mec_platform.auth.users import Users
from mec_platform.errors import Conflict
from mec_platform.registry.model import AppInstance
from mec_platform.storage.engine import make_engine
from mec_platform.storage.migrate import upgrade
from mec_platform.storage.uow import SqlUnitOfWorkFactory


class NoMaintenance:
    """Maintenance access that reads the keys and writes nothing."""

    def render(self, read_keys: Callable[[], Sequence[tuple[str, SshKey]]]) -> None:
        read_keys()


@dataclass
class Env:
    uows: SqlUnitOfWorkFactory
    users: Users

    def admins(self) -> set[str]:
        with self.uows() as uow:
            return {user.name for user in uow.users.with_role(Role.ADMIN)}


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        uows = SqlUnitOfWorkFactory(engine)
        yield Env(uows, Users(uows, NoMaintenance(), clock=lambda: 1_700_000_000.0))
    finally:
        engine.dispose()


def name() -> str:
    return f"u{uuid.uuid4().hex[:12]}"


def test_locking_the_admins_waits_for_a_pending_demotion(env: Env) -> None:
    first, second = (env.users.add(name(), Role.ADMIN).name for _ in range(2))
    seen: list[set[str]] = []

    def lock_and_count() -> None:
        with env.uows(write=True) as uow:
            seen.append({user.name for user in uow.users.with_role(Role.ADMIN, for_update=True)})

    with env.uows(write=True) as uow:
        assert {u.name for u in uow.users.with_role(Role.ADMIN, for_update=True)} == {
            first,
            second,
        }
        other = threading.Thread(target=lock_and_count)
        other.start()
        other.join(0.5)
        assert other.is_alive()  # blocked on the locked rows (or on SQLite's one writer)
        uow.users.set_role(first, Role.VIEWER)
        uow.commit()
    other.join(10)
    assert seen == [{second}]  # the demotion committed meanwhile is seen, not the old row


def race(env: Env, pair: list[str], removing: tuple[bool, bool]) -> list[str]:
    """Demote (or remove) both users of `pair` at once, one thread each; their outcomes."""
    start = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def act(user: str, remove: bool) -> None:
        start.wait()
        try:
            if remove:
                env.users.remove(user)
            else:
                env.users.set_role(user, Role.PROVIDER)
            outcomes.append("done")
        except Conflict:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=act, args=(user, remove))
        for user, remove in zip(pair, removing, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.parametrize(
    "removing",
    [(False, False), (True, True), (True, False)],
    ids=["two-demotions", "two-removals", "one-of-each"],
)
def test_two_concurrent_demotions_leave_an_admin(env: Env, removing: tuple[bool, bool]) -> None:
    for _ in range(8):
        pair = [env.users.add(name(), Role.ADMIN).name for _ in range(2)]
        for user in env.admins() - set(pair):
            env.users.set_role(user, Role.VIEWER)  # only the pair are admins now
        assert sorted(race(env, pair, removing)) == ["done", "refused"]
        assert len(env.admins()) == 1
        assert env.admins() <= set(pair)


def test_a_user_with_instances_is_kept(env: Env) -> None:
    env.users.add(name(), Role.ADMIN)
    owner: User = env.users.add(name(), Role.PROVIDER)
    with env.uows(write=True) as uow:
        uow.apps.add(AppInstance(str(uuid.uuid4()), "cam", owner=owner.name))
        uow.commit()
    with pytest.raises(Conflict, match="owns 1 application instance"):
        env.users.remove(owner.name)
    with pytest.raises(Conflict, match="viewer cannot act on them"):
        env.users.set_role(owner.name, Role.VIEWER)
    assert env.users.get(owner.name).role is Role.PROVIDER
