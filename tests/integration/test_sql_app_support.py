"""Application Support storage on real SQLite and PostgreSQL: the repositories, the use cases
over them, and the migration from the registry-only schema (revision 0001).

The tests of one module share a database per backend (creating one costs about a second on
PostgreSQL), so each works on its own application instances and looks only at those.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text

from mec_platform.appsupport.model import (
    AppState,
    OperationAction,
    Termination,
    TerminationSubscription,
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
from mec_platform.appsupport.rules_service import AppRules
from mec_platform.appsupport.service import AppSupport
from mec_platform.appsupport.subscriptions import TerminationSubscriptions
from mec_platform.appsupport.urls import AppSupportUrls
from mec_platform.appsupport.wire import app_info_from_wire, traffic_rule_from_wire
from mec_platform.errors import Conflict
from mec_platform.registry.model import (
    AppInstance,
    FilteringCriteria,
    ServiceDraft,
    ServiceQuery,
    ServiceState,
)
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.transports import REST_HTTP_ID, platform_transports
from mec_platform.registry.urls import ResourceUrls
from mec_platform.storage.engine import make_engine
from mec_platform.storage.migrate import MIGRATIONS_DIR, upgrade
from mec_platform.storage.tables import metadata, outbox
from mec_platform.storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory

API_ROOT = "http://mec.test:8080"
ACTIVE, INACTIVE = RuleState.ACTIVE, RuleState.INACTIVE


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


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

    def app(self, **changes: Any) -> AppInstance:
        app = replace(AppInstance(uid("app"), "app"), **changes)
        with self.uows(write=True) as uow:
            uow.apps.add(app)
            uow.commit()
        return app

    def rules_version(self) -> int:
        with self.uows() as uow:
            return uow.dns_rules.version()


@pytest.fixture(scope="module")
def db(module_database_url: str) -> Iterator[Db]:
    engine = make_engine(module_database_url)
    try:
        upgrade(engine)
        clock = Clock()
        yield Db(engine, clock, SqlUnitOfWorkFactory(engine, clock))
    finally:
        engine.dispose()


def dns(rule_id: str, domain: str, **changes: Any) -> DnsRule:
    rule = DnsRule(rule_id, domain, IpAddressType.IP_V4, "10.0.0.1", ACTIVE)
    return replace(rule, **changes)


def traffic(rule_id: str, priority: int = 10, **changes: Any) -> TrafficRule:
    selector = TrafficFilter(dst_address=("10.9.0.0/16",), protocol=("TCP",))
    rule = TrafficRule(rule_id, FilterType.FLOW, priority, (selector,), TrafficAction.DROP, ACTIVE)
    return replace(rule, **changes)


FULL_TRAFFIC_RULE = {
    "trafficRuleId": "full",
    "filterType": "PACKET",
    "priority": 255,
    "trafficFilter": [
        {
            "srcAddress": ["10.0.0.0/24", "fd00::1-fd00::9"],
            "dstAddress": ["10.1.0.1"],
            "srcPort": ["1024-65535"],
            "dstPort": ["443", "8443"],
            "protocol": ["TCP", "17"],
            "tag": ["t"],
            "srcTunnelAddress": ["10.2.0.1"],
            "tgtTunnelAddress": ["10.2.0.2"],
            "srcTunnelPort": ["2152"],
            "dstTunnelPort": ["2153"],
            "qCI": 9,
            "dSCP": 46,
            "tC": 3,
        },
        {"dSCP": 0},
    ],
    "action": "FORWARD_ENCAPSULATED",
    "state": "INACTIVE",
    "dstInterface": [
        {
            "interfaceType": "TUNNEL",
            "tunnelInfo": {"tunnelType": "GTP_U", "tunnelDstAddress": "10.0.0.2"},
            "dstIpAddress": "10.0.0.2",
        },
        {"interfaceType": "MAC", "srcMacAddress": "02:00:00:00:00:01"},
    ],
}

APP_INFO = {
    "appName": "camera",
    "appProvider": "ACME",
    "isInsByMec": True,
    "appProfile": {"easId": "e-1", "endPt": {"uris": ["http://10.0.0.5"]}},
    "appServiceRequired": [{"serName": "rni", "version": "2", "serCategory": {"id": "c"}}],
    "appFeatureRequired": [{"featureName": "DnsRules", "version": "3.1.1"}],
}


# -- repositories ---------------------------------------------------------------------------
def test_app_instance_round_trip(db: Db) -> None:
    plain = db.app()
    info = app_info_from_wire(APP_INFO)
    rich = db.app(
        name="camera ✓",
        state=AppState.READY,
        managed=False,
        info=info,
        termination=Termination(OperationAction.STOPPING, 1_700_000_123.25, 30),
        revision=7,
    )
    with db.uows() as uow:
        assert uow.apps.get(plain.app_instance_id) == plain
        assert uow.apps.get(rich.app_instance_id) == rich
        assert uow.apps.get(uid("app")) is None
    changed = replace(rich, state=AppState.INSTANTIATED, info=None, termination=None, revision=8)
    with db.uows(write=True) as uow:
        uow.apps.update(changed)
        uow.commit()
    with db.uows() as uow:
        assert uow.apps.get(rich.app_instance_id) == changed
        assert uow.apps.get(plain.app_instance_id) == plain


def test_apps_are_listed_in_creation_order(db: Db) -> None:
    created = []
    for _ in range(3):
        created.append(db.app())
        db.clock.now += 1
    mine = {app.app_instance_id for app in created}
    with db.uows() as uow:
        assert [app for app in uow.apps.all() if app.app_instance_id in mine] == created


def test_terminations_due(db: Db) -> None:
    # Deadlines far ahead of the shared clock, so no other test's chore completes them.
    base = 4_000_000_000.0
    none = db.app()
    soon = db.app(termination=Termination(OperationAction.TERMINATING, base + 100, 5))
    later = db.app(termination=Termination(OperationAction.STOPPING, base + 200, 5))
    mine = {none.app_instance_id, soon.app_instance_id, later.app_instance_id}

    def due(now: float) -> list[AppInstance]:
        with db.uows() as uow:
            found = uow.apps.terminations_due(now)
        return sorted((app for app in found if app.app_instance_id in mine), key=_by_id)

    assert due(base + 99.9) == []
    assert due(base + 150) == [soon]
    assert due(base + 200) == sorted([soon, later], key=_by_id)


def _by_id(app: AppInstance) -> str:
    return app.app_instance_id


def test_termination_subscriptions(db: Db) -> None:
    app, other = db.app().app_instance_id, db.app().app_instance_id
    first = TerminationSubscription(uid("sub"), app, "http://app.test/1")
    second = TerminationSubscription(uid("sub"), app, "http://app.test/2?x=1")
    foreign = TerminationSubscription(uid("sub"), other, "http://other.test/")
    with db.uows(write=True) as uow:
        uow.termination_subscriptions.add(first)
        db.clock.now += 1
        uow.termination_subscriptions.add(foreign)
        uow.commit()
    db.clock.now += 1
    with db.uows(write=True) as uow:
        uow.termination_subscriptions.add(second)
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.termination_subscriptions.get(second.subscription_id) == second
        assert uow.termination_subscriptions.get(uid("sub")) is None
        assert uow.termination_subscriptions.list_for_app(app) == [first, second]
        uow.termination_subscriptions.remove(first.subscription_id)
        uow.commit()
    with db.uows() as uow:
        assert uow.termination_subscriptions.list_for_app(app) == [second]
        assert uow.termination_subscriptions.list_for_app(other) == [foreign]


def test_dns_rules_round_trip(db: Db) -> None:
    app = db.app().app_instance_id
    rules = [
        dns("b", "cam.mec.test", ttl=2**31 - 1, revision=3),
        dns("a", "Cam.Mec.Test.", ip_address_type=IpAddressType.IP_V6, ip_address="fd00::7"),
        dns("c", "x.mec.test", ttl=0),
    ]
    with db.uows(write=True) as uow:
        for rule in rules:
            uow.dns_rules.add(app, rule)
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.dns_rules.get(app, "a") == rules[1]
        assert uow.dns_rules.get(app, "b") == rules[0]
        assert uow.dns_rules.get(app, "nope") is None
        assert uow.dns_rules.list_for_app(app) == [rules[1], rules[0], rules[2]]
        changed = replace(rules[1], state=INACTIVE, ttl=5, revision=2)
        uow.dns_rules.update(app, changed)
        uow.commit()
    with db.uows() as uow:
        assert uow.dns_rules.get(app, "a") == changed


def test_dns_rules_active_in_order(db: Db) -> None:
    one, two = sorted([db.app().app_instance_id, db.app().app_instance_id])
    zone = f"{uid('zone')}.test"
    with db.uows(write=True) as uow:
        uow.dns_rules.add(two, dns("r1", f"b.{zone}"))
        uow.dns_rules.add(one, dns("r2", f"b.{zone}"))
        uow.dns_rules.add(one, dns("r1", f"b.{zone}"))
        uow.dns_rules.add(one, dns("r0", f"b.{zone}", state=INACTIVE))
        uow.dns_rules.add(two, dns("r0", f"a.{zone}"))
        uow.dns_rules.add(one, dns("r9", f"c.{zone}"))
        uow.commit()
    with db.uows() as uow:
        active = [(a, rule.dns_rule_id) for a, rule in uow.dns_rules.active() if a in (one, two)]
    # Domain name, then application, then rule.
    assert active == [(two, "r0"), (one, "r1"), (one, "r2"), (two, "r1"), (one, "r9")]


def test_dns_rules_per_domain_ignore_case_and_the_trailing_dot(db: Db) -> None:
    one, two, three = (db.app().app_instance_id for _ in range(3))
    name = f"{uid('svc')}.mec.test"
    with db.uows(write=True) as uow:
        uow.dns_rules.add(one, dns("r", name))
        uow.dns_rules.add(two, dns("r", f"{name.upper()}."))
        uow.dns_rules.add(three, dns("r", name, state=INACTIVE))
        uow.dns_rules.add(three, dns("s", f"{name}.other"))
        uow.dns_rules.add(three, dns("t", f"x.{name}"))
        uow.commit()
    with db.uows() as uow:
        for spelling in (name, name.capitalize(), f"{name}.", f"{name.upper()}."):
            found = uow.dns_rules.active_for_domain(spelling)
            assert sorted(app for app, _ in found) == sorted([one, two]), spelling
        assert uow.dns_rules.active_for_domain(name.split(".", 1)[1]) == []


def test_traffic_rules_keep_the_whole_document(db: Db) -> None:
    app = db.app().app_instance_id
    full = traffic_rule_from_wire(FULL_TRAFFIC_RULE, revision=4)
    with db.uows(write=True) as uow:
        uow.traffic_rules.add(app, full)
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.traffic_rules.get(app, "full") == full
        assert uow.traffic_rules.get(app, "nope") is None
        changed = replace(full, priority=0, state=ACTIVE, dst_interface=(), revision=5)
        uow.traffic_rules.update(app, changed)
        uow.commit()
    with db.uows() as uow:
        assert uow.traffic_rules.get(app, "full") == changed


def test_traffic_rules_order(db: Db) -> None:
    one, two = sorted([db.app().app_instance_id, db.app().app_instance_id])
    with db.uows(write=True) as uow:
        uow.traffic_rules.add(two, traffic("b", 5))
        uow.traffic_rules.add(one, traffic("z", 200))
        uow.traffic_rules.add(one, traffic("c", 5))
        uow.traffic_rules.add(two, traffic("a", 5))
        uow.traffic_rules.add(one, traffic("a", 0, state=INACTIVE))
        uow.traffic_rules.add(two, traffic("x", 0))
        uow.commit()
    with db.uows() as uow:
        active = [
            (app, rule.traffic_rule_id)
            for app, rule in uow.traffic_rules.active()
            if app in (one, two)
        ]
        mine = [rule.traffic_rule_id for rule in uow.traffic_rules.list_for_app(one)]
    assert active == [(two, "x"), (one, "c"), (two, "a"), (two, "b"), (one, "z")]
    assert mine == ["a", "c", "z"]


def test_rules_version_moves_with_every_rule_write(db: Db) -> None:
    app = db.app().app_instance_id
    start = db.rules_version()
    seen = [0]
    steps: list[Callable[[SqlUnitOfWork], None]] = [
        lambda uow: uow.dns_rules.add(app, dns("d", "v.mec.test")),
        lambda uow: uow.dns_rules.update(app, dns("d", "v.mec.test", ttl=1)),
        lambda uow: uow.traffic_rules.add(app, traffic("t")),
        lambda uow: uow.traffic_rules.update(app, traffic("t", 1)),
        lambda uow: uow.termination_subscriptions.add(  # not a rule: no change
            TerminationSubscription(uid("sub"), app, "http://cb")
        ),
        lambda uow: uow.apps.remove(app),
    ]
    for step in steps:
        with db.uows(write=True) as uow:
            step(uow)
            uow.commit()
        seen.append(db.rules_version() - start)
    assert seen == [0, 1, 2, 3, 4, 4, 5]


def test_remove_takes_rules_and_termination_subscriptions_along(db: Db) -> None:
    gone, kept = db.app().app_instance_id, db.app().app_instance_id
    with db.uows(write=True) as uow:
        for app in (gone, kept):  # the same rule ids in both applications
            uow.dns_rules.add(app, dns("d", f"{app}.mec.test"))
            uow.traffic_rules.add(app, traffic("t"))
            uow.termination_subscriptions.add(TerminationSubscription(f"s-{app}", app, "http://c"))
        uow.commit()
    with db.uows() as uow:
        assert sorted(uow.dns_rules.owners_of("d")) == sorted([gone, kept])
    with db.uows(write=True) as uow:
        uow.apps.remove(gone)
        uow.commit()
    with db.uows() as uow:
        assert uow.dns_rules.owners_of("d") == [kept]
        assert uow.traffic_rules.owners_of("t") == [kept]
        assert uow.apps.get(gone) is None
        assert uow.dns_rules.list_for_app(gone) == []
        assert uow.traffic_rules.list_for_app(gone) == []
        assert uow.termination_subscriptions.get(f"s-{gone}") is None
        assert uow.apps.get(kept) is not None
        assert [rule.dns_rule_id for rule in uow.dns_rules.list_for_app(kept)] == ["d"]
        assert [rule.traffic_rule_id for rule in uow.traffic_rules.list_for_app(kept)] == ["t"]
        assert uow.termination_subscriptions.get(f"s-{kept}") is not None


def test_owners_of_a_rule_id(db: Db) -> None:
    first, second = sorted([db.app().app_instance_id, db.app().app_instance_id])
    dns_id, traffic_id = uid("dns"), uid("tr")
    with db.uows(write=True) as uow:
        uow.dns_rules.add(first, dns(dns_id, f"{uid('h')}.mec.test"))
        uow.dns_rules.add(second, dns(dns_id, f"{uid('h')}.mec.test", state=INACTIVE))
        uow.traffic_rules.add(second, traffic(traffic_id, state=INACTIVE))
        uow.commit()
    with db.uows() as uow:
        assert sorted(uow.dns_rules.owners_of(dns_id)) == [first, second]
        assert uow.traffic_rules.owners_of(traffic_id) == [second]
        assert uow.dns_rules.owners_of(uid("dns")) == []
        assert uow.traffic_rules.owners_of(dns_id) == []


def test_active_rule_counts_and_the_applied_version(db: Db) -> None:
    with db.uows() as uow:
        dns_before, traffic_before = uow.dns_rules.count_active(), uow.traffic_rules.count_active()
    app = db.app().app_instance_id
    with db.uows(write=True) as uow:
        uow.dns_rules.add(app, dns("a", f"{uid('h')}.mec.test"))
        uow.dns_rules.add(app, dns("b", f"{uid('h')}.mec.test", state=INACTIVE))
        uow.traffic_rules.add(app, traffic("a"))
        uow.traffic_rules.add(app, traffic("b"))
        uow.traffic_rules.add(app, traffic("c", state=INACTIVE))
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.dns_rules.count_active() == dns_before + 1
        assert uow.traffic_rules.count_active() == traffic_before + 2
        version = uow.dns_rules.version()
        uow.dns_rules.record_applied(version)
        uow.commit()
    with db.uows(write=True) as uow:
        assert uow.dns_rules.applied_version() == version
        uow.dns_rules.record_applied(version + 5)  # a plain write, not an increment
        uow.commit()
    with db.uows() as uow:
        assert uow.dns_rules.applied_version() == version + 5
        assert uow.dns_rules.version() == version  # recording changes no rule


# -- use cases over SQL ---------------------------------------------------------------------
@dataclass
class Wired:
    registry: ServiceRegistry
    apps: AppSupport
    subs: TerminationSubscriptions


@pytest.fixture
def wired(db: Db) -> Wired:
    def ids() -> str:
        return str(uuid.uuid4())

    transports = platform_transports(API_ROOT, "mqtt.test", 1883)
    registry = ServiceRegistry(
        db.uows, ResourceUrls(API_ROOT), transports, db.clock, ids, require_ready=True
    )
    apps = AppSupport(db.uows, registry, AppSupportUrls(API_ROOT), db.clock, ids)
    return Wired(registry, apps, TerminationSubscriptions(db.uows, db.clock, ids))


def _draft() -> ServiceDraft:
    return ServiceDraft(uid("svc"), "1.0", ServiceState.ACTIVE, "JSON", transport_id=REST_HTTP_ID)


def test_the_life_of_a_managed_instance(db: Db, wired: Wired) -> None:
    app = wired.apps.add_app_instance(
        "cam", dns_rules=[dns("d", f"{uid('cam')}.mec.test")], traffic_rules=[traffic("t")]
    ).app.app_instance_id
    wired.apps.register(app_info_from_wire(APP_INFO | {"appServiceRequired": []}), app)
    service = wired.registry.register_service(app, _draft())
    by_name = ServiceQuery(ser_names=(service.ser_name,))
    assert wired.registry.discover(by_name) == []  # not ready yet
    avail = wired.registry.subscribe(app, "http://cam.test/avail", FilteringCriteria())
    term = wired.subs.subscribe(app, "http://cam.test/term")
    wired.apps.confirm_ready(app, "READY")
    assert wired.registry.discover(by_name) == [service]
    wired.apps.begin_termination(app, OperationAction.STOPPING, 30)
    wired.apps.confirm_termination(app, OperationAction.STOPPING)
    stopped = wired.apps.registration(app)
    assert (stopped.state, stopped.termination) == (AppState.INSTANTIATED, None)
    assert wired.registry.discover(ServiceQuery(app_instance_id=app)) == []
    wired.registry.register_service(app, _draft())
    wired.apps.begin_termination(app, OperationAction.TERMINATING, 30)
    db.clock.now += 31
    assert wired.apps.finish_due_terminations() == 1
    with db.uows() as uow:
        assert uow.apps.get(app) is None
        assert uow.dns_rules.list_for_app(app) == []
        assert uow.services.query(ServiceQuery(app_instance_id=app)) == []
        assert uow.subscriptions.list_for_app(app) == []
    # Undelivered messages to the application's subscriptions went with it.
    states = _outbox_states(db, avail.subscription_id, term.subscription_id)
    assert states == {"DROPPED"}


def _outbox_states(db: Db, *subscription_ids: str) -> set[str]:
    statement = select(outbox.c.state).where(outbox.c.subscription_id.in_(subscription_ids))
    with db.engine.connect() as conn:
        return set(conn.execute(statement).scalars())


def test_deregistering_an_unmanaged_instance_deletes_it(db: Db, wired: Wired) -> None:
    app = wired.apps.register(app_info_from_wire({"appName": "x"}), None).app.app_instance_id
    wired.registry.register_service(app, _draft())
    wired.registry.subscribe(app, "http://x.test/avail", FilteringCriteria())
    wired.subs.subscribe(app, "http://x.test/term")
    wired.apps.deregister(app)
    with db.uows() as uow:
        assert uow.apps.get(app) is None
        assert uow.services.query(ServiceQuery(app_instance_id=app)) == []
        assert uow.subscriptions.list_for_app(app) == []
        assert uow.termination_subscriptions.list_for_app(app) == []


# -- migrations -----------------------------------------------------------------------------
def _migrate_to(engine: Engine, revision: str) -> None:
    """Run Alembic up to `revision`, configured as `storage.migrate.upgrade` configures it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def test_a_registry_only_database_upgrades_keeping_its_instances(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        _migrate_to(engine, "0001")
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
        with engine.connect() as conn:
            head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert head == "0006"
        with SqlUnitOfWorkFactory(engine)() as uow:
            assert uow.apps.get(app_id) == AppInstance(app_id, "legacy", managed=True, revision=1)
            assert uow.dns_rules.list_for_app(app_id) == []
    finally:
        engine.dispose()


def test_the_tables_match_the_migrated_schema(db: Db) -> None:
    inspector = inspect(db.engine)
    tables = set(inspector.get_table_names()) - {"alembic_version"}
    assert tables == set(metadata.tables)
    for name, table in metadata.tables.items():
        columns = [column["name"] for column in inspector.get_columns(name)]
        assert columns == [column.name for column in table.columns], name
        indexes = {index["name"] for index in inspector.get_indexes(name)}
        assert indexes == {index.name for index in table.indexes}, name
        primary_key = inspector.get_pk_constraint(name)["constrained_columns"]
        assert primary_key == [column.name for column in table.primary_key.columns], name
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_activating_one_name_at_the_same_moment_lets_only_one_app_win(db: Db) -> None:
    """The domain lock makes check-then-write atomic, also on PostgreSQL."""
    name = f"{uid('race')}.mec.test"
    apps = [db.app().app_instance_id for _ in range(2)]
    with db.uows(write=True) as uow:
        for app in apps:
            uow.dns_rules.add(app, dns("r", name, state=INACTIVE))
        uow.commit()
    rules = AppRules(db.uows)
    outcomes: list[str] = []
    start = threading.Barrier(len(apps))

    def activate(app: str) -> None:
        start.wait()
        try:
            rules.update_dns_rule(app, "r", dns("r", name), None)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=activate, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "ok"]
    with db.uows() as uow:
        assert len(uow.dns_rules.active_for_domain(name)) == 1


