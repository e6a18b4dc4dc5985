"""Package and lifecycle storage on real SQLite and PostgreSQL: packages and their
subscriptions, MEC 010-2 app instances, operation occurrences under leases, LCM subscriptions,
and the migration that adds them (revision 0004).

Most tests share one database per backend and use unique ids; the claim tests need a database
of their own, since a claim takes every runnable occurrence in the table.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from mec_platform.errors import Conflict
from mec_platform.lifecycle.model import (
    AppOperationalState,
    CancelMode,
    Deployment,
    InstantiationState,
    LcmInstance,
    LcmOperation,
    LcmSubscription,
    LcmSubscriptionType,
    OperationState,
    OpOcc,
)
from mec_platform.lifecycle.ports import LifecycleUnitOfWork
from mec_platform.packages.model import (
    AppPackage,
    OnboardedContent,
    OnboardingState,
    PackageOperationalState,
    PackageRequest,
    PackageSubscription,
    PackageSubscriptionType,
    UsageState,
)
from mec_platform.registry.model import AppInstance
from mec_platform.storage.engine import is_sqlite, make_engine
from mec_platform.storage.migrate import MIGRATIONS_DIR, upgrade
from mec_platform.storage.uow import SqlUnitOfWorkFactory

LIFECYCLE_TABLES = {
    "app_packages",
    "package_subscriptions",
    "lcm_instances",
    "lcm_op_occs",
    "lcm_subscriptions",
}
APPD = {
    "appDId": "d",
    "appName": "camera ✓",
    "swImageDescriptor": [{"swImage": "cam:1", "checksum": {"hash": "ab"}}],
    "appDNSRule": [],
    "nested": {"n": None, "f": 1.5, "b": True},
}


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Db:
    engine: Engine
    uows: SqlUnitOfWorkFactory

    def write(self) -> LifecycleUnitOfWork:
        """A write unit of work, typed as the port the services use."""
        return self.uows(write=True)


def _db(url: str) -> Iterator[Db]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield Db(engine, SqlUnitOfWorkFactory(engine))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def db(module_database_url: str) -> Iterator[Db]:
    yield from _db(module_database_url)


@pytest.fixture
def fresh(database_url: str) -> Iterator[Db]:
    """A database of the test's own."""
    yield from _db(database_url)


# -- builders -------------------------------------------------------------------------------
def package(**changes: Any) -> AppPackage:
    request = PackageRequest("camera", "1.0", None, "SHA-256", "ab" * 32, "/pkgs/camera.zip")
    created = AppPackage(
        app_pkg_id=uid("pkg"),
        request=request,
        onboarding_state=OnboardingState.CREATED,
        operational_state=PackageOperationalState.DISABLED,
        usage_state=UsageState.NOT_IN_USE,
        created_at=1_700_000_000.125,
        owner=None,
    )
    return replace(created, **changes)


def content(app_d_id: str, **changes: Any) -> OnboardedContent:
    full = OnboardedContent(
        app_d_id=app_d_id,
        app_name="camera ✓",
        app_provider="ACME",
        app_soft_version="1.2.3",
        app_d_version="3.1.1",
        appd=APPD,
        content_sha256="cd" * 32,
        signer="SHA256:fingerprint",
        image_reference="localhost/cam:1",
        image_id="sha256:" + "ef" * 32,
        artifacts=("Definitions/appd.yaml", "Files/image.tar"),
    )
    return replace(full, **changes)


def onboarded(**changes: Any) -> AppPackage:
    values: dict[str, Any] = {
        "onboarding_state": OnboardingState.ONBOARDED,
        "operational_state": PackageOperationalState.ENABLED,
        "content": content(uid("appd")),
    }
    return package(**(values | changes))


def instance(pkg: AppPackage, **changes: Any) -> LcmInstance:
    assert pkg.content is not None
    plain = LcmInstance(
        app_instance_id=uid("app"),
        app_d_id=pkg.content.app_d_id,
        app_pkg_id=pkg.app_pkg_id,
        name=None,
        description=None,
        owner=None,
        instantiation_state=InstantiationState.NOT_INSTANTIATED,
        operational_state=None,
        created_at=1_700_000_001.5,
    )
    return replace(plain, **changes)


