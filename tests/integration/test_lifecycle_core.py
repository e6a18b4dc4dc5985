"""The lifecycle core on real SQLite and PostgreSQL: the Lifecycle use cases, the operation
runner and the reconciler wired as `bootstrap()` and the lifecycle process wire them, with an
in-memory container runtime (tests/unit/fake_runtime.py) in place of Podman.

Each test has a database of its own (a runner claims every runnable occurrence it finds) and
drives the runner itself: `settle` lets it claim and waits until nothing is in flight.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from mec_platform.appsupport.model import OperationAction
from mec_platform.appsupport.wire import app_info_from_wire
from mec_platform.auth.credentials import secret_matches
from mec_platform.bootstrap import CachedHost, Platform, bootstrap, new_uuid
from mec_platform.config import Settings
from mec_platform.entrypoints.lifecycle import LifecycleProcess, build_lifecycle
from mec_platform.errors import Conflict, InvalidInput, NotFound
from mec_platform.lifecycle.model import (
    AppOperationalState,
    CancelMode,
    InstantiationState,
    LcmInstance,
    LcmSubscriptionType,
    OperationState,
    OpOcc,
)
from mec_platform.lifecycle.runtime import (
    APPD_LABEL,
    INSTANCE_LABEL,
    MANAGED_LABEL,
    PLATFORM_NAME,
    ContainerRuntimeError,
    ContainerStatus,
    HostResources,
    ImageNotFound,
    RuntimeUnavailable,
)
from mec_platform.lifecycle.service import Lifecycle, LifecycleHooks
from mec_platform.packages.appd import parse_appd
from mec_platform.packages.model import (
    AppPackage,
    OnboardedContent,
    OnboardingState,
    PackageOperationalState,
    PackageRequest,
    UsageState,
)
from mec_platform.registry.model import AppInstance, ServiceDraft, ServiceQuery, ServiceState
from mec_platform.storage.engine import is_sqlite
from mec_platform.storage.tables import outbox
from tests.unit.fake_runtime import FakeRuntime

T = TypeVar("T")
HOST_INFO = {"selectedMECHostInfo": [{"hostName": "umec-test", "hostId": {"id": "umec-test"}}]}
CALLBACK = "http://127.0.0.1:9/callback"
RESTART_LIMIT = 2


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_until(check: Callable[[], T], message: str, timeout: float = 10.0) -> T:
    """Poll `check` every 10 ms until it answers something truthy; that answer."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.01)
    return value


# -- the wired core -------------------------------------------------------------------------
@dataclass
class Core:
    """One platform on its own database, its lifecycle process and the fake runtime."""

    settings: Settings
    platform: Platform
    process: LifecycleProcess
    fake: FakeRuntime

    @property
    def lifecycle(self) -> Lifecycle:
        return self.platform.lifecycle

    def with_host(self, host: HostResources) -> Lifecycle:
        """The Lifecycle as bootstrap() builds it, on a host of the given size."""
        return _lifecycle(self.platform, self.settings, lambda: host)

    def with_clock(self, clock: Callable[[], float]) -> Lifecycle:
        """The Lifecycle as bootstrap() builds it, reading the time from `clock`."""
        return _lifecycle(self.platform, self.settings, CachedHost(self.fake), clock)


def _lifecycle(
    platform: Platform,
    settings: Settings,
    host: Callable[[], HostResources | None],
    clock: Callable[[], float] | None = None,
) -> Lifecycle:
    # The arguments bootstrap() gives Lifecycle, the host asked through our runtime.
    return Lifecycle(
        platform.uows,
        platform.registry,
        platform.auth.credentials,
        platform.lcm_notifier,
        clock or platform.clock,
        new_uuid,
        LifecycleHooks(
            lifecycle=platform.lifecycle_wakeup,
            worker=platform.wakeup,
            dataplane=platform.dataplane_wakeup,
        ),
        host=host,
        traffic_rules_enforced=settings.dataplane and settings.traffic_rules_enabled,
    )


@pytest.fixture
def core(database_url: str, tmp_path: Path) -> Iterator[Core]:
    env = {
        "MEC_DATABASE_URL": database_url,
        "HOME": str(tmp_path),
        "MEC_APP_NETWORK": "mec-apps",
        "MEC_RESTART_LIMIT": str(RESTART_LIMIT),
    }
    settings = Settings.from_env(env)
    fake = FakeRuntime()
    wired = bootstrap(settings)
    # The fake stands where bootstrap() puts PodmanRuntime: the platform's runtime (which the
    # lifecycle process uses) and the Lifecycle's host check. PackageCatalog keeps Podman, but
    # packages are stored directly here, never uploaded.
    platform = replace(wired, runtime=fake, lifecycle=_lifecycle(wired, settings, CachedHost(fake)))
    process = build_lifecycle(settings, platform)
    yield Core(settings, platform, process, fake)
    process.runner.close(wait=True)
    platform.close()


