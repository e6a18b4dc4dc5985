"""Unit tests of the ServiceRegistry use cases on in-memory fakes of our ports."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from mec_platform.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from mec_platform.notifications.model import DeliveryState
from mec_platform.registry.liveness import LivenessPolicy
from mec_platform.registry.model import (
    AppInstance,
    CategoryRef,
    FilteringCriteria,
    LocalityType,
    Service,
    ServiceDraft,
    ServiceQuery,
    ServiceState,
    TransportInfo,
)
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.transports import MQTT_ID, REST_HTTP_ID, platform_transports
from mec_platform.registry.urls import ResourceUrls
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory, OutboxRow, SequentialIds

API_ROOT = "http://mec.test:8080"
ACTIVE, INACTIVE, SUSPENDED = ServiceState.ACTIVE, ServiceState.INACTIVE, ServiceState.SUSPENDED


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def category(cat_id: str, name: str = "a category") -> CategoryRef:
    return CategoryRef(href=f"{API_ROOT}/categories/{cat_id}", id=cat_id, name=name, version="1")


def own_transport() -> TransportInfo:
    return TransportInfo(
        id=uid("tr"),
        name="app REST",
        type="REST_HTTP",
        protocol="HTTP",
        version="2",
        endpoint={"uris": ["http://10.0.0.7:9000/api"]},
        security={},
    )


def draft(**changes: Any) -> ServiceDraft:
    base = ServiceDraft(
        ser_name=uid("svc"),
        version="1.0",
        state=ACTIVE,
        serializer="JSON",
        transport_id=REST_HTTP_ID,
    )
    return replace(base, **changes)


@dataclass
class Env:
    uows: InMemoryUnitOfWorkFactory
    clock: FakeClock
    urls: ResourceUrls
    registry: ServiceRegistry
    transports: tuple[TransportInfo, ...]

    def app(self) -> str:
        return self.registry.add_app_instance("app", app_instance_id=uid("app")).app_instance_id

    def register(self, app_id: str, **changes: Any) -> Service:
        return self.registry.register_service(app_id, draft(**changes))

    def update(self, service: Service, **changes: Any) -> Service:
        """PUT the service as it is, with `changes` applied (transportInfo omitted)."""
        body = ServiceDraft(
            ser_name=service.ser_name,
            version=service.version,
            state=service.state,
            serializer=service.serializer,
            ser_category=service.ser_category,
            scope_of_locality=service.scope_of_locality,
            consumed_local_only=service.consumed_local_only,
            is_local=service.is_local,
        )
        return self.registry.update_service(
            service.app_instance_id, service.ser_instance_id, replace(body, **changes), None
        )

    def subscribe(self, criteria: FilteringCriteria | None = None, **kwargs: Any) -> str:
        app_id = kwargs.pop("app_id", None) or self.app()
        callback = kwargs.pop("callback", None) or f"http://sub.test/{uid('cb')}"
        sub = self.registry.subscribe(app_id, callback, criteria or FilteringCriteria(), **kwargs)
        return sub.subscription_id

    def notes(self, subscription_id: str) -> list[dict[str, Any]]:
        """The serviceReferences queued for one subscription, oldest first."""
        return [row.body["serviceReferences"][0] for row in self.uows.messages(subscription_id)]


@pytest.fixture
def env() -> Env:
    uows = InMemoryUnitOfWorkFactory()
    clock = FakeClock()
    urls = ResourceUrls(API_ROOT)
    transports = platform_transports(API_ROOT, "mqtt.test", 1883)
    registry = ServiceRegistry(
        uows, urls, transports, clock, SequentialIds(), LivenessPolicy(20, 5)
    )
    return Env(uows, clock, urls, registry, transports)


def unchanged(env: Env, action: Callable[[], object], error: type[Exception]) -> None:
    """`action` raises `error` and leaves the committed store exactly as it was."""
    before = env.uows.store.snapshot()
    with pytest.raises(error):
        action()
    assert env.uows.store == before


# -- application instances ------------------------------------------------------------------
def test_add_app_instance_and_list(env: Env) -> None:
    app_id = uid("app")
    app = env.registry.add_app_instance("camera", app_instance_id=app_id)
    assert app == AppInstance(app_id, "camera")
    assert env.registry.list_app_instances() == [app]


def test_add_app_instance_allocates_an_id(env: Env) -> None:
    app = env.registry.add_app_instance("camera")
    assert app.app_instance_id
    assert env.registry.list_app_instances() == [app]


def test_add_app_instance_rejects_duplicates_and_empty_names(env: Env) -> None:
    app_id = env.app()
    unchanged(env, lambda: env.registry.add_app_instance("again", app_instance_id=app_id), Conflict)
    unchanged(env, lambda: env.registry.add_app_instance("  "), InvalidInput)


# -- registration ---------------------------------------------------------------------------
def test_register_with_transport_id_uses_the_platform_transport(env: Env) -> None:
    app_id = env.app()
    service = env.register(app_id, transport_id=MQTT_ID)
    mqtt = next(t for t in env.transports if t.id == MQTT_ID)
    assert service.transport_info == mqtt
    assert service.app_instance_id == app_id
    assert service.revision == 1
    assert service.etag == f'"{service.ser_instance_id}.1"'
    assert env.registry.get_service(service.ser_instance_id) == service


def test_register_with_transport_info_keeps_it(env: Env) -> None:
    transport = own_transport()
    service = env.register(env.app(), transport_id=None, transport_info=transport)
    assert env.registry.get_service(service.ser_instance_id).transport_info == transport


def test_register_allocates_distinct_ids(env: Env) -> None:
    app_id = env.app()
    first, second = env.register(app_id), env.register(app_id)
    assert first.ser_instance_id != second.ser_instance_id


def test_register_keeps_every_attribute(env: Env) -> None:
    cat = category(uid("cat"))
    service = env.register(
        env.app(),
        ser_category=cat,
        scope_of_locality=LocalityType.ZONE,
        consumed_local_only=False,
        is_local=False,
        state=SUSPENDED,
        serializer="PROTOBUF3",
    )
    stored = env.registry.get_service(service.ser_instance_id)
    assert (stored.ser_category, stored.scope_of_locality) == (cat, LocalityType.ZONE)
    assert (stored.consumed_local_only, stored.is_local) == (False, False)
    assert (stored.state, stored.serializer) == (SUSPENDED, "PROTOBUF3")


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"transport_id": REST_HTTP_ID, "transport_info": own_transport()}, "not both"),
        ({"transport_id": None, "transport_info": None}, "required"),
        ({"transport_id": "no-such-transport"}, "unknown transport"),
    ],
    ids=["both", "neither", "unknown-transport-id"],
)
def test_register_transport_rules(env: Env, changes: dict[str, Any], fragment: str) -> None:
    app_id = env.app()
    before = env.uows.store.snapshot()
    with pytest.raises(InvalidInput, match=fragment):
        env.register(app_id, **changes)
    assert env.uows.store == before


def test_register_for_unknown_app_is_not_found(env: Env) -> None:
    env.subscribe()
    unchanged(env, lambda: env.register(uid("ghost")), NotFound)


@pytest.mark.parametrize(
    ("proposed", "granted"),
    [(None, None), (0, 20), (1, 5), (5, 5), (60, 60)],
)
def test_register_applies_the_liveness_policy(
    env: Env, proposed: int | None, granted: int | None
) -> None:
    service = env.register(env.app(), liveness_interval=proposed)
    assert service.liveness_interval == granted
    assert service.last_heartbeat == (None if granted is None else env.clock())


def test_liveness_policy_defaults() -> None:
    policy = LivenessPolicy()
    assert policy.interval_for(None) is None
    assert policy.interval_for(0) == policy.default_interval
    assert policy.interval_for(1) == policy.min_interval
    assert policy.interval_for(3600) == 3600


def test_list_transports(env: Env) -> None:
    assert env.registry.list_transports() == list(env.transports)


# -- discovery ------------------------------------------------------------------------------
@dataclass
class Catalogue:
    a: Service
    b: Service
    c: Service
    d: Service
    cat1: str
    cat2: str

    def ids(self, services: list[Service]) -> list[str]:
        names = {s.ser_instance_id: n for n, s in vars(self).items() if isinstance(s, Service)}
        return [names[s.ser_instance_id] for s in services]


@pytest.fixture
def cat(env: Env) -> Catalogue:
    """Four services with varied attributes, registered in order a, b, c, d by two apps."""
    one, two = env.app(), env.app()
    cat1, cat2 = uid("cat"), uid("cat")
    name_ab, name_c = uid("name"), uid("name")
    a = env.register(one, ser_name=name_ab, ser_category=category(cat1))
    b = env.register(
        two,
        ser_name=name_ab,
        ser_category=category(cat2),
        scope_of_locality=LocalityType.ZONE,
        is_local=False,
    )
    c = env.register(
        one,
        ser_name=name_c,
        ser_category=category(cat1),
        consumed_local_only=False,
        scope_of_locality=LocalityType.ZONE,
    )
    d = env.register(two, is_local=False, consumed_local_only=False)
    return Catalogue(a, b, c, d, cat1, cat2)


def test_discover_without_filters_returns_all_in_registration_order(
    env: Env, cat: Catalogue
) -> None:
    assert cat.ids(env.registry.discover(ServiceQuery())) == ["a", "b", "c", "d"]


def test_discover_by_instance_ids_ors_the_values(env: Env, cat: Catalogue) -> None:
    query = ServiceQuery(ser_instance_ids=(cat.d.ser_instance_id, cat.a.ser_instance_id))
    assert cat.ids(env.registry.discover(query)) == ["a", "d"]


def test_discover_by_names_ors_the_values(env: Env, cat: Catalogue) -> None:
    assert cat.ids(env.registry.discover(ServiceQuery(ser_names=(cat.a.ser_name,)))) == ["a", "b"]
    both = ServiceQuery(ser_names=(cat.c.ser_name, cat.a.ser_name))
    assert cat.ids(env.registry.discover(both)) == ["a", "b", "c"]


def test_discover_by_category_id(env: Env, cat: Catalogue) -> None:
    assert cat.ids(env.registry.discover(ServiceQuery(ser_category_id=cat.cat1))) == ["a", "c"]
    assert cat.ids(env.registry.discover(ServiceQuery(ser_category_id=cat.cat2))) == ["b"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (ServiceQuery(scope_of_locality=LocalityType.ZONE), ["b", "c"]),
        (ServiceQuery(scope_of_locality=LocalityType.MEC_HOST), ["a", "d"]),
        (ServiceQuery(consumed_local_only=True), ["a", "b"]),
        (ServiceQuery(consumed_local_only=False), ["c", "d"]),
        (ServiceQuery(is_local=True), ["a", "c"]),
        (ServiceQuery(is_local=False), ["b", "d"]),
        (ServiceQuery(is_local=False, consumed_local_only=False), ["d"]),
        (ServiceQuery(scope_of_locality=LocalityType.ZONE, is_local=True), ["c"]),
        (ServiceQuery(scope_of_locality=LocalityType.NFVI_POP), []),
    ],
)
def test_discover_by_attributes(
    env: Env, cat: Catalogue, query: ServiceQuery, expected: list[str]
) -> None:
    assert cat.ids(env.registry.discover(query)) == expected


def test_discover_ands_selector_and_attributes(env: Env, cat: Catalogue) -> None:
    by_name = ServiceQuery(ser_names=(cat.a.ser_name,), is_local=False)
    assert cat.ids(env.registry.discover(by_name)) == ["b"]
    by_cat = ServiceQuery(ser_category_id=cat.cat1, consumed_local_only=False)
    assert cat.ids(env.registry.discover(by_cat)) == ["c"]
    by_id = ServiceQuery(ser_instance_ids=(cat.a.ser_instance_id,), is_local=False)
    assert env.registry.discover(by_id) == []


def test_discover_without_match_is_an_empty_list(env: Env, cat: Catalogue) -> None:
    assert env.registry.discover(ServiceQuery(ser_names=(uid("nobody"),))) == []
    assert env.registry.discover(ServiceQuery(ser_instance_ids=(uid("nothing"),))) == []
    assert env.registry.discover(ServiceQuery(ser_category_id=uid("cat"))) == []


def test_discover_on_empty_registry(env: Env) -> None:
    assert env.registry.discover(ServiceQuery()) == []


@pytest.mark.parametrize(
    "selectors",
    [
        {"ser_instance_ids": ("x",), "ser_names": ("y",)},
        {"ser_instance_ids": ("x",), "ser_category_id": "z"},
        {"ser_names": ("y",), "ser_category_id": "z"},
        {"ser_instance_ids": ("x",), "ser_names": ("y",), "ser_category_id": "z"},
    ],
)
def test_discovery_selectors_are_mutually_exclusive(selectors: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="mutually exclusive"):
        ServiceQuery(**selectors)


def test_discover_scoped_to_one_application(env: Env, cat: Catalogue) -> None:
    mine = ServiceQuery(app_instance_id=cat.a.app_instance_id)
    assert cat.ids(env.registry.discover(mine)) == ["a", "c"]
    mine_by_name = replace(mine, ser_names=(cat.a.ser_name,))
    assert cat.ids(env.registry.discover(mine_by_name)) == ["a"]


def test_discover_scoped_to_unknown_application_is_not_found(env: Env) -> None:
    with pytest.raises(NotFound):
        env.registry.discover(ServiceQuery(app_instance_id=uid("ghost")))


# -- reading one service --------------------------------------------------------------------
def test_get_service(env: Env) -> None:
    service = env.register(env.app())
    assert env.registry.get_service(service.ser_instance_id) == service
    with pytest.raises(NotFound):
        env.registry.get_service(uid("nothing"))


def test_get_app_service(env: Env) -> None:
    service = env.register(env.app())
    got = env.registry.get_app_service(service.app_instance_id, service.ser_instance_id)
    assert got == service


PUT = draft(transport_id=None)


def test_app_scoped_access_to_another_apps_service_is_forbidden(env: Env) -> None:
    service = env.register(env.app())
    intruder = env.app()
    sid = service.ser_instance_id
    with pytest.raises(Forbidden):
        env.registry.get_app_service(intruder, sid)
    unchanged(env, lambda: env.registry.update_service(intruder, sid, PUT, None), Forbidden)
    unchanged(env, lambda: env.registry.deregister_service(intruder, sid), Forbidden)
    assert env.registry.get_service(sid) == service


def test_app_scoped_access_to_unknown_service_is_not_found(env: Env) -> None:
    app_id = env.app()
    sid = uid("nothing")
    with pytest.raises(NotFound, match="serviceId"):
        env.registry.get_app_service(app_id, sid)
    unchanged(env, lambda: env.registry.update_service(app_id, sid, PUT, None), NotFound)
    unchanged(env, lambda: env.registry.deregister_service(app_id, sid), NotFound)


def test_app_scoped_access_by_unknown_app_is_not_found(env: Env) -> None:
    service = env.register(env.app())
    with pytest.raises(NotFound, match="appInstanceId"):
        env.registry.get_app_service(uid("ghost"), service.ser_instance_id)


# -- update ---------------------------------------------------------------------------------
def test_update_with_matching_if_match(env: Env) -> None:
    service = env.register(env.app())
    after = env.registry.update_service(
        service.app_instance_id,
        service.ser_instance_id,
        draft(ser_name=service.ser_name, transport_id=None, version="2.0"),
        service.etag,
    )
    assert (after.version, after.revision) == ("2.0", 2)
    assert after.etag != service.etag
    assert env.registry.get_service(service.ser_instance_id) == after


@pytest.mark.parametrize("tag", ["*", " * "])
def test_update_with_wildcard_if_match(env: Env, tag: str) -> None:
    service = env.register(env.app())
    after = env.registry.update_service(
        service.app_instance_id,
        service.ser_instance_id,
        draft(ser_name=service.ser_name, transport_id=None, version="2.0"),
        tag,
    )
    assert after.revision == 2


def test_update_with_weak_if_match_fails(env: Env) -> None:
    # If-Match uses the strong comparison (RFC 9110 clause 13.1.1): a weak tag never matches.
    service = env.register(env.app())
    put = draft(ser_name=service.ser_name, transport_id=None, version="2.0")
    unchanged(
        env,
        lambda: env.registry.update_service(
            service.app_instance_id, service.ser_instance_id, put, f"W/{service.etag}"
        ),
        PreconditionFailed,
    )


def test_update_with_if_match_list_holding_the_current_tag(env: Env) -> None:
    service = env.register(env.app())
    put = draft(ser_name=service.ser_name, transport_id=None, version="2.0")
    tags = f'"{uid("old")}.1", {service.etag}'
    after = env.registry.update_service(service.app_instance_id, service.ser_instance_id, put, tags)
    assert after.revision == 2


def test_update_with_stale_if_match_fails_and_changes_nothing(env: Env) -> None:
    service = env.register(env.app())
    env.subscribe()
    stale_tag = service.etag
    current = env.update(service, version="2.0")
    put = draft(ser_name=service.ser_name, transport_id=None, version="3.0")
    unchanged(
        env,
        lambda: env.registry.update_service(
            service.app_instance_id, service.ser_instance_id, put, stale_tag
        ),
        PreconditionFailed,
    )
    assert env.registry.get_service(service.ser_instance_id) == current


def test_update_state_only_is_state_changed(env: Env) -> None:
    service = env.register(env.app())
    sub = env.subscribe()
    after = env.update(service, state=SUSPENDED)
    assert after.state is SUSPENDED
    assert [(n["changeType"], n["state"]) for n in env.notes(sub)] == [
        ("STATE_CHANGED", "SUSPENDED")
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"version": "9"},
        {"serializer": "XML"},
        {"ser_category": category("another")},
        {"scope_of_locality": LocalityType.NFVI_NODE},
        {"consumed_local_only": False},
        {"is_local": False},
        {"liveness_interval": 30},
        {"transport_info": own_transport()},
        {"version": "9", "state": INACTIVE},
    ],
)
def test_update_of_attributes_is_attributes_changed(env: Env, changes: dict[str, Any]) -> None:
    service = env.register(env.app())
    sub = env.subscribe()
    after = env.update(service, **changes)
    assert after.revision == 2
    assert [n["changeType"] for n in env.notes(sub)] == ["ATTRIBUTES_CHANGED"]


def test_update_with_new_transport_info_replaces_the_transport(env: Env) -> None:
    service = env.register(env.app())
    transport = own_transport()
    assert env.update(service, transport_info=transport).transport_info == transport


def test_update_without_transport_keeps_the_transport(env: Env) -> None:
    service = env.register(env.app(), transport_id=MQTT_ID)
    assert env.update(service, version="2").transport_info == service.transport_info


def test_update_without_liveness_interval_keeps_it(env: Env) -> None:
    service = env.register(env.app(), liveness_interval=60)
    after = env.update(service, version="2", liveness_interval=None)
    assert (after.liveness_interval, after.last_heartbeat) == (60, service.last_heartbeat)


def test_update_that_starts_heartbeats_sets_the_first_heartbeat(env: Env) -> None:
    service = env.register(env.app())
    env.clock.advance(10)
    after = env.update(service, liveness_interval=2)
    assert (after.liveness_interval, after.last_heartbeat) == (5, env.clock())


def test_unchanged_put_keeps_the_revision_and_notifies_nobody(env: Env) -> None:
    service = env.register(env.app())
    sub = env.subscribe()
    env.clock.advance(5)
    after = env.update(service)
    assert after == service
    assert env.registry.get_service(service.ser_instance_id).revision == 1
    assert env.notes(sub) == []


def test_unchanged_put_with_the_same_transport_info_keeps_the_revision(env: Env) -> None:
    service = env.register(env.app())
    assert env.update(service, transport_info=service.transport_info).revision == 1


def test_update_with_mismatching_ser_instance_id(env: Env) -> None:
    service = env.register(env.app())
    put = draft(ser_name=service.ser_name, transport_id=None, ser_instance_id=uid("other"))
    unchanged(
        env,
        lambda: env.registry.update_service(
            service.app_instance_id, service.ser_instance_id, put, None
        ),
        InvalidInput,
    )


def test_update_with_the_matching_ser_instance_id_is_accepted(env: Env) -> None:
    service = env.register(env.app())
    after = env.update(service, ser_instance_id=service.ser_instance_id, version="2")
    assert after.version == "2"


def test_update_with_transport_id_is_invalid(env: Env) -> None:
    service = env.register(env.app())
    unchanged(env, lambda: env.update(service, transport_id=REST_HTTP_ID), InvalidInput)


# -- deregistration -------------------------------------------------------------------------
def test_deregister_removes_and_announces_without_link(env: Env) -> None:
    service = env.register(env.app())
    sub = env.subscribe()
    env.registry.deregister_service(service.app_instance_id, service.ser_instance_id)
    with pytest.raises(NotFound):
        env.registry.get_service(service.ser_instance_id)
    [note] = env.notes(sub)
    assert note["changeType"] == "REMOVED"
    assert note["serInstanceId"] == service.ser_instance_id
    assert "link" not in note


# -- subscriptions --------------------------------------------------------------------------
def test_subscribe_list_get_and_unsubscribe(env: Env) -> None:
    app_id = env.app()
    criteria = FilteringCriteria(ser_names=("x",))
    sub = env.registry.subscribe(app_id, "http://sub.test/cb", criteria, env.clock() + 60)
    assert (sub.app_instance_id, sub.callback_reference) == (app_id, "http://sub.test/cb")
    assert (sub.criteria, sub.expiry_deadline) == (criteria, env.clock() + 60)
    assert env.registry.list_subscriptions(app_id) == [sub]
    assert env.registry.get_subscription(app_id, sub.subscription_id) == sub
    env.registry.unsubscribe(app_id, sub.subscription_id)
    assert env.registry.list_subscriptions(app_id) == []
    with pytest.raises(NotFound):
        env.registry.get_subscription(app_id, sub.subscription_id)


def test_list_subscriptions_shows_only_the_apps_own(env: Env) -> None:
    mine, theirs = env.app(), env.app()
    first = env.subscribe(app_id=mine)
    env.subscribe(app_id=theirs)
    second = env.subscribe(app_id=mine)
    listed = [s.subscription_id for s in env.registry.list_subscriptions(mine)]
    assert listed == [first, second]


def test_subscription_of_another_app_is_forbidden(env: Env) -> None:
    sub = env.subscribe()
    intruder = env.app()
    with pytest.raises(Forbidden):
        env.registry.get_subscription(intruder, sub)
    unchanged(env, lambda: env.registry.unsubscribe(intruder, sub), Forbidden)


def test_unknown_subscription_is_not_found(env: Env) -> None:
    app_id = env.app()
    with pytest.raises(NotFound, match="subscriptionId"):
        env.registry.get_subscription(app_id, uid("nothing"))
    unchanged(env, lambda: env.registry.unsubscribe(app_id, uid("nothing")), NotFound)


def test_subscriptions_of_unknown_app_are_not_found(env: Env) -> None:
    ghost = uid("ghost")
    with pytest.raises(NotFound, match="appInstanceId"):
        env.registry.list_subscriptions(ghost)
    unchanged(
        env,
        lambda: env.registry.subscribe(ghost, "http://sub.test/cb", FilteringCriteria()),
        NotFound,
    )


@pytest.mark.parametrize("offset", [0.0, -1.0])
def test_subscribe_with_expiry_in_the_past_is_invalid(env: Env, offset: float) -> None:
    app_id = env.app()
    deadline = env.clock() + offset
    unchanged(
        env,
        lambda: env.registry.subscribe(app_id, "http://x.test/", FilteringCriteria(), deadline),
        InvalidInput,
    )


def test_unsubscribe_drops_pending_messages_of_that_subscription_only(env: Env) -> None:
    producer = env.app()
    gone, kept = env.subscribe(), env.subscribe()
    env.register(producer)
    env.register(producer)
    owner = env.uows.store.subscriptions[gone].app_instance_id
    env.registry.unsubscribe(owner, gone)
    assert {row.state for row in env.uows.messages(gone)} == {DeliveryState.DROPPED}
    assert [row.state for row in env.uows.messages(kept)] == [DeliveryState.PENDING] * 2
    assert env.uows.stats().pending == 2


# -- notifications --------------------------------------------------------------------------
def test_added_notification_payload(env: Env) -> None:
    sub_app = env.app()
    callback = f"http://sub.test/{uid('cb')}"
    sub = env.subscribe(app_id=sub_app, callback=callback)
    service = env.register(env.app())
    [row] = env.uows.messages(sub)
    assert row.callback_uri == callback
    assert row.state is DeliveryState.PENDING
    assert row.created_at == env.clock()
    assert row.body == {
        "notificationType": "SerAvailabilityNotification",
        "serviceReferences": [
            {
                "serName": service.ser_name,
                "serInstanceId": service.ser_instance_id,
                "state": "ACTIVE",
                "changeType": "ADDED",
                "link": {"href": env.urls.discovered_service(service.ser_instance_id)},
            }
        ],
        "_links": {"subscription": {"href": env.urls.subscription(sub_app, sub)}},
    }


def test_every_change_is_announced_in_order(env: Env) -> None:
    sub = env.subscribe()
    service = env.register(env.app())
    service = env.update(service, state=SUSPENDED)
    service = env.update(service, version="2")
    env.registry.deregister_service(service.app_instance_id, service.ser_instance_id)
    assert [n["changeType"] for n in env.notes(sub)] == [
        "ADDED",
        "STATE_CHANGED",
        "ATTRIBUTES_CHANGED",
        "REMOVED",
    ]


def test_no_subscribers_no_messages(env: Env) -> None:
    env.register(env.app())
    assert env.uows.messages() == []


def test_each_matching_subscriber_gets_its_own_message(env: Env) -> None:
    subs = [env.subscribe() for _ in range(3)]
    env.register(env.app())
    rows: list[OutboxRow] = env.uows.messages()
    assert sorted(row.subscription_id for row in rows) == sorted(subs)
    assert len({row.callback_uri for row in rows}) == 3


def criteria_cases(name: str, cat_id: str) -> list[tuple[FilteringCriteria, bool]]:
    """(criteria, whether it selects an ACTIVE, local service named `name` in `cat_id`)."""
    return [
        (FilteringCriteria(), True),
        (FilteringCriteria(ser_names=(name,)), True),
        (FilteringCriteria(ser_names=("other", name)), True),
        (FilteringCriteria(ser_names=("other",)), False),
        (FilteringCriteria(ser_categories=(category(cat_id, "renamed"),)), True),
        (FilteringCriteria(ser_categories=(category("x"), category(cat_id))), True),
        (FilteringCriteria(ser_categories=(category("x"),)), False),
        (FilteringCriteria(states=(ACTIVE,)), True),
        (FilteringCriteria(states=(SUSPENDED, ACTIVE)), True),
        (FilteringCriteria(states=(INACTIVE, SUSPENDED)), False),
        (FilteringCriteria(is_local=True), True),
        (FilteringCriteria(is_local=False), False),
        (FilteringCriteria(ser_names=(name,), states=(ACTIVE,), is_local=True), True),
        (FilteringCriteria(ser_names=(name,), states=(INACTIVE,)), False),
        (FilteringCriteria(ser_names=(name,), is_local=False), False),
        (FilteringCriteria(ser_categories=(category(cat_id),), states=(SUSPENDED,)), False),
    ]


@pytest.mark.parametrize("case", range(len(criteria_cases("n", "c"))))
def test_notification_filtering_criteria(env: Env, case: int) -> None:
    name, cat_id = uid("name"), uid("cat")
    criteria, selected = criteria_cases(name, cat_id)[case]
    sub = env.subscribe(criteria)
    env.register(env.app(), ser_name=name, ser_category=category(cat_id))
    assert len(env.notes(sub)) == (1 if selected else 0)


def test_notification_by_instance_id(env: Env) -> None:
    producer = env.app()
    watched, other = env.register(producer), env.register(producer)
    sub = env.subscribe(FilteringCriteria(ser_instance_ids=(uid("x"), watched.ser_instance_id)))
    env.update(other, version="2")
    env.update(watched, version="2")
    env.registry.deregister_service(producer, other.ser_instance_id)
    assert [(n["serInstanceId"], n["changeType"]) for n in env.notes(sub)] == [
        (watched.ser_instance_id, "ATTRIBUTES_CHANGED")
    ]


def test_states_criteria_look_at_the_state_after_the_change(env: Env) -> None:
    service = env.register(env.app())
    sub = env.subscribe(FilteringCriteria(states=(SUSPENDED,)))
    env.update(service, state=SUSPENDED)
    env.update(service, state=ACTIVE)  # back to ACTIVE: no longer selected
    assert [(n["changeType"], n["state"]) for n in env.notes(sub)] == [
        ("STATE_CHANGED", "SUSPENDED")
    ]


def test_service_without_category_does_not_match_category_criteria(env: Env) -> None:
    sub = env.subscribe(FilteringCriteria(ser_categories=(category("c"),)))
    env.register(env.app(), ser_category=None)
    assert env.notes(sub) == []


def test_expired_subscription_gets_nothing(env: Env) -> None:
    expiring = env.subscribe(expiry_deadline=env.clock() + 10)
    forever = env.subscribe()
    env.clock.advance(10)
    env.register(env.app())
    assert env.notes(expiring) == []
    assert len(env.notes(forever)) == 1


def test_subscription_before_its_expiry_is_notified(env: Env) -> None:
    sub = env.subscribe(expiry_deadline=env.clock() + 10)
    env.clock.advance(9.5)
    env.register(env.app())
    assert len(env.notes(sub)) == 1


def test_register_is_atomic_with_its_notifications(env: Env) -> None:
    app_id = env.app()
    env.subscribe()
    env.uows.fail_enqueue = RuntimeError("outbox down")
    unchanged(env, lambda: env.register(app_id), RuntimeError)
    assert env.registry.discover(ServiceQuery()) == []


def test_deregister_is_atomic_with_its_notifications(env: Env) -> None:
    service = env.register(env.app())
    env.subscribe()
    env.uows.fail_enqueue = RuntimeError("outbox down")
    unchanged(
        env,
        lambda: env.registry.deregister_service(service.app_instance_id, service.ser_instance_id),
        RuntimeError,
    )
    assert env.registry.get_service(service.ser_instance_id) == service


# -- liveness -------------------------------------------------------------------------------
def test_liveness_reports_state_heartbeat_and_interval(env: Env) -> None:
    service = env.register(env.app(), liveness_interval=30)
    info = env.registry.liveness(service.app_instance_id, service.ser_instance_id)
    assert (info.state, info.last_heartbeat, info.interval) == (ACTIVE, env.clock(), 30)


def test_heartbeat_records_the_time(env: Env) -> None:
    service = env.register(env.app(), liveness_interval=30)
    sub = env.subscribe()
    env.clock.advance(12.5)
    info = env.registry.heartbeat(service.app_instance_id, service.ser_instance_id, ACTIVE)
    assert (info.state, info.last_heartbeat, info.interval) == (ACTIVE, env.clock(), 30)
    stored = env.registry.get_service(service.ser_instance_id)
    assert (stored.last_heartbeat, stored.revision) == (env.clock(), 1)
    assert env.notes(sub) == []


def test_heartbeat_of_an_active_service_keeps_discovery_caches_valid(env: Env) -> None:
    service = env.register(env.app(), liveness_interval=30)
    version = env.registry.registry_version()
    env.clock.advance(3)
    env.registry.heartbeat(service.app_instance_id, service.ser_instance_id, ACTIVE)
    assert env.registry.registry_version() == version


@pytest.mark.parametrize("state", [INACTIVE, SUSPENDED])
def test_heartbeat_must_set_active(env: Env, state: ServiceState) -> None:
    service = env.register(env.app(), liveness_interval=30)
    unchanged(
        env,
        lambda: env.registry.heartbeat(service.app_instance_id, service.ser_instance_id, state),
        InvalidInput,
    )


def test_heartbeat_of_inactive_service_is_a_conflict(env: Env) -> None:
    service = env.register(env.app(), liveness_interval=30, state=INACTIVE)
    unchanged(
        env,
        lambda: env.registry.heartbeat(service.app_instance_id, service.ser_instance_id, ACTIVE),
        Conflict,
    )


def test_heartbeat_reactivates_a_suspended_service(env: Env) -> None:
    service = env.register(env.app(), liveness_interval=30)
    service = env.update(service, state=SUSPENDED)
    sub = env.subscribe()
    env.clock.advance(3)
    info = env.registry.heartbeat(service.app_instance_id, service.ser_instance_id, ACTIVE)
    assert (info.state, info.last_heartbeat) == (ACTIVE, env.clock())
    stored = env.registry.get_service(service.ser_instance_id)
    assert (stored.state, stored.revision) == (ACTIVE, service.revision + 1)
    assert [(n["changeType"], n["state"]) for n in env.notes(sub)] == [("STATE_CHANGED", "ACTIVE")]


def test_liveness_of_service_without_heartbeats_is_not_found(env: Env) -> None:
    service = env.register(env.app(), liveness_interval=None)
    app_id, sid = service.app_instance_id, service.ser_instance_id
    with pytest.raises(NotFound, match="heartbeats"):
        env.registry.liveness(app_id, sid)
    unchanged(env, lambda: env.registry.heartbeat(app_id, sid, ACTIVE), NotFound)


def test_liveness_of_another_apps_service_is_forbidden(env: Env) -> None:
    service = env.register(env.app(), liveness_interval=30)
    intruder = env.app()
    with pytest.raises(Forbidden):
        env.registry.liveness(intruder, service.ser_instance_id)
    unchanged(
        env,
        lambda: env.registry.heartbeat(intruder, service.ser_instance_id, ACTIVE),
        Forbidden,
    )


def test_liveness_of_unknown_service_is_not_found(env: Env) -> None:
    app_id = env.app()
    with pytest.raises(NotFound):
        env.registry.liveness(app_id, uid("nothing"))
    unchanged(env, lambda: env.registry.heartbeat(app_id, uid("nothing"), ACTIVE), NotFound)


# -- transactions ---------------------------------------------------------------------------
def test_reads_do_not_commit_and_writes_commit_once(env: Env) -> None:
    service = env.register(env.app())
    commits = env.uows.commits
    env.registry.discover(ServiceQuery())
    env.registry.get_service(service.ser_instance_id)
    assert env.uows.commits == commits
    env.update(service, version="2")
    assert env.uows.commits == commits + 1
    assert all(uow.write for uow in env.uows.opened if uow.committed)


# -- liveness enforcement -------------------------------------------------------------------
def test_silent_service_is_suspended_then_deactivated_and_subscribers_told(env: Env) -> None:
    sub_id = env.subscribe()
    service = env.register(env.app(), liveness_interval=10)
    assert env.registry.sweep_liveness() == 0
    env.clock.advance(15)  # one interval plus the grace: still fine
    assert env.registry.sweep_liveness() == 0
    env.clock.advance(1)
    assert env.registry.sweep_liveness() == 1
    assert env.registry.get_service(service.ser_instance_id).state is SUSPENDED
    env.clock.advance(15)  # 31 s of silence: more than three intervals
    assert env.registry.sweep_liveness() == 1
    assert env.registry.get_service(service.ser_instance_id).state is INACTIVE
    assert env.registry.sweep_liveness() == 0
    assert [(n["changeType"], n["state"]) for n in env.notes(sub_id)] == [
        ("ADDED", "ACTIVE"),
        ("STATE_CHANGED", "SUSPENDED"),
        ("STATE_CHANGED", "INACTIVE"),
    ]
    with pytest.raises(Conflict):
        env.registry.heartbeat(service.app_instance_id, service.ser_instance_id, ACTIVE)


def test_heartbeats_keep_a_service_active_and_revive_a_suspended_one(env: Env) -> None:
    service = env.register(env.app(), liveness_interval=10)
    for _ in range(5):
        env.clock.advance(9)
        env.registry.heartbeat(service.app_instance_id, service.ser_instance_id, ACTIVE)
        assert env.registry.sweep_liveness() == 0
    env.clock.advance(20)
    assert env.registry.sweep_liveness() == 1
    info = env.registry.heartbeat(service.app_instance_id, service.ser_instance_id, ACTIVE)
    assert info.state is ACTIVE
    assert env.registry.get_service(service.ser_instance_id).state is ACTIVE


def test_services_without_heartbeats_are_never_swept(env: Env) -> None:
    service = env.register(env.app())
    env.clock.advance(10_000)
    assert env.registry.sweep_liveness() == 0
    assert env.registry.get_service(service.ser_instance_id).state is ACTIVE
