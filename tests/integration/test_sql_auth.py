"""Identity storage on real SQLite and PostgreSQL: users with SSH keys, OAuth2 clients, login
challenges, the owner of app instances, and the migration that adds them (revision 0003).

The tests of one module share a database per backend, so each works on its own users, clients
and instances (unique names) and looks only at those.
"""

from __future__ import annotations

import os
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text

from mec_platform.auth.model import Client, LoginChallenge, Role, SshKey, User
from mec_platform.auth.ports import AuthUnitOfWork
from mec_platform.errors import Conflict, NotFound
from mec_platform.registry.model import AppInstance
from mec_platform.storage.engine import is_sqlite, make_engine
from mec_platform.storage.migrate import MIGRATIONS_DIR, upgrade
from mec_platform.storage.uow import SqlUnitOfWorkFactory


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def user_name() -> str:
    return f"u{uuid.uuid4().hex[:12]}"


def ed25519(comment: str = "") -> SshKey:
    """A fresh key in SSH wire format (type string, then 32 random bytes of public key)."""
    kind = b"ssh-ed25519"
    blob = struct.pack(">I", len(kind)) + kind + struct.pack(">I", 32) + os.urandom(32)
    return SshKey("ssh-ed25519", blob, comment)


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Db:
    engine: Engine
    clock: Clock
    uows: SqlUnitOfWorkFactory

    def user(self, role: Role = Role.PROVIDER, *keys: SshKey) -> User:
        user = User(user_name(), role, self.clock.now, tuple(keys))
        with self.uows(write=True) as uow:
            uow.users.add(user)
            uow.commit()
        return user

    def read(self) -> AuthUnitOfWork:
        return self.uows()


@pytest.fixture(scope="module")
def db(module_database_url: str) -> Iterator[Db]:
    engine = make_engine(module_database_url)
    try:
        upgrade(engine)
        clock = Clock()
        yield Db(engine, clock, SqlUnitOfWorkFactory(engine, clock))
    finally:
        engine.dispose()


# -- users and keys -------------------------------------------------------------------------
def test_users_are_added_read_listed_and_change_role(db: Db) -> None:
    key = ed25519("alice@laptop")
    alice = db.user(Role.PROVIDER, key)
    bob = db.user(Role.VIEWER)
    with db.uows(write=True) as uow:
        uow.users.set_role(bob.name, Role.ADMIN)
        uow.commit()
    with db.read() as uow:
        assert uow.users.get(alice.name) == alice
        assert uow.users.get(alice.name).keys[0].blob == key.blob  # type: ignore[union-attr]
        assert uow.users.get(bob.name) == replace(bob, role=Role.ADMIN)
        assert uow.users.get(user_name()) is None
        listed = {user.name: user for user in uow.users.all()}
    assert listed[alice.name] == alice
    assert listed[bob.name].role is Role.ADMIN


def test_a_user_name_is_taken_once(db: Db) -> None:
    alice = db.user(Role.PROVIDER)
    with pytest.raises(Conflict, match="exists already"), db.uows(write=True) as uow:
        uow.users.add(User(alice.name, Role.VIEWER, 5.0))
    with db.read() as uow:
        assert uow.users.get(alice.name) == alice


def test_a_key_is_registered_once_also_across_users(db: Db) -> None:
    key = ed25519()
    alice = db.user(Role.PROVIDER, key)
    bob = db.user(Role.PROVIDER)
    for holder in (alice.name, bob.name):
        with (
            pytest.raises(Conflict, match="this key is registered already"),
            db.uows(write=True) as uow,
        ):
            uow.users.add_key(holder, replace(key, comment="again"))
    with pytest.raises(Conflict), db.uows(write=True) as uow:
        uow.users.add(User(user_name(), Role.VIEWER, 1.0, (key,)))
    with db.read() as uow:
        assert uow.users.owner_of_key(key.key_id) == alice.name
        assert uow.users.get(bob.name) == bob


def test_a_key_of_an_unknown_user_is_refused(db: Db) -> None:
    with pytest.raises(NotFound), db.uows(write=True) as uow:
        uow.users.add_key(user_name(), ed25519())


def test_keys_keep_the_order_they_were_added_in(db: Db) -> None:
    first, second, third = ed25519("1"), ed25519("2"), ed25519("3")
    alice = db.user(Role.PROVIDER, first, second)
    db.clock.now += 10
    with db.uows(write=True) as uow:
        uow.users.add_key(alice.name, third)
        uow.commit()
    with db.read() as uow:
        assert uow.users.get(alice.name).keys == (first, second, third)  # type: ignore[union-attr]