def occ(app_instance_id: str, **changes: Any) -> OpOcc:
    plain = OpOcc(
        op_occ_id=uid("occ"),
        app_instance_id=app_instance_id,
        operation=LcmOperation.INSTANTIATE,
        state=OperationState.STARTING,
        start_time=1_700_000_002.25,
        state_entered_time=1_700_000_002.25,
    )
    return replace(plain, **changes)


def store_packages(db: Db, *packages: AppPackage) -> None:
    with db.write() as uow:
        for pkg in packages:
            uow.packages.add(pkg)
        uow.commit()


def store_instance(db: Db, lcm: LcmInstance) -> LcmInstance:
    """The instance with its registry row (the foreign key wants it first)."""
    with db.write() as uow:
        uow.apps.add(AppInstance(lcm.app_instance_id, "app"))
        uow.lcm_instances.add(lcm)
        uow.commit()
    return lcm


def store_occs(db: Db, *occs: OpOcc) -> None:
    with db.write() as uow:
        for one in occs:
            uow.op_occs.add(one)
        uow.commit()


# -- packages -------------------------------------------------------------------------------
def test_a_package_round_trips_every_field(db: Db) -> None:
    bare = package()
    full = onboarded(
        request=PackageRequest(
            "camera ✓", "2.0", "ACME", "SHA-256", "cd" * 32, "/x", {"k": [1, {"n": None}]}
        ),
        usage_state=UsageState.IN_USE,
        owner="alice",
        failure={"title": "Onboarding failed", "status": 400, "detail": "bad"},
    )
    sparse = onboarded(
        content=content(uid("appd"), appd={}, image_reference=None, image_id=None, artifacts=()),
        failure={},
    )
    store_packages(db, bare, full, sparse)
    with db.uows() as uow:
        assert uow.packages.get(bare.app_pkg_id) == bare
        assert uow.packages.get(full.app_pkg_id) == full
        assert uow.packages.get(sparse.app_pkg_id) == sparse
        assert uow.packages.get(uid("pkg")) is None


def test_a_package_update_stores_every_field(db: Db) -> None:
    pkg = package()
    store_packages(db, pkg)
    accepted = replace(
        pkg,
        onboarding_state=OnboardingState.ONBOARDED,
        operational_state=PackageOperationalState.ENABLED,
        usage_state=UsageState.IN_USE,
        content=content(uid("appd")),
        failure={"detail": "kept"},
        owner="bob",
    )
    withdrawn = replace(accepted, content=None, failure=None, owner=None)
    for changed in (accepted, withdrawn):
        with db.write() as uow:
            uow.packages.update(changed)
            uow.commit()
        with db.uows() as uow:
            assert uow.packages.get(pkg.app_pkg_id) == changed


def test_packages_are_found_by_app_d_id_listed_and_removed(db: Db) -> None:
    first, second = onboarded(created_at=10.5), onboarded(created_at=11.5)
    waiting = package(created_at=12.5)
    store_packages(db, second, waiting, first)
    mine = {p.app_pkg_id for p in (first, second, waiting)}
    with db.uows() as uow:
        assert second.app_d_id is not None
        assert uow.packages.by_app_d_id(second.app_d_id) == second
        assert uow.packages.by_app_d_id(uid("appd")) is None
        assert [p for p in uow.packages.all() if p.app_pkg_id in mine] == [first, second, waiting]
    with db.write() as uow:
        uow.packages.remove(second.app_pkg_id)
        uow.commit()
    with db.uows() as uow:
        assert uow.packages.get(second.app_pkg_id) is None
        assert [p for p in uow.packages.all() if p.app_pkg_id in mine] == [first, waiting]


def test_an_app_d_id_belongs_to_one_package(db: Db) -> None:
    owner = onboarded()
    assert owner.app_d_id is not None
    taken = content(owner.app_d_id)
    other = package()
    store_packages(db, owner, other)
    with pytest.raises(Conflict, match="an onboarded package with appDId"), db.write() as uow:
        uow.packages.add(onboarded(content=taken))
    with db.write() as uow:
        with pytest.raises(Conflict, match=f"appDId '{owner.app_d_id}' exists"):
            uow.packages.update(replace(other, content=taken))
        # Refused without spoiling the transaction: it goes on and commits.
        uow.packages.update(replace(owner, usage_state=UsageState.IN_USE))
        uow.commit()
    with db.write() as uow:
        uow.packages.remove(owner.app_pkg_id)
        uow.packages.update(replace(other, content=taken))
        uow.commit()
    with db.uows() as uow:
        assert uow.packages.by_app_d_id(owner.app_d_id) == replace(other, content=taken)