# -- builders and readers -------------------------------------------------------------------
def appd_document(app_d_id: str, reference: str, image_id: str, cpus: float, mib: int) -> Any:
    return {
        "appDId": app_d_id,
        "appName": "Camera",
        "appProvider": "ACME",
        "appSoftVersion": "1.0.0",
        "appDVersion": "1",
        "mecVersion": "3.1.1",
        "appDescription": "Counts cars.",
        "swImageDescriptor": [
            {
                "id": "img-1",
                "name": "camera",
                "version": "1.0.0",
                "containerFormat": "OCI",
                "checksum": {"algorithm": "SHA-256", "hash": image_id.removeprefix("sha256:")},
                "swImage": reference,
            }
        ],
        "virtualComputeDescriptor": {
            "virtualComputeDescId": "small",
            "virtualCpu": {"numVirtualCpu": cpus},
            "virtualMemory": {"virtualMemSize": mib},
        },
        "appExtCpd": [
            {
                "additionalServiceData": [
                    {"portData": [{"name": "http", "protocol": "TCP", "port": 8080}]}
                ]
            }
        ],
    }


def onboard(core: Core, cpus: float = 1, mib: int = 64) -> AppPackage:
    """An ONBOARDED, ENABLED package whose image the fake runtime holds."""
    app_d_id = uid("cam")
    image = core.fake.add_image(f"localhost/{app_d_id}:1")
    document = appd_document(app_d_id, image.names[0], image.image_id, cpus, mib)
    descriptor = parse_appd(document)  # a descriptor onboarding would accept
    package = AppPackage(
        app_pkg_id=uid("pkg"),
        request=PackageRequest("camera", "1.0.0", "ACME", "SHA-256", "ab" * 32, "/camera.zip"),
        onboarding_state=OnboardingState.ONBOARDED,
        operational_state=PackageOperationalState.ENABLED,
        usage_state=UsageState.NOT_IN_USE,
        created_at=time.time(),
        owner=None,
        content=OnboardedContent(
            app_d_id=app_d_id,
            app_name=descriptor.app_name,
            app_provider=descriptor.app_provider,
            app_soft_version=descriptor.app_soft_version,
            app_d_version=descriptor.app_d_version,
            appd=descriptor.document,
            content_sha256="cd" * 32,
            signer="SHA256:test",
            image_reference=image.names[0],
            image_id=image.image_id,
        ),
    )
    with core.platform.uows(write=True) as uow:
        uow.packages.add(package)
        uow.commit()
    return package


def new_instance(core: Core, package: AppPackage, name: str | None = None) -> str:
    assert package.app_d_id is not None
    instance, _fields = core.lifecycle.create_instance(package.app_d_id, name, None, None)
    return instance.app_instance_id


def stored_package(core: Core, package: AppPackage) -> AppPackage:
    with core.platform.uows() as uow:
        found = uow.packages.get(package.app_pkg_id)
    assert found is not None
    return found


def set_package_state(core: Core, package: AppPackage, state: PackageOperationalState) -> None:
    with core.platform.uows(write=True) as uow:
        current = uow.packages.get(package.app_pkg_id)
        assert current is not None
        uow.packages.update(replace(current, operational_state=state))
        uow.commit()


def instance_of(core: Core, app_instance_id: str) -> LcmInstance:
    return core.lifecycle.instance(app_instance_id)[0]


def registry_app(core: Core, app_instance_id: str) -> AppInstance | None:
    with core.platform.uows() as uow:
        return uow.apps.get(app_instance_id)


def subscribe(core: Core, kind: LcmSubscriptionType, **criteria: Any) -> str:
    request = {"subscriptionType": kind.value, "callbackUri": CALLBACK, **criteria}
    return core.lifecycle.subscribe(request, None).subscription_id


def queued(core: Core, *subscription_ids: str) -> list[dict[str, Any]]:
    """Notifications queued for these subscriptions, in outbox order."""
    query = (
        select(outbox.c.payload)
        .where(outbox.c.subscription_id.in_(subscription_ids))
        .order_by(outbox.c.id)
    )
    with core.platform.engine.connect() as conn:
        return [json.loads(payload) for payload in conn.execute(query).scalars()]


def states(notifications: list[dict[str, Any]]) -> list[str]:
    return [n.get("operationState") or n["appInstanceState"] for n in notifications]


def settle(core: Core, op_occ_id: str, timeout: float = 10.0) -> OpOcc:
    """Let the runner claim what waits, wait until it has finished; the occurrence."""
    runner = core.process.runner
    runner.step()
    wait_until(lambda: runner.in_flight() == 0, "the runner did not finish", timeout)
    return core.lifecycle.op_occ(op_occ_id)


def instantiated(core: Core, package: AppPackage | None = None) -> str:
    """A new instance, instantiated and STARTED."""
    app_id = new_instance(core, package or onboard(core))
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    assert settle(core, occ.op_occ_id).state is OperationState.COMPLETED
    return app_id


def content_image(package: AppPackage) -> str | None:
    return package.content.image_id if package.content else None


def container_name(app_instance_id: str) -> str:
    return f"umec-{app_instance_id}"