def test_keys_are_removed_one_at_a_time(db: Db) -> None:
    kept, dropped = ed25519("kept"), ed25519("dropped")
    alice = db.user(Role.PROVIDER, kept, dropped)
    bob = db.user(Role.PROVIDER)
    with db.uows(write=True) as uow:
        uow.users.remove_key(bob.name, kept.key_id)  # not bob's: nothing happens
        uow.users.remove_key(alice.name, dropped.key_id)
        uow.commit()
    with db.read() as uow:
        assert uow.users.get(alice.name).keys == (kept,)  # type: ignore[union-attr]
        assert uow.users.owner_of_key(kept.key_id) == alice.name
        assert uow.users.owner_of_key(dropped.key_id) is None


def test_a_removed_user_takes_its_keys_and_challenges_along(db: Db) -> None:
    key = ed25519()
    alice = db.user(Role.PROVIDER, key)
    nonce = uid("nonce")
    with db.uows(write=True) as uow:
        uow.challenges.add(LoginChallenge(nonce, alice.name, db.clock.now + 60))
        uow.commit()
    with db.uows(write=True) as uow:
        uow.users.remove(alice.name)
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.users.get(alice.name) is None
        assert uow.users.owner_of_key(key.key_id) is None
        assert uow.challenges.take(nonce) is None
        # The key is free again, for anyone.
        uow.users.add(User(user_name(), Role.VIEWER, 1.0, (key,)))


def test_users_of_a_role_come_with_their_keys(db: Db) -> None:
    key = ed25519()
    admin = db.user(Role.ADMIN, key)
    viewer = db.user(Role.VIEWER)
    with db.uows() as uow:
        admins = {user.name: user for user in uow.users.with_role(Role.ADMIN)}
        viewers = {user.name for user in uow.users.with_role(Role.VIEWER)}
    assert admins[admin.name].keys == (key,)
    assert viewer.name in viewers
    assert viewer.name not in admins
    assert admin.name not in viewers


# -- clients --------------------------------------------------------------------------------
def test_a_client_is_found_by_id_and_by_app_and_its_secret_replaced(db: Db) -> None:
    app = uid("app")
    client = Client(uid("client"), "hash-1", Role.APP, db.clock.now, app)
    with db.uows(write=True) as uow:
        uow.clients.add(client)
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.clients.get(client.client_id) == client
        assert uow.clients.for_app(app) == client
        assert uow.clients.for_app(uid("app")) is None
        uow.clients.replace_secret(client.client_id, "hash-2")
        uow.commit()
    with db.read() as uow:
        assert uow.clients.get(client.client_id) == replace(client, secret_hash="hash-2")


def test_an_app_has_one_client_at_most(db: Db) -> None:
    app = uid("app")
    first = Client(uid("client"), "h", Role.APP, 1.0, app)
    with db.uows(write=True) as uow:
        uow.clients.add(first)
        uow.commit()
    with pytest.raises(Conflict), db.uows(write=True) as uow:
        uow.clients.add(Client(uid("client"), "h", Role.APP, 1.0, app))
    with pytest.raises(Conflict), db.uows(write=True) as uow:
        uow.clients.add(replace(first, app_instance_id=uid("app")))
    with db.read() as uow:
        assert uow.clients.for_app(app) == first


def test_removing_an_apps_client_leaves_the_others(db: Db) -> None:
    gone, kept = uid("app"), uid("app")
    clients = [Client(uid("client"), "h", Role.APP, 1.0, app) for app in (gone, kept)]
    with db.uows(write=True) as uow:
        for client in clients:
            uow.clients.add(client)
        uow.commit()
    with db.uows(write=True) as uow:
        uow.clients.remove_for_app(gone)
        uow.commit()
    with db.read() as uow:
        assert uow.clients.get(clients[0].client_id) is None
        assert uow.clients.for_app(kept) == clients[1]


# -- login challenges -----------------------------------------------------------------------
def test_a_challenge_is_taken_once(db: Db) -> None:
    alice = db.user()
    challenge = LoginChallenge(uid("nonce"), alice.name, db.clock.now + 60)
    with db.uows(write=True) as uow:
        uow.challenges.add(challenge)
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.challenges.take(challenge.nonce) == challenge
        assert uow.challenges.take(challenge.nonce) is None
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.challenges.take(challenge.nonce) is None
        assert uow.challenges.take(uid("nonce")) is None


def test_a_take_that_is_rolled_back_leaves_the_challenge(db: Db) -> None:
    challenge = LoginChallenge(uid("nonce"), db.user().name, db.clock.now + 60)
    with db.uows(write=True) as uow:
        uow.challenges.add(challenge)
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.challenges.take(challenge.nonce) == challenge
    with db.uows(write=True) as uow:
        assert uow.challenges.take(challenge.nonce) == challenge