def test_a_concurrent_onboarding_with_the_same_app_d_id_is_a_conflict(db: Db) -> None:
    """On PostgreSQL the second writer passes the check and meets the unique index."""
    first, second = package(), package()
    store_packages(db, first, second)
    taken = content(uid("appd"))
    updated = threading.Event()
    outcome: list[str] = []

    def onboard_first() -> None:
        with db.write() as uow:
            uow.packages.update(replace(first, content=taken))
            updated.set()
            time.sleep(0.5)  # the second writer reaches its UPDATE meanwhile
            uow.commit()

    thread = threading.Thread(target=onboard_first)
    thread.start()
    assert updated.wait(10)
    with db.write() as uow:
        try:
            uow.packages.update(replace(second, content=taken))
        except Conflict:
            outcome.append("conflict")
        assert uow.packages.get(second.app_pkg_id) == second  # the transaction still works
        uow.commit()
    thread.join(10)
    assert outcome == ["conflict"]
    with db.uows() as uow:
        assert uow.packages.by_app_d_id(taken.app_d_id) == replace(first, content=taken)


def test_package_subscriptions_round_trip(db: Db) -> None:
    plain = PackageSubscription(
        uid("sub"), PackageSubscriptionType.ONBOARDING, "http://x.test/cb", (), None, 20.5
    )
    filters = ({"appDId": "a", "appProvider": "ACME"}, {"usageState": "IN_USE"})
    filtered = PackageSubscription(
        uid("sub"), PackageSubscriptionType.CHANGE, "https://y.test/c?b=1", filters, "eve", 19.5
    )
    with db.write() as uow:
        uow.package_subscriptions.add(plain)
        uow.package_subscriptions.add(filtered)
        uow.commit()
    mine = {plain.subscription_id, filtered.subscription_id}
    with db.uows() as uow:
        assert uow.package_subscriptions.get(plain.subscription_id) == plain
        assert uow.package_subscriptions.get(filtered.subscription_id) == filtered
        found = [s for s in uow.package_subscriptions.all() if s.subscription_id in mine]
        assert found == [filtered, plain]
    with db.write() as uow:
        uow.package_subscriptions.remove(plain.subscription_id)
        uow.commit()
    with db.uows() as uow:
        assert uow.package_subscriptions.get(plain.subscription_id) is None
        assert uow.package_subscriptions.get(filtered.subscription_id) == filtered


# -- instances ------------------------------------------------------------------------------
def test_an_instance_round_trips_every_field(db: Db) -> None:
    pkg = onboarded()
    store_packages(db, pkg)
    bare = store_instance(db, instance(pkg))
    ports = ({"containerPort": 80, "hostPort": 8080, "protocol": "tcp"}, {"containerPort": 53})
    full = store_instance(
        db,
        instance(
            pkg,
            name="camera ✓",
            description="the camera",
            owner="alice",
            instantiation_state=InstantiationState.INSTANTIATED,
            operational_state=AppOperationalState.STARTED,
            deployment=Deployment("c0ffee", "mec-app-1", "localhost/cam:1", "10.88.0.5", ports),
            current_op=uid("occ"),
            restarts=3,
            runtime_problem="exited with status 1",
        ),
    )
    no_ports = store_instance(db, instance(pkg, deployment=Deployment("c1", "n", "i")))
    with db.uows() as uow:
        for stored in (bare, full, no_ports):
            assert uow.lcm_instances.get(stored.app_instance_id) == stored
        assert uow.lcm_instances.get(uid("app")) is None


def test_an_instance_update_stores_every_field(db: Db) -> None:
    pkg = onboarded()
    store_packages(db, pkg)
    lcm = store_instance(db, instance(pkg))
    running = replace(
        lcm,
        name="renamed",
        description="d",
        owner="carol",
        instantiation_state=InstantiationState.INSTANTIATED,
        operational_state=AppOperationalState.STOPPED,
        deployment=Deployment("c2", "mec-app-2", "img", None, ({"containerPort": 1},)),
        current_op="op-1",
        restarts=1,
        runtime_problem="gone",
    )
    reset = replace(lcm, restarts=2)
    for changed in (running, reset):
        with db.write() as uow:
            uow.lcm_instances.update(changed)
            uow.commit()
        with db.uows() as uow:
            assert uow.lcm_instances.get(lcm.app_instance_id) == changed