# -- identifiers ----------------------------------------------------------------------------
def test_create_instance_registers_the_app_and_notifies_matching_subscribers(core: Core) -> None:
    package = onboard(core)
    by_appd = {"appInstSelectorType": 3, "appInstances": [package.app_d_id]}
    mine = subscribe(
        core, LcmSubscriptionType.IDENTIFIER_CREATION, appInstanceSubscriptionFilter=by_appd
    )
    elsewhere = {"appInstSelectorType": 3, "appInstances": ["another-app"]}
    other = subscribe(
        core, LcmSubscriptionType.IDENTIFIER_CREATION, appInstanceSubscriptionFilter=elsewhere
    )
    state_changes = subscribe(core, LcmSubscriptionType.INSTANCE_STATE)
    assert package.app_d_id is not None

    instance, fields = core.lifecycle.create_instance(package.app_d_id, "front", "door", "alice")

    assert instance.instantiation_state is InstantiationState.NOT_INSTANTIATED
    assert (instance.operational_state, instance.current_op) == (None, None)
    assert (instance.name, instance.description, instance.owner) == ("front", "door", "alice")
    assert fields == {
        "appProvider": "ACME",
        "appName": "Camera",
        "appSoftVersion": "1.0.0",
        "appDVersion": "1",
    }
    app_id = instance.app_instance_id
    with core.platform.uows() as uow:
        assert uow.apps.get(app_id) == AppInstance(app_id, "front", owner="alice")
        assert uow.clients.for_app(app_id) is not None  # its OAuth2 client credentials
    assert stored_package(core, package).usage_state is UsageState.IN_USE
    [created] = queued(core, mine)
    assert created["notificationType"] == "AppIdentifierCreationSubscription"
    assert created["appInstanceId"] == app_id
    assert queued(core, other, state_changes) == []


def test_the_package_is_in_use_until_its_last_instance_is_deleted(core: Core) -> None:
    package = onboard(core)
    deletions = subscribe(core, LcmSubscriptionType.IDENTIFIER_DELETION)
    first, second = new_instance(core, package), new_instance(core, package)
    assert stored_package(core, package).usage_state is UsageState.IN_USE
    core.lifecycle.delete_instance(first)
    assert stored_package(core, package).usage_state is UsageState.IN_USE
    core.lifecycle.delete_instance(second)
    assert stored_package(core, package).usage_state is UsageState.NOT_IN_USE
    assert [n["appInstanceId"] for n in queued(core, deletions)] == [first, second]
    with core.platform.uows() as uow:
        assert uow.apps.get(first) is None
        assert uow.clients.for_app(first) is None
    with pytest.raises(NotFound):
        core.lifecycle.instance(first)


# -- instantiate ----------------------------------------------------------------------------
def test_instantiate_runs_to_completion(core: Core) -> None:
    package = onboard(core)
    app_id = new_instance(core, package)
    ops = subscribe(core, LcmSubscriptionType.OP_OCC_STATE)
    instance_states = subscribe(core, LcmSubscriptionType.INSTANCE_STATE)

    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    assert occ.state is OperationState.STARTING
    assert instance_of(core, app_id).current_op == occ.op_occ_id
    done = settle(core, occ.op_occ_id)

    assert done.state is OperationState.COMPLETED
    assert (done.error, done.lease_owner, done.lease_until) == (None, None, None)
    assert done.params == HOST_INFO
    container = core.fake.by_name(container_name(app_id))
    assert container is not None and container.state.running
    spec = container.spec
    assert content_image(package) == spec.image
    assert spec.network == "mec-apps"
    assert spec.labels == {
        MANAGED_LABEL: PLATFORM_NAME,
        INSTANCE_LABEL: app_id,
        APPD_LABEL: package.app_d_id,
    }
    assert (spec.cpus, spec.memory_bytes) == (1.0, 64 * 2**20)
    assert [p.container_port for p in spec.ports] == [8080]
    assert spec.environment["MEC_APP_INSTANCE_ID"] == app_id
    assert spec.environment["MEC_API_ROOT"] == "http://10.89.0.1:8080"
    with core.platform.uows() as uow:
        client = uow.clients.for_app(app_id)
    # The secret handed to the container is the one the platform accepts.
    assert client is not None
    assert secret_matches(spec.environment["MEC_OAUTH2_CLIENT_SECRET"], client.secret_hash)

    instance = instance_of(core, app_id)
    assert instance.instantiation_state is InstantiationState.INSTANTIATED
    assert instance.operational_state is AppOperationalState.STARTED
    assert instance.current_op is None
    assert instance.deployment is not None
    assert instance.deployment.container_id == container.state.container_id
    assert instance.deployment.ip_address == container.state.ip_address
    notifications = queued(core, ops, instance_states)
    assert states(notifications) == ["STARTING", "PROCESSING", "COMPLETED", "STARTED"]
    assert {n["appInstanceId"] for n in notifications} == {app_id}
    assert {n.get("appLcmOpOccId") for n in notifications[:3]} == {occ.op_occ_id}