def test_expired_challenges_are_purged(db: Db) -> None:
    # Other tests' challenges expire around the clock's time, far after these.
    alice = db.user()
    old = [LoginChallenge(uid("nonce"), alice.name, at) for at in (1.0, 5.0)]
    live = LoginChallenge(uid("nonce"), alice.name, 10.0)
    with db.uows(write=True) as uow:
        for challenge in (*old, live):
            uow.challenges.add(challenge)
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.challenges.purge_expired(5.0) == 2
        uow.commit()
    with db.uows(write=True) as uow:
        assert [uow.challenges.take(c.nonce) for c in old] == [None, None]
        assert uow.challenges.take(live.nonce) == live


def _race_for(db: Db, nonce: str) -> list[LoginChallenge | None]:
    """Two threads, each with its own unit of work, take the same nonce at the same moment."""
    # SQLite lets one writer in at a time, so there the threads meet before they begin.
    meet_inside = not is_sqlite(db.engine)
    start = threading.Barrier(2, timeout=10)
    results: list[LoginChallenge | None] = []

    def take() -> None:
        if not meet_inside:
            start.wait()
        with db.uows(write=True) as uow:
            if meet_inside:
                start.wait()
            taken = uow.challenges.take(nonce)
            time.sleep(0.02)  # hold the transaction open: the other taker runs meanwhile
            uow.commit()
        results.append(taken)

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_concurrent_takers_get_a_challenge_once(db: Db) -> None:
    alice = db.user()
    for _ in range(20):
        challenge = LoginChallenge(uid("nonce"), alice.name, db.clock.now + 60)
        with db.uows(write=True) as uow:
            uow.challenges.add(challenge)
            uow.commit()
        results = _race_for(db, challenge.nonce)
        assert len(results) == 2
        assert sorted(results, key=lambda r: r is None) == [challenge, None]


# -- app instance owners --------------------------------------------------------------------
def test_an_app_instance_keeps_its_owner(db: Db) -> None:
    owned = AppInstance(uid("app"), "owned", owner="alice")
    admins = AppInstance(uid("app"), "admins")
    with db.uows(write=True) as uow:
        uow.apps.add(owned)
        uow.apps.add(admins)
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.apps.get(owned.app_instance_id) == owned
        assert uow.apps.owner_of(owned.app_instance_id) == (True, "alice")
        assert uow.apps.owner_of(admins.app_instance_id) == (True, None)
        assert uow.apps.owner_of(uid("app")) == (False, None)
        uow.apps.update(replace(owned, name="renamed", revision=2))
        uow.commit()
    with db.read() as uow:
        assert uow.apps.owner_of(owned.app_instance_id) == (True, "alice")


def test_the_instances_a_user_owns_are_counted(db: Db) -> None:
    owner, other = db.user(), db.user()
    with db.uows(write=True) as uow:
        for n in range(3):
            uow.apps.add(AppInstance(uid("app"), f"cam{n}", owner=owner.name))
        uow.apps.add(AppInstance(uid("app"), "theirs", owner=other.name))
        uow.apps.add(AppInstance(uid("app"), "nobodys"))
        uow.commit()
    with db.read() as uow:
        assert uow.users.owned_instances(owner.name) == 3
        assert uow.users.owned_instances(other.name) == 1
        assert uow.users.owned_instances(user_name()) == 0


# -- migration ------------------------------------------------------------------------------
def _alembic(engine: Engine, step: str, revision: str) -> None:
    """Run Alembic to `revision`, configured as `storage.migrate.upgrade` configures it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, step)(config, revision)


def _head(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


AUTH_TABLES = {"users", "ssh_keys", "oauth_clients", "login_challenges"}


def test_an_app_support_database_upgrades_keeping_its_instances(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        _alembic(engine, "upgrade", "0002")
        app_id = uid("app")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO app_instances (app_instance_id, name, state, created_at) "
                    "VALUES (:id, 'legacy', 'INSTANTIATED', 1.5)"
                ),
                {"id": app_id},
            )
        upgrade(engine)
        assert _head(engine) == "0006"
        assert set(inspect(engine).get_table_names()) >= AUTH_TABLES
        with SqlUnitOfWorkFactory(engine)() as uow:
            assert uow.apps.get(app_id) == AppInstance(app_id, "legacy", owner=None)
            assert uow.apps.owner_of(app_id) == (True, None)
        _alembic(engine, "downgrade", "0002")
        inspector = inspect(engine)
        assert not AUTH_TABLES & set(inspector.get_table_names())
        assert "owner" not in {c["name"] for c in inspector.get_columns("app_instances")}
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM app_instances")).scalar_one()
        assert count == 1
    finally:
        engine.dispose()