def test_instances_are_listed_counted_per_package_and_removed(db: Db) -> None:
    used, unused = onboarded(), onboarded()
    store_packages(db, used, unused)
    late = store_instance(db, instance(used, created_at=31.5))
    early = store_instance(db, instance(used, created_at=30.5))
    mine = {late.app_instance_id, early.app_instance_id}
    with db.uows() as uow:
        assert [i for i in uow.lcm_instances.all() if i.app_instance_id in mine] == [early, late]
        assert uow.lcm_instances.count_for_package(used.app_pkg_id) == 2
        assert uow.lcm_instances.count_for_package(unused.app_pkg_id) == 0
    with db.write() as uow:
        uow.lcm_instances.remove(late.app_instance_id)
        uow.apps.remove(late.app_instance_id)  # the registry row can go once nothing refers to it
        uow.commit()
    with db.uows() as uow:
        assert uow.lcm_instances.get(late.app_instance_id) is None
        assert uow.lcm_instances.count_for_package(used.app_pkg_id) == 1


def test_an_instance_needs_its_registry_row_and_package(db: Db) -> None:
    pkg = onboarded()
    store_packages(db, pkg)
    with pytest.raises(IntegrityError), db.write() as uow:
        uow.lcm_instances.add(instance(pkg))  # no app_instances row
    orphan = instance(pkg, app_pkg_id=uid("pkg"))
    with pytest.raises(IntegrityError), db.write() as uow:
        uow.apps.add(AppInstance(orphan.app_instance_id, "app"))
        uow.lcm_instances.add(orphan)


def test_one_operation_holds_an_instance_at_a_time(db: Db) -> None:
    pkg = onboarded()
    store_packages(db, pkg)
    lcm = store_instance(db, instance(pkg))
    app = lcm.app_instance_id

    def holder() -> str | None:
        with db.uows() as uow:
            found = uow.lcm_instances.get(app)
            assert found is not None
            return found.current_op

    with db.write() as uow:
        assert uow.lcm_instances.hold(app, "op-1") is True
        assert uow.lcm_instances.hold(app, "op-2") is False
        assert uow.lcm_instances.hold(uid("app"), "op-3") is False
        uow.commit()
    assert holder() == "op-1"
    with db.write() as uow:
        uow.lcm_instances.release(app, "op-2")  # not the holder: nothing happens
        uow.commit()
    assert holder() == "op-1"
    with db.write() as uow:
        uow.lcm_instances.release(app, "op-1")
        assert uow.lcm_instances.hold(app, "op-2") is True
        uow.commit()
    assert holder() == "op-2"