def test_operate_stops_and_starts_the_container(core: Core) -> None:
    app_id = instantiated(core)
    name = container_name(app_id)
    stop = core.lifecycle.operate(app_id, {"changeStateTo": "STOPPED"})
    assert settle(core, stop.op_occ_id).state is OperationState.COMPLETED
    assert instance_of(core, app_id).operational_state is AppOperationalState.STOPPED
    container = core.fake.by_name(name)
    assert container is not None and container.state.status is ContainerStatus.EXITED
    start = core.lifecycle.operate(app_id, {"changeStateTo": "STARTED"})
    assert settle(core, start.op_occ_id).state is OperationState.COMPLETED
    assert instance_of(core, app_id).operational_state is AppOperationalState.STARTED
    container = core.fake.by_name(name)
    assert container is not None and container.state.running


# -- failures -------------------------------------------------------------------------------
def test_a_runtime_failure_holds_the_instance_until_the_occurrence_is_failed(core: Core) -> None:
    app_id = new_instance(core, onboard(core))
    core.fake.fail_next("create", ContainerRuntimeError("podman said: no space"))
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)

    failed = settle(core, occ.op_occ_id)
    assert failed.state is OperationState.FAILED_TEMP
    assert failed.error == {"title": "Conflict", "status": 409, "detail": "podman said: no space"}
    assert instance_of(core, app_id).current_op == occ.op_occ_id
    with pytest.raises(Conflict, match="has an operation in progress"):
        core.lifecycle.instantiate(app_id, HOST_INFO)
    with pytest.raises(Conflict, match=f"operation {occ.op_occ_id} holds it"):
        core.lifecycle.delete_instance(app_id)

    given_up = core.lifecycle.fail(occ.op_occ_id)
    assert given_up.state is OperationState.FAILED
    assert core.lifecycle.op_occ(occ.op_occ_id).state is OperationState.FAILED
    instance = instance_of(core, app_id)
    assert (instance.current_op, instance.instantiation_state) == (
        None,
        InstantiationState.NOT_INSTANTIATED,
    )
    assert core.fake.containers == {}
    again = core.lifecycle.instantiate(app_id, HOST_INFO)
    assert settle(core, again.op_occ_id).state is OperationState.COMPLETED


def test_retry_runs_a_failed_temp_occurrence_again(core: Core) -> None:
    app_id = new_instance(core, onboard(core))
    ops = subscribe(core, LcmSubscriptionType.OP_OCC_STATE)
    core.fake.fail_next("create", ContainerRuntimeError("podman said: no space"))
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    assert settle(core, occ.op_occ_id).state is OperationState.FAILED_TEMP

    retried = core.lifecycle.retry(occ.op_occ_id)
    assert retried.state is OperationState.STARTING
    assert retried.error is None
    done = settle(core, occ.op_occ_id)
    assert done.state is OperationState.COMPLETED and done.error is None
    assert [c.spec.name for c in core.fake.containers.values()] == [container_name(app_id)]
    assert states(queued(core, ops)) == [
        "STARTING",
        "PROCESSING",
        "FAILED_TEMP",
        "STARTING",
        "PROCESSING",
        "COMPLETED",
    ]


def test_a_failed_stop_keeps_the_instance_started_until_retried(core: Core) -> None:
    app_id = instantiated(core)
    core.fake.fail_next("stop", ContainerRuntimeError("container state improper"))
    occ = core.lifecycle.operate(app_id, {"changeStateTo": "STOPPED"})
    failed = settle(core, occ.op_occ_id)
    assert failed.state is OperationState.FAILED_TEMP
    assert failed.error is not None and failed.error["detail"] == "container state improper"
    instance = instance_of(core, app_id)
    assert instance.operational_state is AppOperationalState.STARTED
    assert instance.current_op == occ.op_occ_id
    with pytest.raises(Conflict, match="has an operation in progress"):
        core.lifecycle.terminate(app_id, {"terminationType": "FORCEFUL"})
    core.lifecycle.retry(occ.op_occ_id)
    assert settle(core, occ.op_occ_id).state is OperationState.COMPLETED
    assert instance_of(core, app_id).operational_state is AppOperationalState.STOPPED
    container = core.fake.by_name(container_name(app_id))
    assert container is not None and not container.state.running


def test_an_unreachable_runtime_is_failed_temp_503(core: Core) -> None:
    app_id = new_instance(core, onboard(core))
    core.fake.fail_next("create", RuntimeUnavailable("Podman cannot be reached: no such file"))
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    failed = settle(core, occ.op_occ_id)
    assert failed.state is OperationState.FAILED_TEMP
    assert failed.error is not None and failed.error["status"] == 503
    assert "cannot be reached" in failed.error["detail"]


@pytest.mark.parametrize("how", ["image gone", "create says so"])
def test_an_unknown_image_fails_for_good(core: Core, how: str) -> None:
    package = onboard(core)
    app_id = new_instance(core, package)
    if how == "image gone":
        core.fake.images.clear()
    else:
        core.fake.fail_next("create", ImageNotFound("localhost/cam:1: image not known"))
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    failed = settle(core, occ.op_occ_id)
    assert failed.state is OperationState.FAILED
    assert failed.error is not None
    assert (failed.error["status"], failed.error["title"]) == (400, "Bad request")
    assert "image not known" in failed.error["detail"]
    instance = instance_of(core, app_id)
    assert instance.current_op is None  # FAILED frees the instance at once
    assert instance.instantiation_state is InstantiationState.NOT_INSTANTIATED
    assert core.fake.containers == {}


