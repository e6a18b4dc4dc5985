"""Reconciliation: the platform's records against the containers Podman actually has.

A container of ours that died is reported (instance STOPPED with the reason, a notification)
and restarted while the restart budget lasts; a container that vanished is reported; a
container labelled as ours that no instance knows is reported and left alone, never killed.
Instances with an operation in progress are the runner's business and are skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from mec_platform.lifecycle.model import AppOperationalState, LcmInstance
from mec_platform.lifecycle.notify import LcmNotifier
from mec_platform.lifecycle.ports import LifecycleUnitOfWorkFactory
from mec_platform.lifecycle.runtime import (
    INSTANCE_LABEL,
    MANAGED_LABEL,
    PLATFORM_NAME,
    ContainerRuntime,
    ContainerRuntimeError,
    ContainerState,
)

log = logging.getLogger("mec_platform.lifecycle")


@dataclass
class ReconcileReport:
    """What one pass found."""

    checked: int = 0
    died: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


class Reconciler:
    """Compares lcm_instances with the runtime's labelled containers."""

    def __init__(
        self,
        uows: LifecycleUnitOfWorkFactory,
        runtime: ContainerRuntime,
        notifier: LcmNotifier,
        restart_limit: int = 3,
        notify_worker: Callable[[], None] = lambda: None,
        wind_down: Callable[[str], None] = lambda app_instance_id: None,
    ) -> None:
        self._uows = uows
        self._wind_down = wind_down
        self._runtime = runtime
        self._notifier = notifier
        self._restart_limit = restart_limit
        self._notify_worker = notify_worker
        self._reported_unknown: set[str] = set()

    def run(self) -> ReconcileReport:
        """One pass; raises RuntimeUnavailable when Podman cannot be asked."""
        containers = self._runtime.list_labelled(MANAGED_LABEL, PLATFORM_NAME)
        with self._uows() as uow:
            instances = uow.lcm_instances.all()
        report = ReconcileReport(checked=len(instances))
        known = {i.app_instance_id for i in instances}
        by_instance = {c.labels.get(INSTANCE_LABEL): c for c in containers}
        for container in containers:
            if container.labels.get(INSTANCE_LABEL) not in known:
                report.unknown.append(container.name)
                self._report_unknown(container)
        for instance in instances:
            if instance.instantiated and instance.current_op is None and instance.deployment:
                self._check(instance, by_instance.get(instance.app_instance_id), report)
        return report

    def _report_unknown(self, container: ContainerState) -> None:
        if container.container_id in self._reported_unknown:
            return
        self._reported_unknown.add(container.container_id)
        log.warning(
            "container labelled as the platform's belongs to no app instance; left alone",
            extra={"container": container.name, "container_id": container.container_id},
        )

    def _check(
        self, instance: LcmInstance, container: ContainerState | None, report: ReconcileReport
    ) -> None:
        wanted = instance.operational_state is AppOperationalState.STARTED
        if container is None:
            if instance.runtime_problem is None or wanted:
                report.missing.append(instance.app_instance_id)
                self._record(instance, "the container is gone (removed outside the platform)")
            return
        if not wanted or container.running:
            return
        report.died.append(instance.app_instance_id)
        reason = f"the container stopped outside the platform (exit code {container.exit_code})"
        stopped = self._record(instance, reason)
        if stopped.restarts >= self._restart_limit:
            log.warning(
                "app container died; restart budget used up",
                extra={"app_instance_id": instance.app_instance_id, "restarts": stopped.restarts},
            )
            return
        try:
            self._runtime.start(container.container_id)
        except ContainerRuntimeError as exc:
            self._record(stopped, f"{reason}; restart failed: {exc.detail}")
            return
        report.restarted.append(instance.app_instance_id)
        self._save(
            replace(
                stopped,
                operational_state=AppOperationalState.STARTED,
                restarts=stopped.restarts + 1,
                runtime_problem=f"{reason}; restarted by the platform",
            )
        )

    def _record(self, instance: LcmInstance, problem: str) -> LcmInstance:
        # A dead app's services must not stay discoverable; on restart it registers again.
        self._wind_down(instance.app_instance_id)
        log.warning(
            "app container not running",
            extra={"app_instance_id": instance.app_instance_id, "problem": problem},
        )
        return self._save(
            replace(
                instance, operational_state=AppOperationalState.STOPPED, runtime_problem=problem
            )
        )

    def _save(self, instance: LcmInstance) -> LcmInstance:
        with self._uows(write=True) as uow:
            current = uow.lcm_instances.get_for_update(instance.app_instance_id)
            if current is None or current.current_op is not None:
                return instance  # deleted or taken by an operation meanwhile
            uow.lcm_instances.update(instance)
            queued = self._notifier.instance_state(uow, instance)
            uow.commit()
        if queued:
            self._notify_worker()
        return instance