def test_two_concurrent_holds_let_one_win(db: Db) -> None:
    pkg = onboarded()
    store_packages(db, pkg)
    app = store_instance(db, instance(pkg)).app_instance_id
    start = threading.Barrier(2)
    results: list[bool] = []

    def hold(op_occ_id: str) -> None:
        start.wait()
        with db.write() as uow:
            results.append(uow.lcm_instances.hold(app, op_occ_id))
            uow.commit()

    threads = [threading.Thread(target=hold, args=(f"op-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False, True]


# -- operation occurrences ------------------------------------------------------------------
def test_an_occurrence_round_trips_every_field(db: Db) -> None:
    app = uid("app")  # no instance needed: occurrences outlive theirs
    bare = occ(app)
    full = occ(
        app,
        operation=LcmOperation.OPERATE,
        state=OperationState.FAILED_TEMP,
        start_time=5.5,
        state_entered_time=6.75,
        params={"changeStateTo": "STOPPED", "gracefulStopTimeout": 10, "x": [None]},
        error={"status": 500, "detail": "✗"},
        cancel_pending=True,
        cancel_mode=CancelMode.FORCED,
        lease_owner="runner-1",
        lease_until=99.5,
    )
    empty_error = occ(app, error={})
    store_occs(db, bare, full, empty_error)
    with db.uows() as uow:
        for stored in (bare, full, empty_error):
            assert uow.op_occs.get(stored.op_occ_id) == stored
        assert uow.op_occs.get(uid("occ")) is None
    done = full.moved_to(
        OperationState.COMPLETED, 7.5, error=None, cancel_mode=None, cancel_pending=False
    )
    done = replace(done, params={}, lease_owner=None, lease_until=None)
    with db.write() as uow:
        uow.op_occs.update(done)
        uow.commit()
    with db.uows() as uow:
        assert uow.op_occs.get(full.op_occ_id) == done


def test_occurrences_are_listed_oldest_first_and_removed_per_instance(db: Db) -> None:
    app, other = uid("app"), uid("app")
    second, first = occ(app, start_time=41.5), occ(app, start_time=40.5)
    elsewhere = occ(other, start_time=39.5)
    store_occs(db, second, elsewhere, first)
    mine = {o.op_occ_id for o in (first, second, elsewhere)}
    with db.uows() as uow:
        assert uow.op_occs.all(app) == [first, second]
        assert [o for o in uow.op_occs.all() if o.op_occ_id in mine] == [elsewhere, first, second]
        assert uow.op_occs.all(uid("app")) == []
    with db.write() as uow:
        uow.op_occs.remove_for_instance(app)
        uow.commit()
    with db.uows() as uow:
        assert uow.op_occs.all(app) == []
        assert uow.op_occs.all(other) == [elsewhere]


def _claim(db: Db, owner: str, now: float, limit: int = 100) -> list[OpOcc]:
    with db.write() as uow:
        claimed: list[OpOcc] = uow.op_occs.claim(owner, now, now + 30, limit)
        uow.commit()
    return claimed


def test_claim_takes_runnable_unleased_occurrences_oldest_first(fresh: Db) -> None:
    app = uid("app")
    runnable = [
        occ(app, start_time=3.0, state=OperationState.PROCESSING),
        occ(app, start_time=1.0),
        occ(app, start_time=4.0, lease_owner="crashed", lease_until=49.0),  # expired
        occ(app, start_time=2.0, state=OperationState.PROCESSING, lease_owner="x"),
    ]
    held = [
        occ(app, start_time=0.1, lease_owner="alive", lease_until=80.0),
        occ(app, start_time=0.2, lease_owner="alive", lease_until=50.0),  # ends now: still held
        occ(app, start_time=0.3, state=OperationState.FAILED_TEMP),
        occ(app, start_time=0.4, state=OperationState.FAILED),
        occ(app, start_time=0.5, state=OperationState.COMPLETED),
    ]
    store_occs(fresh, *runnable, *held)
    oldest = sorted(runnable, key=lambda o: o.start_time)
    first = _claim(fresh, "w1", now=50.0, limit=2)
    assert first == [replace(o, lease_owner="w1", lease_until=80.0) for o in oldest[:2]]
    assert _claim(fresh, "w2", now=50.0) == [
        replace(o, lease_owner="w2", lease_until=80.0) for o in oldest[2:]
    ]
    assert _claim(fresh, "w3", now=50.0) == []
    with fresh.uows() as uow:
        assert uow.op_occs.get(oldest[0].op_occ_id) == first[0]
        for one in held:
            assert uow.op_occs.get(one.op_occ_id) == one


def test_an_expired_lease_is_taken_over(fresh: Db) -> None:
    one = occ(uid("app"))
    store_occs(fresh, one)
    assert [o.op_occ_id for o in _claim(fresh, "crashed", now=10.0)] == [one.op_occ_id]
    assert _claim(fresh, "survivor", now=39.0) == []
    taken = _claim(fresh, "survivor", now=41.0)
    assert taken == [replace(one, lease_owner="survivor", lease_until=71.0)]


def test_two_claimers_on_two_connections_never_share_an_occurrence(fresh: Db) -> None:
    """The first claim is still uncommitted while the second runs: PostgreSQL skips the
    locked rows at once; on SQLite the second waits for the first to commit."""
    occs = [occ(uid("app"), start_time=float(i)) for i in range(6)]
    store_occs(fresh, *occs)
    first_claimed, commit_first = threading.Event(), threading.Event()
    results: dict[str, list[str]] = {}

    def claimer(owner: str, limit: int, hold: bool) -> None:
        with fresh.write() as uow:
            claimed = uow.op_occs.claim(owner, 1.0, 31.0, limit)
            if hold:
                first_claimed.set()
                assert commit_first.wait(10)
            uow.commit()
        results[owner] = [o.op_occ_id for o in claimed]

    first = threading.Thread(target=claimer, args=("w1", 4, True))
    first.start()
    assert first_claimed.wait(10)
    second = threading.Thread(target=claimer, args=("w2", 10, False))
    second.start()
    second.join(2)
    if not is_sqlite(fresh.engine):
        assert not second.is_alive()  # SKIP LOCKED: no waiting for the first claimer
    commit_first.set()
    first.join(10)
    second.join(10)
    ids = [o.op_occ_id for o in occs]
    assert results["w1"] == ids[:4]
    assert results["w2"] == ids[4:]


def test_concurrent_claimers_never_share_an_occurrence(fresh: Db) -> None:
    occs = [occ(uid("app"), start_time=float(i)) for i in range(40)]
    store_occs(fresh, *occs)
    claimed: Counter[str] = Counter()
    lock = threading.Lock()

    def claimer(owner: str) -> None:
        for _ in range(20):
            found = _claim(fresh, owner, now=1.0, limit=3)
            with lock:
                claimed.update(o.op_occ_id for o in found)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(claimed) == {o.op_occ_id for o in occs}
    assert max(claimed.values()) == 1


# -- LCM subscriptions ----------------------------------------------------------------------
def test_lcm_subscriptions_round_trip(db: Db) -> None:
    plain = LcmSubscription(
        uid("sub"), LcmSubscriptionType.IDENTIFIER_CREATION, "http://x.test/cb", {}, None, 51.5
    )
    request = {
        "subscriptionType": "AppInstanceStateChangeSubscription",
        "callbackUri": "http://y.test/cb",
        "appInstanceSubscriptionFilter": {"appInstanceIdList": ["a", "b"], "none": None},
    }
    full = LcmSubscription(
        uid("sub"), LcmSubscriptionType.INSTANCE_STATE, "http://y.test/cb", request, "dan", 50.5
    )
    with db.write() as uow:
        uow.lcm_subscriptions.add(plain)
        uow.lcm_subscriptions.add(full)
        uow.commit()
    mine = {plain.subscription_id, full.subscription_id}
    with db.uows() as uow:
        assert uow.lcm_subscriptions.get(plain.subscription_id) == plain
        assert uow.lcm_subscriptions.get(full.subscription_id) == full
        assert [s for s in uow.lcm_subscriptions.all() if s.subscription_id in mine] == [
            full,
            plain,
        ]
    with db.write() as uow:
        uow.lcm_subscriptions.remove(full.subscription_id)
        uow.commit()
    with db.uows() as uow:
        assert uow.lcm_subscriptions.get(full.subscription_id) is None
        assert uow.lcm_subscriptions.get(plain.subscription_id) == plain


# -- migration ------------------------------------------------------------------------------
def _alembic(engine: Engine, step: str, revision: str) -> None:
    """Run Alembic to `revision`, configured as `storage.migrate.upgrade` configures it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, step)(config, revision)


def test_an_auth_database_upgrades_and_downgrades_keeping_its_instances(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        _alembic(engine, "upgrade", "0003")
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
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
        assert set(inspect(engine).get_table_names()) >= LIFECYCLE_TABLES
        with SqlUnitOfWorkFactory(engine)() as uow:
            assert uow.apps.get(app_id) == AppInstance(app_id, "legacy")
            assert uow.packages.all() == []
        _alembic(engine, "downgrade", "0003")
        assert not LIFECYCLE_TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= LIFECYCLE_TABLES
    finally:
        engine.dispose()


def test_the_lifecycle_schema_has_its_keys_and_indexes(db: Db) -> None:
    # The full tables.py <-> migration comparison is test_sql_app_support's
    # test_the_tables_match_the_migrated_schema; these are the constraints behaviour relies on.
    inspector = inspect(db.engine)
    unique = {i["name"]: i["unique"] for i in inspector.get_indexes("app_packages")}
    assert unique == {"ix_app_packages_app_d_id": True}
    references = {
        (tuple(fk["constrained_columns"]), fk["referred_table"])
        for fk in inspector.get_foreign_keys("lcm_instances")
    }
    assert references == {
        (("app_instance_id",), "app_instances"),
        (("app_pkg_id",), "app_packages"),
    }
    assert inspector.get_foreign_keys("lcm_op_occs") == []
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("lcm_op_occs")}
    assert indexes == {
        "ix_lcm_op_occs_app_instance_id": ["app_instance_id"],
        "ix_lcm_op_occs_state_lease_until": ["state", "lease_until"],
    }
