"""The registry and its use cases on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import pytest

from mec_platform.bootstrap import Platform, bootstrap
from mec_platform.config import Settings
from mec_platform.errors import Forbidden, InvalidInput, NotFound, PreconditionFailed
from mec_platform.registry.model import (
    CategoryRef,
    FilteringCriteria,
    LocalityType,
    ServiceDraft,
    ServiceQuery,
    ServiceState,
)
from mec_platform.storage.migrate import upgrade


@pytest.fixture
def platform(database_url: str, tmp_path: object) -> Platform:
    settings = Settings.from_env({"MEC_DATABASE_URL": database_url, "HOME": str(tmp_path)})
    wired = bootstrap(settings)
    yield wired  # type: ignore[misc]
    wired.close()


def _draft(name: str, category: str | None = None, **changes: object) -> ServiceDraft:
    values: dict[str, object] = {
        "ser_name": name,
        "version": "1.0",
        "state": ServiceState.ACTIVE,
        "serializer": "JSON",
        "transport_id": "rest-http",
        "ser_category": CategoryRef("http://cat", category, category, "1") if category else None,
    }
    values.update(changes)
    return ServiceDraft(**values)  # type: ignore[arg-type]


def test_migrations_are_idempotent(platform: Platform) -> None:
    upgrade(platform.engine)
    upgrade(platform.engine)
    assert platform.readiness_problem() is None


def test_discovery_filters_run_in_sql(platform: Platform) -> None:
    registry = platform.registry
    producer = registry.add_app_instance("producer").app_instance_id
    other = registry.add_app_instance("other").app_instance_id
    a = registry.register_service(producer, _draft("cam", "video"))
    b = registry.register_service(producer, _draft("lidar", "ranging", is_local=False))
    c = registry.register_service(
        other,
        _draft("cam", "video", consumed_local_only=False, scope_of_locality=LocalityType.ZONE),
    )

    def ids(**filters: object) -> set[str]:
        return {s.ser_instance_id for s in registry.discover(ServiceQuery(**filters))}  # type: ignore[arg-type]

    assert ids() == {a.ser_instance_id, b.ser_instance_id, c.ser_instance_id}
    assert ids(ser_category_id="video") == {a.ser_instance_id, c.ser_instance_id}
    assert ids(ser_names=("cam", "lidar"), is_local=True) == {a.ser_instance_id, c.ser_instance_id}
    assert ids(ser_names=("cam",), consumed_local_only=False) == {c.ser_instance_id}
    assert ids(scope_of_locality=LocalityType.ZONE) == {c.ser_instance_id}
    assert ids(ser_instance_ids=(b.ser_instance_id, "unknown")) == {b.ser_instance_id}
    assert ids(ser_category_id="video", app_instance_id=producer) == {a.ser_instance_id}
    assert ids(ser_category_id="nothing") == set()


def test_update_is_conditional_and_persisted(platform: Platform) -> None:
    registry = platform.registry
    app = registry.add_app_instance("producer").app_instance_id
    service = registry.register_service(app, _draft("cam", "video"))
    updated = registry.update_service(
        app,
        service.ser_instance_id,
        _draft("cam", "video", transport_id=None, state=ServiceState.SUSPENDED),
        service.etag,
    )
    assert updated.revision == 2
    assert registry.get_service(service.ser_instance_id).state is ServiceState.SUSPENDED
    with pytest.raises(PreconditionFailed):
        registry.update_service(
            app, service.ser_instance_id, _draft("x", transport_id=None), service.etag
        )
    assert registry.get_service(service.ser_instance_id).ser_name == "cam"


def test_ownership_and_unknown_ids(platform: Platform) -> None:
    registry = platform.registry
    owner = registry.add_app_instance("owner").app_instance_id
    intruder = registry.add_app_instance("intruder").app_instance_id
    service = registry.register_service(owner, _draft("cam"))
    with pytest.raises(Forbidden):
        registry.deregister_service(intruder, service.ser_instance_id)
    with pytest.raises(NotFound):
        registry.deregister_service("no-such-app", service.ser_instance_id)
    with pytest.raises(NotFound):
        registry.get_service("no-such-service")
    assert registry.get_service(service.ser_instance_id).app_instance_id == owner


def test_rejected_requests_store_nothing(platform: Platform) -> None:
    registry = platform.registry
    with pytest.raises(NotFound):
        registry.register_service("no-such-app", _draft("ghost"))
    app = registry.add_app_instance("producer").app_instance_id
    with pytest.raises(InvalidInput):
        registry.register_service(app, _draft("ghost", transport_id="carrier-pigeon"))
    assert registry.discover(ServiceQuery()) == []
    with platform.uows() as uow:
        assert uow.outbox.stats().pending == 0


def test_changes_write_notifications_in_the_same_transaction(platform: Platform) -> None:
    registry = platform.registry
    app = registry.add_app_instance("consumer").app_instance_id
    registry.subscribe(app, "http://127.0.0.1:9/a", FilteringCriteria(ser_names=("cam",)))
    registry.subscribe(app, "http://127.0.0.1:9/b", FilteringCriteria(ser_names=("lidar",)))
    service = registry.register_service(app, _draft("cam"))
    registry.deregister_service(app, service.ser_instance_id)
    with platform.uows(write=True) as uow:
        claimed = uow.outbox.claim("test", 1e12, 1e12 + 30, 10)
        uow.commit()
    assert [m.callback_uri for m in claimed] == ["http://127.0.0.1:9/a"]
    change = claimed[0].payload["serviceReferences"][0]["changeType"]
    assert change == "ADDED"
    with platform.uows() as uow:
        assert uow.outbox.stats().pending == 2


def test_registry_version_moves_with_every_write(platform: Platform) -> None:
    registry = platform.registry
    seen = [registry.registry_version()]
    app = registry.add_app_instance("producer").app_instance_id
    seen.append(registry.registry_version())
    service = registry.register_service(app, _draft("cam"))
    seen.append(registry.registry_version())
    registry.update_service(
        app, service.ser_instance_id, _draft("cam", transport_id=None, version="2"), None
    )
    seen.append(registry.registry_version())
    registry.subscribe(app, "http://127.0.0.1:9/cb", FilteringCriteria())
    seen.append(registry.registry_version())  # subscriptions do not change discovery
    registry.deregister_service(app, service.ser_instance_id)
    seen.append(registry.registry_version())
    assert seen == [0, 1, 2, 3, 3, 4]
    version, services = registry.discover_versioned(ServiceQuery())
    assert (version, services) == (4, [])


def test_values_the_database_cannot_hold_are_invalid_input(platform: Platform) -> None:
    from dataclasses import replace as replaced

    registry = platform.registry
    app = registry.add_app_instance("producer").app_instance_id
    service = registry.register_service(app, _draft("cam"))
    huge = replaced(service, ser_instance_id="huge", liveness_interval=10**30)
    with pytest.raises(InvalidInput), platform.uows(write=True) as uow:
        uow.services.add(huge)
        uow.commit()
    assert [s.ser_instance_id for s in registry.discover(ServiceQuery())] == [
        service.ser_instance_id
    ]
