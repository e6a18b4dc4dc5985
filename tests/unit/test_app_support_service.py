"""Unit tests of AppSupport (registration, readiness, termination) and TerminationSubscriptions
on the in-memory fakes of our ports."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from mec_platform.appsupport.model import (
    PLATFORM_FEATURES,
    AppInfo,
    AppState,
    FeatureDependency,
    OperationAction,
    ServiceDependency,
    Termination,
)
from mec_platform.appsupport.rules import (
    DnsRule,
    FilterType,
    IpAddressType,
    RuleState,
    TrafficAction,
    TrafficFilter,
    TrafficRule,
)
from mec_platform.appsupport.service import AppSupport, AppSupportOptions
from mec_platform.appsupport.subscriptions import TerminationSubscriptions
from mec_platform.appsupport.urls import AppSupportUrls
from mec_platform.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
)
from mec_platform.notifications.model import DeliveryState
from mec_platform.registry.model import (
    AppInstance,
    CategoryRef,
    FilteringCriteria,
    Service,
    ServiceDraft,
    ServiceQuery,
    ServiceState,
)
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.transports import MQTT_ID, REST_HTTP_ID, platform_transports
from mec_platform.registry.urls import ResourceUrls
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory, SequentialIds

API_ROOT = "http://mec.test:8080"
STOPPING, TERMINATING = OperationAction.STOPPING, OperationAction.TERMINATING


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def info(name: str | None = None, **changes: Any) -> AppInfo:
    app_name = name or uid("name")
    return replace(AppInfo(app_name=app_name, document={"appName": app_name}), **changes)


def dns(rule_id: str | None = None, domain: str | None = None, **changes: Any) -> DnsRule:
    rule = DnsRule(
        dns_rule_id=rule_id or uid("dns"),
        domain_name=domain or f"{uid('host')}.mec.test",
        ip_address_type=IpAddressType.IP_V4,
        ip_address="10.1.2.3",
        state=RuleState.ACTIVE,
    )
    return replace(rule, **changes)


def traffic(rule_id: str | None = None, **changes: Any) -> TrafficRule:
    rule = TrafficRule(
        traffic_rule_id=rule_id or uid("tr"),
        filter_type=FilterType.FLOW,
        priority=10,
        traffic_filter=(TrafficFilter(dst_address=("10.9.0.0/16",), protocol=("TCP",)),),
        action=TrafficAction.DROP,
        state=RuleState.ACTIVE,
    )
    return replace(rule, **changes)


@dataclass
class Env:
    uows: InMemoryUnitOfWorkFactory
    clock: FakeClock
    urls: AppSupportUrls
    registry: ServiceRegistry
    apps: AppSupport
    subs: TerminationSubscriptions
    dataplane: list[int] = field(default_factory=list)
    checked: list[list[TrafficRule]] = field(default_factory=list)

    def managed(self, **kwargs: Any) -> str:
        """A managed instance as the admin command creates it."""
        return self.apps.add_app_instance(uid("app"), uid("app"), **kwargs).app.app_instance_id

    def registered(self, **changes: Any) -> str:
        """An instance that exists through its registration only."""
        return self.apps.register(info(**changes), None).app.app_instance_id

    def service(self, app_id: str, name: str | None = None, **changes: Any) -> Service:
        draft = ServiceDraft(
            ser_name=name or uid("svc"),
            version="1.0",
            state=ServiceState.ACTIVE,
            serializer="JSON",
            transport_id=REST_HTTP_ID,
        )
        return self.registry.register_service(app_id, replace(draft, **changes))

    def watcher(self, criteria: FilteringCriteria | None = None) -> str:
        """An availability subscription of a separate consumer app."""
        consumer = self.managed()
        callback = f"http://consumer.test/{uid('cb')}"
        subscription = self.registry.subscribe(consumer, callback, criteria or FilteringCriteria())
        return subscription.subscription_id

    def changes(self, subscription_id: str) -> list[tuple[str, str]]:
        """(serInstanceId, changeType) of what was queued for an availability subscription."""
        return [
            (ref["serInstanceId"], ref["changeType"])
            for row in self.uows.messages(subscription_id)
            for ref in row.body["serviceReferences"]
        ]

    def app(self, app_id: str) -> AppInstance | None:
        return self.uows.store.apps.get(app_id)


def make_env(require_ready: bool = False, **options: Any) -> Env:
    uows = InMemoryUnitOfWorkFactory()
    clock = FakeClock()
    ids = SequentialIds()
    registry = ServiceRegistry(
        uows,
        ResourceUrls(API_ROOT),
        platform_transports(API_ROOT, "mqtt.test", 1883),
        clock,
        ids,
        require_ready=require_ready,
    )
    urls = AppSupportUrls(API_ROOT)
    dataplane: list[int] = []
    checked: list[list[TrafficRule]] = []
    apps = AppSupport(
        uows,
        registry,
        urls,
        clock,
        ids,
        AppSupportOptions(**options),
        notify_dataplane=lambda: dataplane.append(1),
        check_rules=lambda rules: checked.append(list(rules)),
    )
    subs = TerminationSubscriptions(uows, clock, ids)
    return Env(uows, clock, urls, registry, apps, subs, dataplane, checked)


@pytest.fixture
def env() -> Env:
    return make_env()


@pytest.fixture
def gated() -> Env:
    """Readiness gates discovery and announcements (`require_ready=True`)."""
    return make_env(require_ready=True)


def unchanged(env: Env, action: Callable[[], object], error: type[Exception]) -> str:
    """`action` raises `error` and leaves the committed store as it was; returns the detail."""
    before = env.uows.store.snapshot()
    with pytest.raises(error) as raised:
        action()
    assert env.uows.store == before
    return str(raised.value)


# -- instances created by the platform ------------------------------------------------------
def test_add_app_instance_stores_its_rules_and_wakes_the_data_plane(env: Env) -> None:
    rules = [dns("d2"), dns("d1", state=RuleState.INACTIVE)]
    flows = [traffic("t1", priority=20), traffic("t2", priority=5, state=RuleState.INACTIVE)]
    app = env.apps.add_app_instance("cam", dns_rules=rules, traffic_rules=flows).app
    assert app.managed and not app.registered and app.state is AppState.INSTANTIATED
    with env.uows() as uow:
        assert uow.dns_rules.list_for_app(app.app_instance_id) == [rules[1], rules[0]]
        assert uow.traffic_rules.list_for_app(app.app_instance_id) == [flows[1], flows[0]]
        assert uow.dns_rules.version() == 4
    assert env.dataplane == [1]
    assert env.checked == [[flows[0]]]  # only ACTIVE traffic rules go to the data plane check


def test_add_app_instance_without_rules_does_not_wake_the_data_plane(env: Env) -> None:
    env.managed()
    assert env.dataplane == []


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"dns_rules": [dns("same"), dns("same")]}, "dnsRuleId: given more than once: same"),
        ({"traffic_rules": [traffic("x"), traffic("x")]}, "trafficRuleId"),
        ({"traffic_rules": [traffic(action=TrafficAction.FORWARD_ENCAPSULATED)]}, "action"),
        ({"traffic_rules": [traffic(priority=256)]}, "priority"),
    ],
)
def test_add_app_instance_refuses_bad_rules(env: Env, kwargs: Any, fragment: str) -> None:
    detail = unchanged(env, lambda: env.apps.add_app_instance("cam", **kwargs), InvalidInput)
    assert fragment in detail


def test_add_app_instance_refuses_duplicates_and_empty_names(env: Env) -> None:
    app_id = env.managed()
    unchanged(env, lambda: env.apps.add_app_instance("again", app_id), Conflict)
    unchanged(env, lambda: env.apps.add_app_instance("  "), InvalidInput)


def test_add_app_instance_honours_the_rule_check(env: Env) -> None:
    def refuse(rules: Sequence[TrafficRule]) -> None:
        if rules:
            raise Conflict("state: no packet filter")

    apps = AppSupport(
        env.uows, env.registry, env.urls, env.clock, SequentialIds(), check_rules=refuse
    )
    unchanged(env, lambda: apps.add_app_instance("cam", traffic_rules=[traffic()]), Conflict)
    inactive = traffic(state=RuleState.INACTIVE)
    app = apps.add_app_instance("cam", traffic_rules=[inactive]).app
    assert env.uows.store.traffic_rules[(app.app_instance_id, inactive.traffic_rule_id)]


def test_add_app_instance_refuses_a_domain_another_app_serves(env: Env) -> None:
    domain = f"{uid('host')}.mec.test"
    env.managed(dns_rules=[dns(domain=domain)])
    unchanged(env, lambda: env.managed(dns_rules=[dns(domain=domain.upper())]), Conflict)


def test_remove_app_instance_takes_everything_along(env: Env) -> None:
    app_id = env.managed(dns_rules=[dns()], traffic_rules=[traffic()])
    service = env.service(app_id)
    watcher = env.watcher()
    env.subs.subscribe(app_id, "http://app.test/term")
    env.apps.remove_app_instance(app_id)
    store = env.uows.store
    assert env.app(app_id) is None
    assert service.ser_instance_id not in store.services
    assert store.dns_rules == {} and store.traffic_rules == {}
    assert store.termination_subscriptions == {}
    assert env.changes(watcher)[-1] == (service.ser_instance_id, "REMOVED")
    unchanged(env, lambda: env.apps.remove_app_instance(app_id), NotFound)


# -- registration ---------------------------------------------------------------------------
def test_register_allocates_an_id_and_creates_an_unmanaged_instance(env: Env) -> None:
    registration = info("camera")
    app = env.apps.register(registration, None).app
    assert app.app_instance_id
    assert app == AppInstance(app.app_instance_id, "camera", managed=False, info=registration)
    assert env.apps.registration(app.app_instance_id) == app
    assert env.apps.list_app_instances() == [app]


def test_register_with_an_id_uses_it(env: Env) -> None:
    app_id = uid("app")
    app = env.apps.register(info(), app_id).app
    assert app.app_instance_id == app_id and not app.managed


def test_is_ins_by_mec_needs_an_id(env: Env) -> None:
    detail = unchanged(env, lambda: env.apps.register(info(is_ins_by_mec=True), None), InvalidInput)
    assert detail.startswith("appInstanceId")


def test_is_ins_by_mec_needs_an_existing_instance(env: Env) -> None:
    unchanged(env, lambda: env.apps.register(info(is_ins_by_mec=True), uid("app")), NotFound)


def test_register_attaches_to_a_managed_instance(env: Env) -> None:
    rule = dns()
    app_id = env.managed(dns_rules=[rule])
    registration = info(is_ins_by_mec=True)
    app = env.apps.register(registration, app_id).app
    assert (app.managed, app.info, app.revision) == (True, registration, 2)
    assert env.apps.registration(app_id) == app
    assert env.uows.store.dns_rules == {(app_id, rule.dns_rule_id): rule}


def test_second_registration_is_a_conflict(env: Env) -> None:
    registered = env.registered()
    unchanged(env, lambda: env.apps.register(info(), registered), Conflict)
    managed = env.managed()
    env.apps.register(info(is_ins_by_mec=True), managed)
    unchanged(env, lambda: env.apps.register(info(is_ins_by_mec=True), managed), Conflict)


def test_offered_features_are_accepted(env: Env) -> None:
    wanted = tuple(FeatureDependency(f.name, f.version) for f in PLATFORM_FEATURES)
    app = env.apps.register(info(features_required=wanted), None).app
    assert app.info is not None and app.info.features_required == wanted


@pytest.mark.parametrize(
    "bad", [FeatureDependency("Teleport", "1.0"), FeatureDependency("DnsRules", "9.9.9")]
)
def test_unknown_feature_is_invalid_and_names_its_index(env: Env, bad: FeatureDependency) -> None:
    wanted = (FeatureDependency("ServiceManagement", "3.1.1"), bad)
    registration = info(features_required=wanted)
    detail = unchanged(env, lambda: env.apps.register(registration, None), InvalidInput)
    assert detail.startswith("appFeatureRequired[1]:") and bad.feature_name in detail


@dataclass(frozen=True)
class Offered:
    name: str
    category: str
    service: Service


@pytest.fixture
def offered(env: Env) -> Offered:
    """One ACTIVE REST service in a category and an INACTIVE one, by a separate producer."""
    producer = env.managed()
    name, category = uid("svc"), uid("cat")
    ref = CategoryRef(f"{API_ROOT}/cat/{category}", category, "cat", "1")
    service = env.service(producer, name, ser_category=ref, version="2.0")
    env.service(producer, uid("off"), state=ServiceState.INACTIVE, version="2.0")
    env.service(producer, f"{name}-mq", transport_id=MQTT_ID, version="2.0")
    return Offered(name, category, service)


@pytest.mark.parametrize(
    ("dependency", "satisfied"),
    [
        ({}, True),
        ({"ser_category_id": "<cat>"}, True),
        ({"transport_types": ("MB_TOPIC_BASED", "REST_HTTP")}, True),
        ({"ser_category_id": "<cat>", "transport_types": ("REST_HTTP",)}, True),
        ({"version": "1.0"}, False),
        ({"version": "2"}, False),
        ({"ser_category_id": "other-category"}, False),
        ({"transport_types": ("MB_TOPIC_BASED",)}, False),
        ({"ser_name": "nobody-offers-this"}, False),
    ],
)
def test_service_dependencies(
    env: Env, offered: Offered, dependency: dict[str, Any], satisfied: bool
) -> None:
    values: dict[str, Any] = {"ser_name": offered.name, "version": "2.0", **dependency}
    if values.get("ser_category_id") == "<cat>":
        values["ser_category_id"] = offered.category
    registration = info(services_required=(ServiceDependency(**values),))
    if satisfied:
        assert env.apps.register(registration, None).app.registered
    else:
        detail = unchanged(env, lambda: env.apps.register(registration, None), InvalidInput)
        assert detail.startswith("appServiceRequired[0]:")


def test_only_an_active_service_satisfies_a_dependency(env: Env, offered: Offered) -> None:
    inactive = [s for s in env.uows.store.services.values() if s.state is ServiceState.INACTIVE]
    wanted = ServiceDependency(inactive[0].ser_name, "2.0")
    fine = ServiceDependency(offered.name, "2.0")
    registration = info(services_required=(fine, wanted))
    detail = unchanged(env, lambda: env.apps.register(registration, None), InvalidInput)
    assert detail.startswith("appServiceRequired[1]:")


def test_update_registration_replaces_the_info(env: Env) -> None:
    app_id = env.registered()
    after = info("renamed", features_required=(FeatureDependency("Timing", "3.1.1"),))
    app = env.apps.update_registration(app_id, after, app_id)
    assert (app.info, app.revision) == (after, 2)
    assert env.apps.registration(app_id) == app
    assert env.apps.update_registration(app_id, info(), None).revision == 3


def test_update_registration_checks(env: Env) -> None:
    app_id = env.registered()
    detail = unchanged(
        env, lambda: env.apps.update_registration(app_id, info(), "other"), InvalidInput
    )
    assert detail.startswith("appInstanceId")
    unchanged(env, lambda: env.apps.update_registration(uid("app"), info(), None), NotFound)
    never_registered = env.managed()
    unchanged(env, lambda: env.apps.update_registration(never_registered, info(), None), NotFound)
    bad = info(features_required=(FeatureDependency("Teleport", "1"),))
    unchanged(env, lambda: env.apps.update_registration(app_id, bad, None), InvalidInput)


def test_registration_of_unknown_or_unregistered_instance_is_not_found(env: Env) -> None:
    with pytest.raises(NotFound):
        env.apps.registration(uid("app"))
    with pytest.raises(NotFound):
        env.apps.registration(env.managed())


def _populate(env: Env, app_id: str) -> tuple[Service, str, str, str]:
    """A service, an own availability subscription and a termination subscription."""
    name = uid("svc")
    watcher = env.watcher(FilteringCriteria(ser_names=(name,)))
    service = env.service(app_id, name)
    own = env.registry.subscribe(app_id, "http://app.test/avail", FilteringCriteria())
    env.service(app_id)  # queues a message for `own`, which must be dropped with it
    term = env.subs.subscribe(app_id, "http://app.test/term")
    return service, watcher, own.subscription_id, term.subscription_id


def test_deregister_deletes_an_unmanaged_instance_with_everything(env: Env) -> None:
    app_id = env.registered()
    with env.uows(write=True) as uow:  # rules given by the platform outside the descriptor
        uow.dns_rules.add(app_id, dns())
        uow.traffic_rules.add(app_id, traffic())
        uow.commit()
    service, watcher, own, term = _populate(env, app_id)
    rules_before = env.uows.store.rules_version
    env.apps.deregister(app_id)
    store = env.uows.store
    assert env.app(app_id) is None
    assert [s for s in store.services.values() if s.app_instance_id == app_id] == []
    assert own not in store.subscriptions and term not in store.termination_subscriptions
    assert store.dns_rules == {} and store.traffic_rules == {}
    assert store.rules_version > rules_before
    assert env.changes(watcher) == [
        (service.ser_instance_id, "ADDED"),
        (service.ser_instance_id, "REMOVED"),
    ]
    assert {row.state for row in env.uows.messages(own)} == {DeliveryState.DROPPED}
    assert env.dataplane == [1]


def test_deregister_of_a_managed_instance_keeps_it_with_its_rules(env: Env) -> None:
    rules = {"dns_rules": [dns()], "traffic_rules": [traffic()]}
    app_id = env.managed(**rules)
    env.apps.register(info(is_ins_by_mec=True), app_id)
    env.apps.confirm_ready(app_id, "READY")
    service, watcher, own, term = _populate(env, app_id)
    rules_before = dict(env.uows.store.dns_rules), dict(env.uows.store.traffic_rules)
    env.apps.deregister(app_id)
    store = env.uows.store
    app = env.app(app_id)
    assert app is not None and app.managed
    assert (app.info, app.state, app.revision) == (None, AppState.INSTANTIATED, 4)
    assert (store.dns_rules, store.traffic_rules) == rules_before
    assert [s for s in store.services.values() if s.app_instance_id == app_id] == []
    assert own not in store.subscriptions and term not in store.termination_subscriptions
    assert env.changes(watcher)[-1] == (service.ser_instance_id, "REMOVED")
    with pytest.raises(NotFound):
        env.apps.registration(app_id)
    unchanged(env, lambda: env.apps.deregister(app_id), NotFound)
    assert env.apps.register(info(is_ins_by_mec=True), app_id).app.registered


def test_deregister_of_unknown_instance_is_not_found(env: Env) -> None:
    unchanged(env, lambda: env.apps.deregister(uid("app")), NotFound)


# -- readiness ------------------------------------------------------------------------------
def test_confirm_ready(env: Env) -> None:
    app_id = env.managed()
    env.apps.confirm_ready(app_id, "READY")
    app = env.app(app_id)
    assert app is not None and app.ready and app.revision == 2
    unchanged(env, lambda: env.apps.confirm_ready(app_id, "READY"), Conflict)


def test_confirm_ready_checks(env: Env) -> None:
    app_id = env.managed()
    detail = unchanged(env, lambda: env.apps.confirm_ready(app_id, "STARTING"), InvalidInput)
    assert detail.startswith("indication")
    unchanged(env, lambda: env.apps.confirm_ready(uid("app"), "READY"), NotFound)


def test_confirm_ready_during_termination_is_a_conflict(env: Env) -> None:
    app_id = env.managed()
    env.subs.subscribe(app_id, "http://app.test/term")
    env.apps.begin_termination(app_id, STOPPING)
    unchanged(env, lambda: env.apps.confirm_ready(app_id, "READY"), Conflict)


def test_confirmations_are_rate_limited_per_application() -> None:
    env = make_env(confirm_limit=3, confirm_window=10.0)
    app_id, other = env.managed(), env.managed()
    env.apps.confirm_ready(app_id, "READY")
    for _ in range(2):
        with pytest.raises(Conflict):
            env.apps.confirm_ready(app_id, "READY")
    with pytest.raises(TooManyRequests) as refused:
        env.apps.confirm_ready(app_id, "READY")
    assert refused.value.retry_after == 10
    env.clock.advance(6.5)
    with pytest.raises(TooManyRequests) as refused:
        env.apps.confirm_ready(app_id, "READY")
    assert 1 <= refused.value.retry_after <= 4
    env.apps.confirm_ready(other, "READY")  # another application has its own window
    with pytest.raises(Conflict):  # its own termination confirmations have their own window
        env.apps.confirm_termination(app_id, TERMINATING)
    env.clock.advance(3.5)
    with pytest.raises(Conflict):  # the window has passed: the request is looked at again
        env.apps.confirm_ready(app_id, "READY")


def test_rate_limited_confirm_termination() -> None:
    env = make_env(confirm_limit=2, confirm_window=5.0)
    app_id = env.managed()
    for _ in range(2):
        with pytest.raises(Conflict):
            env.apps.confirm_termination(app_id, STOPPING)
    with pytest.raises(TooManyRequests) as refused:
        env.apps.confirm_termination(app_id, STOPPING)
    assert refused.value.retry_after >= 1
    env.clock.advance(5)
    with pytest.raises(Conflict):
        env.apps.confirm_termination(app_id, STOPPING)


def test_without_gating_services_are_visible_before_ready(env: Env) -> None:
    watcher = env.watcher()
    app_id = env.managed()
    service = env.service(app_id)
    assert env.registry.discover(ServiceQuery()) == [service]
    env.apps.confirm_ready(app_id, "READY")
    assert env.changes(watcher) == [(service.ser_instance_id, "ADDED")]


def test_gated_services_of_a_not_ready_app_are_hidden(gated: Env) -> None:
    watcher = gated.watcher()
    app_id = gated.managed()
    service = gated.service(app_id)
    assert gated.registry.discover(ServiceQuery()) == []
    assert gated.registry.discover(ServiceQuery(ser_names=(service.ser_name,))) == []
    with pytest.raises(NotFound):
        gated.registry.get_service(service.ser_instance_id)
    assert gated.changes(watcher) == []
    # The producer itself still sees its own services.
    assert gated.registry.discover(ServiceQuery(app_instance_id=app_id)) == [service]


def test_gated_confirm_ready_announces_and_publishes(gated: Env) -> None:
    app_id = gated.managed()
    services = [gated.service(app_id), gated.service(app_id)]
    watcher = gated.watcher()
    picky = gated.watcher(FilteringCriteria(ser_names=(services[1].ser_name,)))
    gated.apps.confirm_ready(app_id, "READY")
    assert gated.registry.discover(ServiceQuery()) == services
    assert gated.registry.get_service(services[0].ser_instance_id) == services[0]
    assert gated.changes(watcher) == [(s.ser_instance_id, "ADDED") for s in services]
    assert gated.changes(picky) == [(services[1].ser_instance_id, "ADDED")]
    later = gated.service(app_id)
    assert gated.changes(watcher)[-1] == (later.ser_instance_id, "ADDED")


def test_gated_stop_hides_the_app_again(gated: Env) -> None:
    app_id = gated.managed()
    service = gated.service(app_id)
    gated.apps.confirm_ready(app_id, "READY")
    watcher = gated.watcher()
    gated.apps.begin_termination(app_id, STOPPING)  # nobody subscribed: stops at once
    assert gated.changes(watcher) == [(service.ser_instance_id, "REMOVED")]
    gated.service(app_id)
    assert gated.registry.discover(ServiceQuery()) == []
    assert len(gated.changes(watcher)) == 1


# -- termination ----------------------------------------------------------------------------
def test_begin_termination_notifies_every_subscriber(env: Env) -> None:
    app_id = env.managed()
    subs = [env.subs.subscribe(app_id, f"http://app.test/{n}") for n in range(2)]
    other = env.managed()
    env.subs.subscribe(other, "http://other.test/term")
    now = env.clock()
    app = env.apps.begin_termination(app_id, TERMINATING, 30)
    assert app.termination == Termination(TERMINATING, now + 30, 30)
    assert env.app(app_id) == app
    rows = env.uows.messages()
    assert [row.subscription_id for row in rows] == [s.subscription_id for s in subs]
    assert [row.callback_uri for row in rows] == ["http://app.test/0", "http://app.test/1"]
    for row, sub in zip(rows, subs, strict=True):
        assert row.body == {
            "notificationType": "AppTerminationNotification",
            "operationAction": "TERMINATING",
            "maxGracefulTimeout": 30,
            "_links": {
                "subscription": {
                    "href": f"{API_ROOT}/mec_app_support/v2/applications/{app_id}"
                    f"/subscriptions/{sub.subscription_id}"
                },
                "confirmTermination": {
                    "href": f"{API_ROOT}/mec_app_support/v2/applications/{app_id}"
                    "/confirm_termination"
                },
            },
        }


def test_begin_termination_uses_the_default_timeout() -> None:
    env = make_env(default_graceful_timeout=7)
    app_id = env.managed()
    env.subs.subscribe(app_id, "http://app.test/term")
    app = env.apps.begin_termination(app_id, STOPPING)
    assert app.termination == Termination(STOPPING, env.clock() + 7, 7)
    assert env.uows.messages()[0].body["maxGracefulTimeout"] == 7


def test_begin_termination_checks(env: Env) -> None:
    app_id = env.managed()
    unchanged(env, lambda: env.apps.begin_termination(app_id, STOPPING, -1), InvalidInput)
    unchanged(env, lambda: env.apps.begin_termination(uid("app"), STOPPING), NotFound)
    env.subs.subscribe(app_id, "http://app.test/term")
    env.apps.begin_termination(app_id, STOPPING)
    unchanged(env, lambda: env.apps.begin_termination(app_id, STOPPING), Conflict)
    unchanged(env, lambda: env.apps.begin_termination(app_id, TERMINATING), Conflict)


def test_termination_without_subscribers_completes_at_once(env: Env) -> None:
    app_id = env.managed(dns_rules=[dns()])
    service = env.service(app_id)
    watcher = env.watcher()
    env.apps.begin_termination(app_id, TERMINATING)
    assert env.app(app_id) is None
    assert env.uows.store.dns_rules == {}
    assert env.changes(watcher) == [(service.ser_instance_id, "REMOVED")]
    assert env.dataplane == [1, 1]  # once for the rules it came with, once for its removal


def test_stop_without_subscribers_completes_at_once(env: Env) -> None:
    app_id = env.managed()
    env.apps.confirm_ready(app_id, "READY")
    env.apps.begin_termination(app_id, STOPPING)
    app = env.app(app_id)
    assert app is not None and app.termination is None and app.state is AppState.INSTANTIATED


def test_confirm_termination_checks(env: Env) -> None:
    app_id = env.managed()
    unchanged(env, lambda: env.apps.confirm_termination(app_id, TERMINATING), Conflict)
    unchanged(env, lambda: env.apps.confirm_termination(uid("app"), TERMINATING), NotFound)
    env.subs.subscribe(app_id, "http://app.test/term")
    env.apps.begin_termination(app_id, STOPPING)
    detail = unchanged(env, lambda: env.apps.confirm_termination(app_id, TERMINATING), Conflict)
    assert detail.startswith("operationAction")


def test_confirmed_termination_removes_the_instance(env: Env) -> None:
    app_id = env.managed(dns_rules=[dns()], traffic_rules=[traffic()])
    service = env.service(app_id)
    watcher = env.watcher()
    term = env.subs.subscribe(app_id, "http://app.test/term")
    env.apps.begin_termination(app_id, TERMINATING, 60)
    env.apps.confirm_termination(app_id, TERMINATING)
    store = env.uows.store
    assert env.app(app_id) is None
    assert store.dns_rules == {} and store.traffic_rules == {}
    assert store.termination_subscriptions == {}
    # The notification nobody needs any more is not sent.
    assert [row.state for row in env.uows.messages(term.subscription_id)] == [DeliveryState.DROPPED]
    assert env.changes(watcher) == [(service.ser_instance_id, "REMOVED")]
    assert env.apps.finish_due_terminations() == 0


def test_confirmed_stop_keeps_the_instance_without_services(env: Env) -> None:
    app_id = env.managed(dns_rules=[dns()], traffic_rules=[traffic()])
    env.apps.register(info(is_ins_by_mec=True), app_id)
    env.apps.confirm_ready(app_id, "READY")
    service = env.service(app_id)
    own = env.registry.subscribe(app_id, "http://app.test/avail", FilteringCriteria())
    watcher = env.watcher()
    term = env.subs.subscribe(app_id, "http://app.test/term")
    rules = dict(env.uows.store.dns_rules), dict(env.uows.store.traffic_rules)
    env.apps.begin_termination(app_id, STOPPING, 60)
    env.apps.confirm_termination(app_id, STOPPING)
    store = env.uows.store
    app = env.app(app_id)
    assert app is not None and app.registered
    assert (app.state, app.termination) == (AppState.INSTANTIATED, None)
    assert service.ser_instance_id not in store.services
    assert (store.dns_rules, store.traffic_rules) == rules
    assert own.subscription_id in store.subscriptions
    assert term.subscription_id in store.termination_subscriptions
    assert env.changes(watcher) == [(service.ser_instance_id, "REMOVED")]
    env.apps.confirm_ready(app_id, "READY")  # started again


def test_finish_due_terminations_completes_only_past_deadlines(env: Env) -> None:
    soon, later = env.managed(), env.managed()
    for app_id in (soon, later):
        env.subs.subscribe(app_id, f"http://app.test/{app_id}")
    env.apps.begin_termination(soon, TERMINATING, 5)
    env.apps.begin_termination(later, STOPPING, 20)
    assert env.apps.finish_due_terminations() == 0
    env.clock.advance(4.9)
    assert env.apps.finish_due_terminations() == 0
    env.clock.advance(0.1)
    assert env.apps.finish_due_terminations() == 1
    assert env.app(soon) is None
    stopping = env.app(later)
    assert stopping is not None and stopping.termination is not None
    env.clock.advance(15)
    assert env.apps.finish_due_terminations() == 1
    stopped = env.app(later)
    assert stopped is not None and stopped.termination is None
    assert env.apps.finish_due_terminations() == 0


# -- termination subscriptions --------------------------------------------------------------
def test_subscribe_list_get_and_unsubscribe(env: Env) -> None:
    app_id = env.managed()
    first = env.subs.subscribe(app_id, "http://app.test/1")
    second = env.subs.subscribe(app_id, "http://app.test/2")
    env.subs.subscribe(env.managed(), "http://other.test/1")
    assert (first.app_instance_id, first.callback_reference) == (app_id, "http://app.test/1")
    assert env.subs.list(app_id) == [first, second]
    assert env.subs.get(app_id, second.subscription_id) == second
    env.subs.unsubscribe(app_id, first.subscription_id)
    assert env.subs.list(app_id) == [second]
    unchanged(env, lambda: env.subs.get(app_id, first.subscription_id), NotFound)


def test_termination_subscription_checks(env: Env) -> None:
    owner, intruder = env.managed(), env.managed()
    sub = env.subs.subscribe(owner, "http://app.test/term")
    unchanged(env, lambda: env.subs.get(intruder, sub.subscription_id), Forbidden)
    unchanged(env, lambda: env.subs.unsubscribe(intruder, sub.subscription_id), Forbidden)
    unchanged(env, lambda: env.subs.unsubscribe(owner, uid("sub")), NotFound)
    unchanged(env, lambda: env.subs.subscribe(uid("app"), "http://x.test/"), NotFound)
    unchanged(env, lambda: env.subs.list(uid("app")), NotFound)
    unchanged(env, lambda: env.subs.get(uid("app"), sub.subscription_id), NotFound)


def test_unsubscribe_drops_pending_notifications(env: Env) -> None:
    app_id = env.managed()
    gone = env.subs.subscribe(app_id, "http://app.test/gone")
    kept = env.subs.subscribe(app_id, "http://app.test/kept")
    env.apps.begin_termination(app_id, STOPPING, 30)
    env.subs.unsubscribe(app_id, gone.subscription_id)
    assert [r.state for r in env.uows.messages(gone.subscription_id)] == [DeliveryState.DROPPED]
    assert [r.state for r in env.uows.messages(kept.subscription_id)] == [DeliveryState.PENDING]
