"""Ports of the application lifecycle: repositories of instances, operation occurrences and
LCM subscriptions, and the unit of work that holds them next to packages and the registry."""

from __future__ import annotations

from typing import Protocol

from mec_platform.appsupport.ports import AppSupportUnitOfWork
from mec_platform.lifecycle.model import LcmInstance, LcmSubscription, OpOcc
from mec_platform.packages.ports import PackageRepository, PackageSubscriptionRepository


class LcmInstanceRepository(Protocol):
    """App instances created through MEC 010-2 (AppInstanceInfo)."""

    def add(self, instance: LcmInstance) -> None: ...

    def get(self, app_instance_id: str) -> LcmInstance | None: ...

    def get_for_update(self, app_instance_id: str) -> LcmInstance | None:
        """The instance, locked until the transaction ends."""
        ...

    def all(self) -> list[LcmInstance]: ...

    def update(self, instance: LcmInstance) -> None:
        """Store every changed field of an existing instance."""
        ...

    def remove(self, app_instance_id: str) -> None: ...

    def count_for_package(self, app_pkg_id: str) -> int: ...

    def hold(self, app_instance_id: str, op_occ_id: str) -> bool:
        """Make the occurrence the instance's current operation unless another one holds it
        (a single conditional UPDATE, so two concurrent requests cannot both win)."""
        ...

    def release(self, app_instance_id: str, op_occ_id: str) -> None:
        """Clear the current operation if it is still this occurrence."""
        ...


class OpOccRepository(Protocol):
    """Lifecycle operation occurrences (AppLcmOpOcc)."""

    def add(self, occ: OpOcc) -> None: ...

    def get(self, op_occ_id: str) -> OpOcc | None: ...

    def get_for_update(self, op_occ_id: str) -> OpOcc | None:
        """The occurrence, locked until the transaction ends."""
        ...

    def all(self, app_instance_id: str | None = None) -> list[OpOcc]:
        """Oldest first; all of them, or those of one instance."""
        ...

    def update(self, occ: OpOcc) -> None: ...

    def claim(self, owner: str, now: float, lease_until: float, limit: int) -> list[OpOcc]:
        """Lease up to `limit` occurrences to run: STARTING or PROCESSING ones whose lease is
        missing or expired, oldest first."""
        ...

    def remove_for_instance(self, app_instance_id: str) -> None: ...


class LcmSubscriptionRepository(Protocol):
    """LCM subscriptions of the four kinds."""

    def add(self, subscription: LcmSubscription) -> None: ...

    def get(self, subscription_id: str) -> LcmSubscription | None: ...

    def all(self) -> list[LcmSubscription]: ...

    def remove(self, subscription_id: str) -> None: ...


class LifecycleUnitOfWork(AppSupportUnitOfWork, Protocol):
    """Application Support's unit of work plus packages and the lifecycle repositories."""

    @property
    def packages(self) -> PackageRepository: ...

    @property
    def package_subscriptions(self) -> PackageSubscriptionRepository: ...

    @property
    def lcm_instances(self) -> LcmInstanceRepository: ...

    @property
    def op_occs(self) -> OpOccRepository: ...

    @property
    def lcm_subscriptions(self) -> LcmSubscriptionRepository: ...


class LifecycleUnitOfWorkFactory(Protocol):
    """Opens a LifecycleUnitOfWork."""

    def __call__(self, *, write: bool = False) -> LifecycleUnitOfWork: ...
