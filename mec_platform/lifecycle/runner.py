"""Runs lifecycle operation occurrences against the container runtime (the lifecycle process).

Each claimed occurrence moves STARTING -> PROCESSING -> COMPLETED, or to FAILED (a retry
cannot help: unknown image, more resources than the host has) or FAILED_TEMP (the runtime
failed or the operation was cancelled; retry or fail it). Whatever fails, nothing half-made
stays behind: a container created for a failed INSTANTIATE is removed.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from mec_platform.appsupport.model import OperationAction
from mec_platform.appsupport.service import AppSupport
from mec_platform.auth.credentials import AppCredentials
from mec_platform.errors import Conflict, InvalidInput, NotFound, PlatformError
from mec_platform.lifecycle.containers import ContainerPlan
from mec_platform.lifecycle.descriptors import requested_resources
from mec_platform.lifecycle.model import (
    AppOperationalState,
    Deployment,
    InstantiationState,
    LcmInstance,
    LcmOperation,
    OperationState,
    OpOcc,
    StopType,
)
from mec_platform.lifecycle.notify import LcmNotifier
from mec_platform.lifecycle.ports import LifecycleUnitOfWorkFactory
from mec_platform.lifecycle.runtime import (
    ContainerNotFound,
    ContainerRuntime,
    ContainerRuntimeError,
    ContainerState,
    HostResources,
    ImageNotFound,
    RuntimeUnavailable,
)
from mec_platform.lifecycle.service import cancelled_problem
from mec_platform.registry.model import JsonObject
from mec_platform.registry.ports import Clock

log = logging.getLogger("mec_platform.lifecycle")


class Cancelled(Exception):
    """The occurrence was cancelled while it ran."""


class Unrecoverable(PlatformError):
    """A failure that a retry cannot fix: the occurrence ends FAILED."""


@dataclass(frozen=True)
class RunnerOptions:
    """How the lifecycle process runs operations."""

    owner: str
    lease: float = 120.0
    concurrency: int = 8
    poll: float = 0.1
    default_graceful_timeout: int = 10


class OperationRunner:
    """Claims occurrences from the database and carries them out, several at a time."""

    def __init__(
        self,
        uows: LifecycleUnitOfWorkFactory,
        runtime: ContainerRuntime,
        apps: AppSupport,
        credentials: AppCredentials,
        notifier: LcmNotifier,
        plan: ContainerPlan,
        clock: Clock,
        options: RunnerOptions,
        notify_worker: Callable[[], None] = lambda: None,
        mqtt_environment: Callable[[str, JsonObject], dict[str, str]] | None = None,
    ) -> None:
        self._uows = uows
        # The app's MQTT access, issued afresh at each instantiation (None: no broker here).
        self._mqtt_environment = mqtt_environment
        self._runtime = runtime
        self._apps = apps
        self._credentials = credentials
        self._notifier = notifier
        self._plan = plan
        self._clock = clock
        self._options = options
        self._notify_worker = notify_worker
        self._pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="lcm-op")
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._host: HostResources | None = None

    def step(self) -> int:
        """Claim what free slots allow and start running it; how many were started."""
        with self._lock:
            free = self._options.concurrency - len(self._running)
        if free <= 0:
            return 0
        now = self._clock()
        with self._uows(write=True) as uow:
            claimed = uow.op_occs.claim(self._options.owner, now, now + self._options.lease, free)
            uow.commit()
        for occ in claimed:
            with self._lock:
                self._running.add(occ.op_occ_id)
            self._pool.submit(self._run_guarded, occ)
        return len(claimed)

    def in_flight(self) -> int:
        """Occurrences being run right now."""
        with self._lock:
            return len(self._running)

    def close(self, wait: bool = True) -> None:
        """Stop taking work; finish (or abandon) what runs."""
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def run_now(self, occ: OpOcc) -> None:
        """Run one claimed occurrence in the calling thread (tests, benchmarks)."""
        self._run_guarded(occ)

    # -- one occurrence ---------------------------------------------------------------------
    def _run_guarded(self, occ: OpOcc) -> None:
        try:
            self._run(occ)
        except Exception:
            log.exception("operation occurrence crashed", extra={"op_occ_id": occ.op_occ_id})
            self._finish_failed(occ, OperationState.FAILED_TEMP, _problem(500, "internal error"))
        finally:
            with self._lock:
                self._running.discard(occ.op_occ_id)

    def _run(self, claimed: OpOcc) -> None:
        occ = self._processing(claimed)
        if occ is None:
            return
        try:
            if occ.operation is LcmOperation.INSTANTIATE:
                self._instantiate(occ)
            elif occ.operation is LcmOperation.OPERATE:
                self._operate(occ)
            else:
                self._terminate(occ)
        except Cancelled:
            self._finish_failed(occ, OperationState.FAILED_TEMP, cancelled_problem(occ))
        except (Unrecoverable, ImageNotFound, InvalidInput) as exc:
            self._finish_failed(occ, OperationState.FAILED, _problem(400, exc.detail))
        except (ContainerRuntimeError, Conflict, NotFound) as exc:
            status = 503 if isinstance(exc, RuntimeUnavailable) else 409
            self._finish_failed(occ, OperationState.FAILED_TEMP, _problem(status, exc.detail))

    def _processing(self, occ: OpOcc) -> OpOcc | None:
        with self._uows(write=True) as uow:
            current = uow.op_occs.get_for_update(occ.op_occ_id)
            instance = uow.lcm_instances.get(occ.app_instance_id)
            if current is None or instance is None or current.lease_owner != self._options.owner:
                return None
            if current.state is OperationState.PROCESSING:
                return current  # taken over from a runner that stopped half-way
            current = current.moved_to(OperationState.PROCESSING, self._clock())
            uow.op_occs.update(current)
            queued = self._notifier.op_occ(uow, current, instance)
            uow.commit()
        self._after(queued)
        return current

    def _check_cancel(self, occ: OpOcc) -> None:
        with self._uows() as uow:
            current = uow.op_occs.get(occ.op_occ_id)
        if current is not None and current.cancel_pending:
            raise Cancelled

    # -- INSTANTIATE ------------------------------------------------------------------------
    def _instantiate(self, occ: OpOcc) -> None:
        with self._uows() as uow:
            instance = _require_instance(uow.lcm_instances.get(occ.app_instance_id))
            package = uow.packages.get(instance.app_pkg_id)
        if package is None or package.content is None:
            raise Unrecoverable(f"appDId: the package of '{instance.app_instance_id}' is gone")
        appd = package.content.appd
        self._check_host(appd, occ.params)
        image = package.content.image_id or package.content.image_reference or ""
        self._remove_leftover(instance)
        secret = self._credentials.replace(instance.app_instance_id).client_secret
        spec = self._plan.spec(instance, appd, occ.params, image, secret)
        if self._mqtt_environment is not None:
            extra = self._mqtt_environment(instance.app_instance_id, appd)
            spec = replace(spec, environment={**spec.environment, **extra})
        self._check_cancel(occ)
        created = self._runtime.create(spec)
        try:
            self._check_cancel(occ)
            started = self._runtime.start(created.container_id)
            deployment = _deployment(started)
            self._complete(
                occ,
                lambda i: replace(
                    i,
                    instantiation_state=InstantiationState.INSTANTIATED,
                    operational_state=AppOperationalState.STARTED,
                    deployment=deployment,
                    restarts=0,
                    runtime_problem=None,
                ),
            )
        except BaseException:
            self._runtime.remove(created.container_id, force=True)
            raise
        log.info(
            "app instance instantiated",
            extra={
                "app_instance_id": instance.app_instance_id,
                "container": deployment.container_name,
            },
        )

    def _check_host(self, appd: JsonObject, params: JsonObject) -> None:
        # Asked once: `podman info` is slow, and the host does not change while we run.
        if self._host is None:
            self._host = self._runtime.host_resources()
        host = self._host
        cpus, memory_mib = requested_resources(appd, params)
        if cpus is not None and cpus > host.cpus:
            raise Unrecoverable(f"numVirtualCpu: {cpus:g} CPUs requested, the host has {host.cpus}")
        if memory_mib is not None and memory_mib * 2**20 > host.memory_bytes:
            raise Unrecoverable(
                f"virtualMemSize: {memory_mib} MiB requested, the host has "
                f"{host.memory_bytes // 2**20} MiB"
            )

    def _remove_leftover(self, instance: LcmInstance) -> None:
        # A retry, or a runner that died between create and commit, may have left one.
        name = self._plan.container_name(instance.app_instance_id)
        self._runtime.remove(name, force=True)

    # -- OPERATE ----------------------------------------------------------------------------
    def _operate(self, occ: OpOcc) -> None:
        instance = self._deployed(occ)
        assert instance.deployment is not None
        target = AppOperationalState(str(occ.params["changeStateTo"]))
        if target is AppOperationalState.STARTED:
            state = self._runtime.start(instance.deployment.container_id)
            deployment = _deployment(state)
        else:
            graceful = str(occ.params.get("stopType", "FORCEFUL")) == StopType.GRACEFUL.value
            timeout = _timeout(occ.params.get("gracefulStopTimeout"), self._options)
            if graceful:
                self._graceful(occ, OperationAction.STOPPING, timeout)
            self._runtime.stop(instance.deployment.container_id, 0 if not graceful else 2)
            # Its MEC 011 presence goes with the process; the restarted app registers again
            # (its address may change with the restart).
            self._apps.wind_down(occ.app_instance_id, revoke_credentials=False)
            deployment = instance.deployment
        self._complete(
            occ,
            lambda i: replace(
                i,
                operational_state=target,
                deployment=deployment,
                runtime_problem=None,
                # Started by its owner: the automatic restart budget starts afresh.
                restarts=0 if target is AppOperationalState.STARTED else i.restarts,
            ),
        )

    # -- TERMINATE --------------------------------------------------------------------------
    def _terminate(self, occ: OpOcc) -> None:
        instance = self._deployed(occ)
        assert instance.deployment is not None
        graceful = str(occ.params.get("terminationType")) == StopType.GRACEFUL.value
        if graceful:
            timeout = _timeout(occ.params.get("gracefulTerminationTimeout"), self._options)
            self._graceful(occ, OperationAction.TERMINATING, timeout)
        self._runtime.remove(instance.deployment.container_id, force=True)
        self._apps.wind_down(occ.app_instance_id, revoke_credentials=True)
        self._complete(
            occ,
            lambda i: replace(
                i,
                instantiation_state=InstantiationState.NOT_INSTANTIATED,
                operational_state=None,
                deployment=None,
                runtime_problem=None,
            ),
        )

    def _graceful(self, occ: OpOcc, action: OperationAction, timeout: int) -> None:
        """Tell the app (AppTerminationNotification) and wait for its confirmation or the end
        of the timeout; the app's MEC 011 registration is wound down either way."""
        if timeout < 1:
            return
        # A termination under way already (Conflict): wait for that one.
        with contextlib.suppress(Conflict):
            self._apps.begin_termination(occ.app_instance_id, action, timeout)
        deadline = time.monotonic() + timeout + 2
        while time.monotonic() < deadline:
            self._check_cancel(occ)
            self._apps.finish_due_terminations()
            with self._uows() as uow:
                app = uow.apps.get(occ.app_instance_id)
            if app is None or app.termination is None:
                return
            time.sleep(self._options.poll)

    # -- shared -----------------------------------------------------------------------------
    def _deployed(self, occ: OpOcc) -> LcmInstance:
        with self._uows() as uow:
            instance = _require_instance(uow.lcm_instances.get(occ.app_instance_id))
        if instance.deployment is None:
            raise Unrecoverable(f"appInstanceId: '{instance.app_instance_id}' has no container")
        try:
            self._runtime.inspect(instance.deployment.container_id)
        except ContainerNotFound:
            if occ.operation is not LcmOperation.TERMINATE:
                raise Unrecoverable(
                    f"appInstanceId: the container of '{instance.app_instance_id}' is gone; "
                    "terminate and instantiate the instance again"
                ) from None
        return instance

    def _complete(self, occ: OpOcc, change: Callable[[LcmInstance], LcmInstance]) -> None:
        with self._uows(write=True) as uow:
            instance = _require_instance(uow.lcm_instances.get_for_update(occ.app_instance_id))
            instance = replace(change(instance), current_op=None)
            uow.lcm_instances.update(instance)
            current = uow.op_occs.get_for_update(occ.op_occ_id) or occ
            # A cancel that came after the last checkpoint is moot: the work is done.
            done = current.moved_to(
                OperationState.COMPLETED,
                self._clock(),
                lease_owner=None,
                lease_until=None,
                cancel_pending=False,
                cancel_mode=None,
            )
            uow.op_occs.update(done)
            queued = self._notifier.op_occ(uow, done, instance)
            queued = self._notifier.instance_state(uow, instance) or queued
            uow.commit()
        self._after(queued)

    def _finish_failed(self, occ: OpOcc, state: OperationState, error: JsonObject) -> None:
        log.warning(
            "operation occurrence failed",
            extra={"op_occ_id": occ.op_occ_id, "state": state.value, "detail": error.get("detail")},
        )
        with self._uows(write=True) as uow:
            current = uow.op_occs.get_for_update(occ.op_occ_id) or occ
            failed = current.moved_to(
                state,
                self._clock(),
                error=error,
                lease_owner=None,
                lease_until=None,
                cancel_pending=False,
            )
            uow.op_occs.update(failed)
            if state is OperationState.FAILED:
                uow.lcm_instances.release(occ.app_instance_id, occ.op_occ_id)
            instance = uow.lcm_instances.get(occ.app_instance_id)
            queued = instance is not None and self._notifier.op_occ(uow, failed, instance)
            uow.commit()
        self._after(queued)

    def _after(self, queued: bool) -> None:
        if queued:
            self._notify_worker()


def _require_instance(instance: LcmInstance | None) -> LcmInstance:
    if instance is None:
        raise Unrecoverable("appInstanceId: the app instance was deleted")
    return instance


def _deployment(state: ContainerState) -> Deployment:
    return Deployment(
        container_id=state.container_id,
        container_name=state.name,
        image=state.image,
        ip_address=state.ip_address,
        ports=tuple(
            {"port": p.container_port, "protocol": p.protocol, "hostPort": p.host_port}
            for p in state.ports
        ),
    )


def _timeout(value: object, options: RunnerOptions) -> int:
    return value if isinstance(value, int) and value >= 0 else options.default_graceful_timeout


def _problem(status: int, detail: str) -> JsonObject:
    titles = {
        400: "Bad request",
        409: "Conflict",
        500: "Internal error",
        503: "Runtime unavailable",
    }
    return {"title": titles.get(status, "Operation failed"), "status": status, "detail": detail}