def test_a_termination_completes_once_when_two_workers_race(db: Db, wired: Wired) -> None:
    app = wired.apps.add_app_instance("racer").app.app_instance_id
    wired.apps.confirm_ready(app, "READY")
    service = wired.registry.register_service(app, _draft())
    watcher = wired.apps.add_app_instance("watcher").app.app_instance_id
    only_this = FilteringCriteria(ser_instance_ids=(service.ser_instance_id,))
    watch = wired.registry.subscribe(watcher, "http://watcher.test/avail", only_this)
    wired.subs.subscribe(app, "http://racer.test/term")
    wired.apps.begin_termination(app, OperationAction.TERMINATING, 5)
    db.clock.now += 6
    start = threading.Barrier(2)
    finished: list[int] = []

    def worker() -> None:
        start.wait()
        finished.append(wired.apps.finish_due_terminations())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(finished) == [0, 1]
    statement = select(outbox.c.payload).where(outbox.c.subscription_id == watch.subscription_id)
    with db.engine.connect() as conn:
        assert len(conn.execute(statement).all()) == 1  # one REMOVED, not two


def test_a_silent_service_is_suspended_once_when_two_workers_sweep(db: Db, wired: Wired) -> None:
    app = wired.apps.add_app_instance("quiet").app.app_instance_id
    wired.apps.confirm_ready(app, "READY")
    service = wired.registry.register_service(app, replace(_draft(), liveness_interval=30))
    watcher = wired.apps.add_app_instance("watcher").app.app_instance_id
    only_this = FilteringCriteria(ser_instance_ids=(service.ser_instance_id,))
    watch = wired.registry.subscribe(watcher, "http://watcher.test/avail", only_this)
    db.clock.now += 50  # more than an interval and a half of silence
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        wired.registry.sweep_liveness()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    statement = select(outbox.c.payload).where(outbox.c.subscription_id == watch.subscription_id)
    with db.engine.connect() as conn:
        assert len(conn.execute(statement).all()) == 1  # one STATE_CHANGED, not two
