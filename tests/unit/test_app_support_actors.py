"""Unit tests of who may register application instances in AppSupport (app instances, app
providers, the platform) and of the client credentials instances get, on the in-memory fakes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from mec_platform.appsupport.model import AppInfo
from mec_platform.appsupport.service import AppSupport
from mec_platform.appsupport.urls import AppSupportUrls
from mec_platform.auth.credentials import AppCredentials, secret_matches
from mec_platform.auth.model import IssuedCredentials, Role
from mec_platform.errors import Conflict, Forbidden, InvalidInput, NotFound
from mec_platform.registry.model import Actor, AppInstance
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.transports import platform_transports
from mec_platform.registry.urls import ResourceUrls
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory, SequentialIds

API_ROOT = "http://mec.test:8080"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def info(is_ins_by_mec: bool = False) -> AppInfo:
    name = uid("name")
    return AppInfo(app_name=name, document={"appName": name}, is_ins_by_mec=is_ins_by_mec)


@dataclass
class Env:
    uows: InMemoryUnitOfWorkFactory
    clock: FakeClock
    credentials: AppCredentials
    apps: AppSupport

    def managed(self, owner: str | None = None) -> str:
        """A managed instance as the admin command creates it."""
        return self.apps.add_app_instance(uid("app"), uid("app"), owner=owner).app.app_instance_id

    def app(self, app_id: str) -> AppInstance | None:
        return self.uows.store.apps.get(app_id)

    def works(self, issued: IssuedCredentials) -> bool:
        """True when the stored client of the instance accepts these credentials."""
        client = self.uows.store.clients.get(issued.client_id)
        return client is not None and secret_matches(issued.client_secret, client.secret_hash)


@pytest.fixture
def env() -> Env:
    uows, clock, ids = InMemoryUnitOfWorkFactory(), FakeClock(), SequentialIds()
    registry = ServiceRegistry(
        uows, ResourceUrls(API_ROOT), platform_transports(API_ROOT, "mqtt.test", 1883), clock, ids
    )
    credentials = AppCredentials(uows, clock)
    apps = AppSupport(uows, registry, AppSupportUrls(API_ROOT), clock, ids, credentials=credentials)
    return Env(uows, clock, credentials, apps)


def unchanged(env: Env, action: Callable[[], object], error: type[Exception]) -> str:
    """`action` raises `error` and leaves the committed store as it was; returns the detail."""
    before = env.uows.store.snapshot()
    with pytest.raises(error) as raised:
        action()
    assert env.uows.store == before
    return str(raised.value)


# -- instances created by the platform ------------------------------------------------------
def test_add_app_instance_returns_credentials_of_a_new_client(env: Env) -> None:
    owner = uid("alice")
    created = env.apps.add_app_instance(uid("cam"), owner=owner)
    app_id = created.app.app_instance_id
    assert created.credentials is not None
    assert created.credentials.client_id == app_id
    assert env.works(created.credentials)
    client = env.uows.store.clients[app_id]
    assert not secret_matches(created.credentials.client_secret + "x", client.secret_hash)
    assert client.role is Role.APP and client.app_instance_id == app_id
    assert created.app.owner == owner and env.app(app_id) == created.app
    assert created.credentials.client_secret not in client.secret_hash


def test_every_instance_gets_its_own_secret(env: Env) -> None:
    first = env.apps.add_app_instance(uid("cam")).credentials
    second = env.apps.add_app_instance(uid("cam")).credentials
    assert first is not None and second is not None
    assert first.client_secret != second.client_secret


def test_removing_an_instance_removes_its_client(env: Env) -> None:
    app_id = env.managed()
    env.apps.remove_app_instance(app_id)
    assert env.uows.store.clients == {}


# -- registration by an app instance --------------------------------------------------------
def test_an_app_registers_itself_by_default(env: Env) -> None:
    app_id = env.managed()
    registered = env.apps.register(info(), None, Actor(app_instance_id=app_id))
    assert registered.app.app_instance_id == app_id and registered.app.registered
    assert registered.credentials is None  # it has its credentials already
    assert env.app(app_id) == registered.app


@pytest.mark.parametrize("exists", [True, False], ids=["existing", "missing"])
def test_an_app_may_not_register_another_instance(env: Env, exists: bool) -> None:
    actor = Actor(app_instance_id=env.managed())
    target = env.managed() if exists else uid("app")
    detail = unchanged(env, lambda: env.apps.register(info(), target, actor), Forbidden)
    assert target not in detail  # the same words whether the other instance exists or not


def test_an_app_naming_its_own_id_registers(env: Env) -> None:
    app_id = env.managed()
    registered = env.apps.register(info(True), app_id, Actor(app_instance_id=app_id))
    assert registered.app.registered and registered.credentials is None


# -- registration by an app provider --------------------------------------------------------
def test_a_provider_registering_a_new_instance_owns_it_and_gets_credentials(env: Env) -> None:
    provider = uid("bob")
    registered = env.apps.register(info(), None, Actor(provider=provider))
    app_id = registered.app.app_instance_id
    assert registered.app.owner == provider and not registered.app.managed
    assert env.app(app_id) == registered.app
    assert registered.credentials is not None and registered.credentials.client_id == app_id
    assert env.works(registered.credentials)


def test_a_provider_may_choose_the_id_of_a_new_instance(env: Env) -> None:
    provider, app_id = uid("bob"), uid("app")
    registered = env.apps.register(info(), app_id, Actor(provider=provider))
    assert registered.app.app_instance_id == app_id and registered.app.owner == provider


@pytest.mark.parametrize("owner", [None, "carol"], ids=["platform's", "another provider's"])
def test_a_provider_may_not_register_an_instance_it_does_not_own(
    env: Env, owner: str | None
) -> None:
    app_id = env.managed(owner=owner)
    actor = Actor(provider=uid("bob"))
    unchanged(env, lambda: env.apps.register(info(True), app_id, actor), Forbidden)
    unchanged(env, lambda: env.apps.register(info(), app_id, actor), Forbidden)


def test_a_provider_learns_nothing_of_which_instance_ids_exist(env: Env) -> None:
    actor = Actor(provider=uid("bob"))
    others = env.managed(owner="carol")
    refusals = []
    for app_id in (others, uid("missing")):
        with pytest.raises(Forbidden) as refused:
            env.apps.register(info(True), app_id, actor)
        refusals.append(refused.value.detail)
    assert refusals[0] == refusals[1]


def test_a_provider_registers_its_own_managed_instance_without_new_credentials(
    env: Env,
) -> None:
    provider = uid("alice")
    app_id = env.managed(owner=provider)
    client_before = env.uows.store.clients[app_id]
    registered = env.apps.register(info(True), app_id, Actor(provider=provider))
    assert registered.credentials is None and registered.app.registered
    assert registered.app.owner == provider
    assert env.uows.store.clients[app_id] == client_before


def test_the_platform_registers_any_managed_instance_without_new_credentials(env: Env) -> None:
    app_id = env.managed(owner=uid("alice"))
    registered = env.apps.register(info(True), app_id)
    assert registered.credentials is None and registered.app.registered


def test_a_registered_instance_is_not_registered_again(env: Env) -> None:
    provider = uid("alice")
    app_id = env.apps.register(info(), None, Actor(provider=provider)).app.app_instance_id
    unchanged(env, lambda: env.apps.register(info(), app_id, Actor(provider=provider)), Conflict)


# -- deregistration -------------------------------------------------------------------------
def test_deregistering_a_registration_only_instance_removes_its_client(env: Env) -> None:
    registered = env.apps.register(info(), None, Actor(provider=uid("bob")))
    keep = env.managed()
    env.apps.deregister(registered.app.app_instance_id)
    assert registered.app.app_instance_id not in env.uows.store.apps
    assert list(env.uows.store.clients) == [keep]


def test_deregistering_a_managed_instance_keeps_its_client(env: Env) -> None:
    created = env.apps.add_app_instance(uid("cam"))
    app_id = created.app.app_instance_id
    env.apps.register(info(True), app_id, Actor(app_instance_id=app_id))
    env.apps.deregister(app_id)
    assert created.credentials is not None and env.works(created.credentials)


# -- replacing credentials ------------------------------------------------------------------
def test_replace_gives_a_new_secret_and_the_old_one_stops_working(env: Env) -> None:
    created = env.apps.add_app_instance(uid("cam"))
    old = created.credentials
    assert old is not None
    new = env.credentials.replace(created.app.app_instance_id)
    assert new.client_id == old.client_id and new.client_secret != old.client_secret
    assert env.works(new) and not env.works(old)


def test_replace_creates_a_client_for_an_instance_without_one(env: Env) -> None:
    app_id = env.managed()
    with env.uows(write=True) as uow:
        uow.clients.remove_for_app(app_id)
        uow.commit()
    issued = env.credentials.replace(app_id)
    assert issued.client_id == app_id and env.works(issued)


def test_replace_for_an_unknown_instance_is_not_found(env: Env) -> None:
    app_id = uid("app")
    assert app_id in unchanged(env, lambda: env.credentials.replace(app_id), NotFound)


@pytest.mark.parametrize(
    "app_id", ["\u00d7zu\u00910\u00e8", "with space", "a/b", "x" * 257, "caf\u00e9"]
)
def test_a_new_instance_id_must_be_usable_as_client_id_and_path_segment(
    env: Env, app_id: str
) -> None:
    detail = unchanged(
        env, lambda: env.apps.register(info(), app_id, Actor(provider="bob")), InvalidInput
    )
    assert "cannot name a new instance" in detail
    unchanged(env, lambda: env.apps.add_app_instance("cam", app_id), InvalidInput)


def test_instance_ids_with_url_safe_punctuation_are_fine(env: Env) -> None:
    app_id = "urn:uuid:6f1c~a.b_c-d@e!$&'()*+,;="
    assert env.apps.register(info(), app_id, Actor(provider="bob")).app.app_instance_id == app_id