def test_a_failed_start_removes_the_container_it_created(core: Core) -> None:
    app_id = new_instance(core, onboard(core))
    core.fake.fail_next("start", ContainerRuntimeError("crun: exec format error"))
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    failed = settle(core, occ.op_occ_id)
    assert failed.state is OperationState.FAILED_TEMP
    assert failed.error is not None and failed.error["detail"] == "crun: exec format error"
    assert core.fake.containers == {}
    created = [arg for op, arg in core.fake.calls if op == "create"]
    assert created == [container_name(app_id)]
    instance = instance_of(core, app_id)
    assert instance.instantiation_state is InstantiationState.NOT_INSTANTIATED
    assert instance.deployment is None


@pytest.mark.parametrize(
    ("package_size", "host", "detail"),
    [
        ({"cpus": 4}, HostResources(2, 2**30), "numVirtualCpu: 4 CPUs requested, the host has 2"),
        (
            {"mib": 2048},
            HostResources(8, 2**30),
            "virtualMemSize: 2048 MiB requested, the host has 1024 MiB",
        ),
    ],
)
def test_more_than_the_host_has_fails_in_the_runner(
    core: Core, package_size: dict[str, Any], host: HostResources, detail: str
) -> None:
    app_id = new_instance(core, onboard(core, **package_size))
    core.fake.host = None  # the runtime did not answer when the request came
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    core.fake.host = host
    failed = settle(core, occ.op_occ_id)
    assert failed.state is OperationState.FAILED
    assert failed.error == {"title": "Bad request", "status": 400, "detail": detail}
    assert [op for op, _ in core.fake.calls if op == "create"] == []
    assert instance_of(core, app_id).current_op is None


def test_the_request_is_refused_when_it_can_never_fit(core: Core) -> None:
    lifecycle = core.with_host(HostResources(cpus=2, memory_bytes=512 * 2**20))
    app_id = new_instance(core, onboard(core, cpus=1, mib=64))
    too_many = {"virtualCpu": {"numVirtualCpu": 4}, "virtualMemory": {"virtualMemSize": 64}}
    with pytest.raises(InvalidInput, match="4 CPUs requested, this MEC host has 2"):
        lifecycle.instantiate(app_id, {**HOST_INFO, "virtualComputeDescriptor": too_many})
    too_big = {"virtualCpu": {"numVirtualCpu": 1}, "virtualMemory": {"virtualMemSize": 1024}}
    with pytest.raises(InvalidInput, match="1024 MiB requested, this MEC host has 512 MiB"):
        lifecycle.instantiate(app_id, {**HOST_INFO, "virtualComputeDescriptor": too_big})
    assert core.lifecycle.op_occs(app_id) == []
    assert instance_of(core, app_id).current_op is None
    fits = lifecycle.instantiate(app_id, HOST_INFO)  # the AppD's own 1 CPU / 64 MiB
    assert settle(core, fits.op_occ_id).state is OperationState.COMPLETED


# -- cancel ---------------------------------------------------------------------------------
def test_cancelling_a_starting_occurrence_fails_it_at_once(core: Core) -> None:
    app_id = new_instance(core, onboard(core))
    ops = subscribe(core, LcmSubscriptionType.OP_OCC_STATE)
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    cancelled = core.lifecycle.cancel(occ.op_occ_id, CancelMode.GRACEFUL)
    assert cancelled.state is OperationState.FAILED_TEMP
    assert cancelled.cancel_mode is CancelMode.GRACEFUL
    assert cancelled.cancel_pending is False
    assert cancelled.error is not None and "INSTANTIATE was cancelled" in cancelled.error["detail"]
    assert core.lifecycle.op_occ(occ.op_occ_id) == cancelled
    assert core.process.runner.step() == 0  # nothing left to run
    assert [op for op, _ in core.fake.calls if op in {"create", "start"}] == []
    assert instance_of(core, app_id).current_op == occ.op_occ_id
    assert states(queued(core, ops)) == ["STARTING", "FAILED_TEMP"]


def test_cancelling_a_processing_occurrence_stops_it_at_the_next_checkpoint(core: Core) -> None:
    app_id = new_instance(core, onboard(core))
    gate = core.fake.gate("create")
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    core.process.runner.step()
    assert gate.entered.wait(10)
    assert core.lifecycle.op_occ(occ.op_occ_id).state is OperationState.PROCESSING

    pending = core.lifecycle.cancel(occ.op_occ_id, CancelMode.FORCED)
    assert pending.state is OperationState.PROCESSING
    assert (pending.cancel_pending, pending.cancel_mode) == (True, CancelMode.FORCED)
    gate.release.set()
    stopped = settle(core, occ.op_occ_id)

    assert stopped.state is OperationState.FAILED_TEMP
    assert stopped.cancel_pending is False
    assert stopped.cancel_mode is CancelMode.FORCED
    assert stopped.error is not None and "INSTANTIATE was cancelled" in stopped.error["detail"]
    assert core.fake.containers == {}  # created, then removed when the cancel was seen
    assert [op for op, _ in core.fake.calls if op == "start"] == []
    instance = instance_of(core, app_id)
    assert instance.instantiation_state is InstantiationState.NOT_INSTANTIATED
    assert instance.current_op == occ.op_occ_id


