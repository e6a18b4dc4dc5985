"""Ports of the registry context: repositories and the unit of work that groups them."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from mec_platform.notifications.ports import OutboxRepository
from mec_platform.registry.model import AppInstance, Service, ServiceQuery, Subscription


class AppInstanceRepository(Protocol):
    """Application instance records."""

    def add(self, app: AppInstance) -> None: ...

    def update(self, app: AppInstance) -> None: ...

    def get(self, app_instance_id: str) -> AppInstance | None: ...

    def get_for_update(self, app_instance_id: str) -> AppInstance | None:
        """`get`, holding the record until the transaction ends."""
        ...

    def owner_of(self, app_instance_id: str) -> tuple[bool, str | None]:
        """(exists, owner user name) of an instance, cheaply: checked on every request."""
        ...

    def all(self) -> list[AppInstance]: ...

    def count(self) -> int: ...

    def terminations_due(self, now: float) -> list[AppInstance]:
        """Instances whose graceful stop or termination deadline has passed."""
        ...

    def remove(self, app_instance_id: str) -> None:
        """Delete the instance with its rules and termination subscriptions."""
        ...


class ServiceRepository(Protocol):
    """Registered MEC services."""

    def add(self, service: Service) -> None: ...

    def get(self, ser_instance_id: str) -> Service | None: ...

    def get_for_update(self, ser_instance_id: str) -> Service | None:
        """`get`, holding the record until the transaction ends."""
        ...

    def update(self, service: Service) -> None: ...

    def remove(self, ser_instance_id: str) -> None: ...

    def query(self, query: ServiceQuery) -> list[Service]: ...

    def record_heartbeat(self, ser_instance_id: str, at: float) -> None:
        """Store a heartbeat time only; the service's representation does not change."""
        ...

    def heartbeating(self) -> list[Service]: ...

    def version(self) -> int:
        """Changes whenever any service or application instance is written."""
        ...

    def count(self) -> int: ...


class SubscriptionRepository(Protocol):
    """Service availability subscriptions."""

    def add(self, subscription: Subscription) -> None: ...

    def get(self, subscription_id: str) -> Subscription | None: ...

    def list_for_app(self, app_instance_id: str) -> list[Subscription]: ...

    def list_live(self, now: float) -> list[Subscription]: ...

    def list_expired(self, now: float) -> list[Subscription]: ...

    def remove(self, subscription_id: str) -> None: ...

    def count(self) -> int: ...


class UnitOfWork(Protocol):
    """One database transaction over every repository; rolled back unless committed."""

    @property
    def apps(self) -> AppInstanceRepository: ...

    @property
    def services(self) -> ServiceRepository: ...

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens a unit of work; `write=True` takes the write lock up front where needed."""

    def __call__(self, *, write: bool = False) -> UnitOfWork: ...


class Clock(Protocol):
    """Wall-clock time in seconds since the epoch."""

    def __call__(self) -> float: ...


class IdGenerator(Protocol):
    """Allocates identifiers (UUIDs in production)."""

    def __call__(self) -> str: ...
