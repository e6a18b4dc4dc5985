"""The discovery cache serves rendered answers only while the registry version is unchanged."""

from __future__ import annotations

import json
import uuid

import pytest

from mec_platform.errors import NotFound
from mec_platform.http.service_mgmt.discovery import DiscoveryCache
from mec_platform.registry.model import ServiceDraft, ServiceQuery, ServiceState
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.transports import platform_transports
from mec_platform.registry.urls import ResourceUrls
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory, SequentialIds

ROOT = "http://mec.test"


@pytest.fixture
def registry() -> ServiceRegistry:
    return ServiceRegistry(
        InMemoryUnitOfWorkFactory(),
        ResourceUrls(ROOT),
        platform_transports(ROOT, "mqtt.test", 1883),
        FakeClock(),
        SequentialIds(),
    )


def _draft(name: str) -> ServiceDraft:
    return ServiceDraft(name, "1", ServiceState.ACTIVE, "JSON", transport_id="rest-http")


def _names(body: bytes) -> list[str]:
    return [service["serName"] for service in json.loads(body)]


def test_answers_follow_every_change(registry: ServiceRegistry) -> None:
    cache = DiscoveryCache(registry, ResourceUrls(ROOT))
    app = registry.add_app_instance("producer").app_instance_id
    everything = ServiceQuery()
    assert _names(cache.answer(everything)) == []
    first = registry.register_service(app, _draft("first"))
    assert _names(cache.answer(everything)) == ["first"]
    assert cache.answer(everything) is cache.answer(everything)  # served from the cache
    registry.deregister_service(app, first.ser_instance_id)
    assert _names(cache.answer(everything)) == []


def test_app_scoped_answers_check_the_app(registry: ServiceRegistry) -> None:
    cache = DiscoveryCache(registry, ResourceUrls(ROOT))
    with pytest.raises(NotFound):
        cache.answer(ServiceQuery(app_instance_id=f"ghost-{uuid.uuid4().hex}"))
    app = registry.add_app_instance("producer").app_instance_id
    registry.register_service(app, _draft("mine"))
    other = registry.add_app_instance("other").app_instance_id
    assert _names(cache.answer(ServiceQuery(app_instance_id=app))) == ["mine"]
    assert _names(cache.answer(ServiceQuery(app_instance_id=other))) == []


def test_the_cache_is_bounded(registry: ServiceRegistry) -> None:
    cache = DiscoveryCache(registry, ResourceUrls(ROOT), max_entries=2)
    for name in ("a", "b", "c"):
        cache.answer(ServiceQuery(ser_names=(name,)))
    first = cache.answer(ServiceQuery(ser_names=("c",)))
    assert cache.answer(ServiceQuery(ser_names=("c",))) is first
    assert len(cache._entries) == 2  # the bound is what is under test