def test_a_cancel_that_comes_too_late_leaves_no_pending_flag(core: Core) -> None:
    app_id = new_instance(core, onboard(core))
    gate = core.fake.gate("start")
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    core.process.runner.step()
    assert gate.entered.wait(10)
    core.lifecycle.cancel(occ.op_occ_id, CancelMode.GRACEFUL)
    gate.release.set()
    done = settle(core, occ.op_occ_id)
    assert done.state is OperationState.COMPLETED  # past its last checkpoint: it completes
    assert done.cancel_pending is False


class PausingClock:
    """A clock whose first reading waits until the test lets it go on."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.resume = threading.Event()

    def __call__(self) -> float:
        self.reached.set()
        if not self.resume.wait(10):
            raise AssertionError("the paused clock was never resumed")
        return time.time()


def test_a_cancel_racing_the_runner_is_not_lost(core: Core) -> None:
    if is_sqlite(core.platform.engine):
        pytest.skip("SQLite writers are serialised: the runner cannot commit in between")
    app_id = new_instance(core, onboard(core))
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    clock = PausingClock()
    answers: list[OpOcc] = []
    # The cancel reads STARTING and stops at its clock reading, before it writes.
    canceller = threading.Thread(
        target=lambda: answers.append(
            core.with_clock(clock).cancel(occ.op_occ_id, CancelMode.FORCED)
        )
    )
    canceller.start()
    assert clock.reached.wait(10)
    # The cancel holds the occurrence's row: the runner skips it rather than run it meanwhile.
    assert core.process.runner.step() == 0
    clock.resume.set()
    canceller.join(10)
    assert [a.state for a in answers] == [OperationState.FAILED_TEMP]
    assert core.process.runner.step() == 0
    # The client was told FAILED_TEMP: the operation must not go on to create the app.
    assert core.lifecycle.op_occ(occ.op_occ_id).state is OperationState.FAILED_TEMP
    assert core.fake.containers == {}


def test_closed_occurrences_cannot_be_cancelled_failed_or_retried(core: Core) -> None:
    app_id = new_instance(core, onboard(core))
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    assert settle(core, occ.op_occ_id).state is OperationState.COMPLETED
    with pytest.raises(Conflict, match=r"cannot cancel .* in state COMPLETED"):
        core.lifecycle.cancel(occ.op_occ_id, CancelMode.FORCED)
    with pytest.raises(Conflict, match=r"cannot fail .* in state COMPLETED"):
        core.lifecycle.fail(occ.op_occ_id)
    with pytest.raises(Conflict, match=r"cannot retry .* in state COMPLETED"):
        core.lifecycle.retry(occ.op_occ_id)
    with pytest.raises(NotFound):
        core.lifecycle.cancel(uid("occ"), CancelMode.FORCED)
    assert core.lifecycle.op_occ(occ.op_occ_id).state is OperationState.COMPLETED


# -- state conflicts ------------------------------------------------------------------------
def test_operations_that_do_not_fit_the_state_are_conflicts(core: Core) -> None:
    package = onboard(core)
    app_id = new_instance(core, package)
    with pytest.raises(Conflict, match="is NOT_INSTANTIATED"):
        core.lifecycle.operate(app_id, {"changeStateTo": "STOPPED"})
    with pytest.raises(Conflict, match="is NOT_INSTANTIATED"):
        core.lifecycle.terminate(app_id, {"terminationType": "FORCEFUL"})
    first = core.lifecycle.instantiate(app_id, HOST_INFO)
    with pytest.raises(Conflict, match="has an operation in progress"):
        core.lifecycle.instantiate(app_id, HOST_INFO)
    assert settle(core, first.op_occ_id).state is OperationState.COMPLETED
    with pytest.raises(Conflict, match="is INSTANTIATED"):
        core.lifecycle.instantiate(app_id, HOST_INFO)
    with pytest.raises(Conflict, match="terminate it first"):
        core.lifecycle.delete_instance(app_id)
    with pytest.raises(Conflict, match="is STARTED already"):
        core.lifecycle.operate(app_id, {"changeStateTo": "STARTED"})
    assert [o.op_occ_id for o in core.lifecycle.op_occs(app_id)] == [first.op_occ_id]


def test_a_disabled_package_refuses_new_instances_and_instantiation(core: Core) -> None:
    package = onboard(core)
    assert package.app_d_id is not None
    app_id = new_instance(core, package)
    set_package_state(core, package, PackageOperationalState.DISABLED)
    with pytest.raises(Conflict, match="is DISABLED"):
        core.lifecycle.create_instance(package.app_d_id, None, None, None)
    with pytest.raises(Conflict, match="is DISABLED"):
        core.lifecycle.instantiate(app_id, HOST_INFO)
    assert core.lifecycle.op_occs(app_id) == []
    with pytest.raises(NotFound):
        core.lifecycle.create_instance(uid("unknown"), None, None, None)


def test_two_concurrent_instantiations_let_one_win(core: Core) -> None:
    app_id = new_instance(core, onboard(core))
    start = threading.Barrier(2)
    outcomes: list[OpOcc | Conflict] = []
    lock = threading.Lock()

    def instantiate() -> None:
        start.wait(10)
        try:
            outcome: OpOcc | Conflict = core.lifecycle.instantiate(app_id, HOST_INFO)
        except Conflict as exc:
            outcome = exc
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=instantiate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    accepted = [o for o in outcomes if isinstance(o, OpOcc)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(accepted), len(refused)) == (1, 1)
    assert core.lifecycle.op_occs(app_id) == accepted
    assert instance_of(core, app_id).current_op == accepted[0].op_occ_id


# -- takeover -------------------------------------------------------------------------------
def test_an_occurrence_of_a_runner_that_died_is_taken_over(core: Core) -> None:
    app_id = new_instance(core, onboard(core))
    occ = core.lifecycle.instantiate(app_id, HOST_INFO)
    now = time.time()
    # Another runner claimed it, moved it to PROCESSING, created its container and died.
    with core.platform.uows(write=True) as uow:
        [claimed] = uow.op_occs.claim("dead-runner", now, now + 60, 10)
        uow.op_occs.update(claimed.moved_to(OperationState.PROCESSING, now))
        uow.commit()
    labels = {MANAGED_LABEL: PLATFORM_NAME, INSTANCE_LABEL: app_id}
    leftover = core.fake.plant(container_name(app_id), labels, running=False)
    assert core.process.runner.step() == 0  # its lease still runs

    with core.platform.uows(write=True) as uow:
        current = uow.op_occs.get(occ.op_occ_id)
        assert current is not None
        uow.op_occs.update(replace(current, lease_until=now - 1))
        uow.commit()
    done = settle(core, occ.op_occ_id)

    assert done.state is OperationState.COMPLETED
    assert done.lease_owner is None
    container = core.fake.by_name(container_name(app_id))
    assert container is not None and container.state.running
    assert container.state.container_id != leftover.container_id
    assert len(core.fake.containers) == 1
    assert instance_of(core, app_id).operational_state is AppOperationalState.STARTED


# -- terminate ------------------------------------------------------------------------------
def register_with_a_service(core: Core, app_id: str) -> str:
    """The app registers through MEC 011, confirms ready and offers a service; its name."""
    info = app_info_from_wire({"appName": "Camera", "isInsByMec": True})
    core.platform.apps.register(info, app_id)
    core.platform.apps.confirm_ready(app_id, "READY")
    name = uid("cars")
    draft = ServiceDraft(name, "1.0", ServiceState.ACTIVE, "JSON", transport_id="rest-http")
    core.platform.registry.register_service(app_id, draft)
    return name


def services_of(core: Core, app_id: str) -> list[str]:
    with core.platform.uows() as uow:
        return [s.ser_name for s in uow.services.query(ServiceQuery(app_instance_id=app_id))]


def test_a_forceful_terminate_removes_the_container_and_winds_down_the_app(core: Core) -> None:
    app_id = instantiated(core)
    service = register_with_a_service(core, app_id)
    assert services_of(core, app_id) == [service]

    occ = core.lifecycle.terminate(app_id, {"terminationType": "FORCEFUL"})
    done = settle(core, occ.op_occ_id)

    assert done.state is OperationState.COMPLETED
    assert core.fake.containers == {}
    instance = instance_of(core, app_id)
    assert instance.instantiation_state is InstantiationState.NOT_INSTANTIATED
    assert (instance.operational_state, instance.deployment) == (None, None)
    app = registry_app(core, app_id)
    assert app is not None and app.info is None and not app.ready  # the identifier stays
    assert services_of(core, app_id) == []
    with core.platform.uows() as uow:
        assert uow.clients.for_app(app_id) is None  # its credentials are revoked
    core.lifecycle.delete_instance(app_id)
    assert registry_app(core, app_id) is None


def test_a_graceful_terminate_completes_when_the_app_confirms(core: Core) -> None:
    app_id = instantiated(core)
    register_with_a_service(core, app_id)
    core.platform.termination_subscriptions.subscribe(app_id, CALLBACK)
    errors: list[BaseException] = []

    def confirm_when_asked() -> None:
        try:
            wait_until(
                lambda: (app := registry_app(core, app_id)) is not None and app.termination,
                "the app was never asked to terminate",
            )
            core.platform.apps.confirm_termination(app_id, OperationAction.TERMINATING)
        except BaseException as exc:
            errors.append(exc)

    began = time.monotonic()
    occ = core.lifecycle.terminate(
        app_id, {"terminationType": "GRACEFUL", "gracefulTerminationTimeout": 30}
    )
    confirmer = threading.Thread(target=confirm_when_asked)
    confirmer.start()
    done = settle(core, occ.op_occ_id, timeout=40)
    confirmer.join(10)

    assert errors == []
    assert done.state is OperationState.COMPLETED
    assert time.monotonic() - began < 10  # the 30 s allowed were not waited for
    assert core.fake.containers == {}
    assert services_of(core, app_id) == []
    assert instance_of(core, app_id).instantiation_state is InstantiationState.NOT_INSTANTIATED


def test_a_graceful_terminate_without_subscribers_completes_at_once(core: Core) -> None:
    app_id = instantiated(core)
    began = time.monotonic()
    occ = core.lifecycle.terminate(
        app_id, {"terminationType": "GRACEFUL", "gracefulTerminationTimeout": 30}
    )
    done = settle(core, occ.op_occ_id)
    assert done.state is OperationState.COMPLETED
    assert time.monotonic() - began < 3
    assert core.fake.containers == {}


# -- reconcile ------------------------------------------------------------------------------
def test_a_killed_container_is_restarted_until_the_budget_is_used_up(core: Core) -> None:
    app_id = instantiated(core)
    register_with_a_service(core, app_id)
    watched = subscribe(core, LcmSubscriptionType.INSTANCE_STATE)
    name = container_name(app_id)
    reconciler = core.process.reconciler

    for restarts in range(1, RESTART_LIMIT + 1):
        core.fake.kill_behind_back(name)
        report = reconciler.run()
        assert (report.died, report.restarted) == ([app_id], [app_id])
        instance = instance_of(core, app_id)
        assert instance.operational_state is AppOperationalState.STARTED
        assert instance.restarts == restarts
        assert instance.runtime_problem == (
            "the container stopped outside the platform (exit code 137); restarted by the platform"
        )
        container = core.fake.by_name(name)
        assert container is not None and container.state.running
    assert services_of(core, app_id) == []  # a dead app's services went with it

    core.fake.kill_behind_back(name)
    report = reconciler.run()
    assert (report.died, report.restarted) == ([app_id], [])
    instance = instance_of(core, app_id)
    assert instance.operational_state is AppOperationalState.STOPPED
    assert instance.runtime_problem == (
        "the container stopped outside the platform (exit code 137)"
    )
    container = core.fake.by_name(name)
    assert container is not None and not container.state.running
    assert reconciler.run().died == []  # left STOPPED, not restarted again
    assert states(queued(core, watched)) == ["STOPPED", "STARTED"] * RESTART_LIMIT + ["STOPPED"]


def test_a_container_unknown_to_the_platform_is_reported_and_left_alone(core: Core) -> None:
    labels = {MANAGED_LABEL: PLATFORM_NAME, INSTANCE_LABEL: uid("nobody")}
    stranger = core.fake.plant(uid("stranger"), labels)
    core.fake.plant(uid("unmanaged"), {"owner": "someone else"})
    for _ in range(2):
        report = core.process.reconciler.run()
        assert report.unknown == [stranger.name]
        assert (report.died, report.missing, report.restarted) == ([], [], [])
    container = core.fake.by_name(stranger.name)
    assert container is not None and container.state.running
    assert [op for op, _ in core.fake.calls if op in {"remove", "stop", "kill"}] == []


def test_a_missing_container_is_reported_once(core: Core) -> None:
    app_id = instantiated(core)
    watched = subscribe(core, LcmSubscriptionType.INSTANCE_STATE)
    core.fake.remove_behind_back(container_name(app_id))
    report = core.process.reconciler.run()
    assert report.missing == [app_id]
    instance = instance_of(core, app_id)
    assert instance.operational_state is AppOperationalState.STOPPED
    assert instance.runtime_problem == "the container is gone (removed outside the platform)"
    assert core.process.reconciler.run().missing == []
    assert states(queued(core, watched)) == ["STOPPED"]


def test_an_instance_under_an_operation_is_left_to_the_runner(core: Core) -> None:
    app_id = instantiated(core)
    core.lifecycle.operate(app_id, {"changeStateTo": "STOPPED"})  # recorded, not run yet
    core.fake.kill_behind_back(container_name(app_id))
    report = core.process.reconciler.run()
    assert (report.died, report.missing, report.restarted) == ([], [], [])
    assert instance_of(core, app_id).runtime_problem is None


# -- notification identity ------------------------------------------------------------------
def test_copies_of_one_notification_share_their_id(core: Core) -> None:
    app_id = new_instance(core, onboard(core))
    request = {"subscriptionType": LcmSubscriptionType.OP_OCC_STATE.value, "callbackUri": CALLBACK}
    first = core.lifecycle.subscribe(request, "alice").subscription_id
    second = core.lifecycle.subscribe(request, "alice").subscription_id
    core.lifecycle.instantiate(app_id, HOST_INFO)
    [one], [other] = queued(core, first), queued(core, second)
    assert one["id"] == other["id"]
