"""Ports of Application Support: its repositories and the unit of work that adds them."""

from __future__ import annotations

from typing import Protocol

from mec_platform.appsupport.model import TerminationSubscription
from mec_platform.appsupport.rules import DnsRule, TrafficRule
from mec_platform.auth.ports import ClientRepository
from mec_platform.registry.ports import UnitOfWork


class TerminationSubscriptionRepository(Protocol):
    """AppTerminationNotificationSubscriptions."""

    def add(self, subscription: TerminationSubscription) -> None: ...

    def get(self, subscription_id: str) -> TerminationSubscription | None: ...

    def list_for_app(self, app_instance_id: str) -> list[TerminationSubscription]: ...

    def remove(self, subscription_id: str) -> None: ...


class DnsRuleRepository(Protocol):
    """DNS rules per application instance."""

    def add(self, app_instance_id: str, rule: DnsRule) -> None: ...

    def update(self, app_instance_id: str, rule: DnsRule) -> None: ...

    def get(self, app_instance_id: str, dns_rule_id: str) -> DnsRule | None: ...

    def owners_of(self, dns_rule_id: str) -> list[str]: ...

    def list_for_app(self, app_instance_id: str) -> list[DnsRule]: ...

    def active(self) -> list[tuple[str, DnsRule]]: ...

    def active_for_domain(self, domain_name: str) -> list[tuple[str, DnsRule]]: ...

    def lock_domain(self, domain_name: str) -> None:
        """Serialise writers of one domain name until the transaction ends."""
        ...

    def version(self) -> int:
        """Changes whenever any DNS or traffic rule changes (the data plane's cue)."""
        ...

    def applied_version(self) -> int:
        """The rules version the data plane last put in force (0 if never)."""
        ...

    def record_applied(self, version: int) -> None: ...

    def count_active(self) -> int: ...


class TrafficRuleRepository(Protocol):
    """Traffic rules per application instance."""

    def add(self, app_instance_id: str, rule: TrafficRule) -> None: ...

    def update(self, app_instance_id: str, rule: TrafficRule) -> None: ...

    def get(self, app_instance_id: str, traffic_rule_id: str) -> TrafficRule | None: ...

    def owners_of(self, traffic_rule_id: str) -> list[str]: ...

    def list_for_app(self, app_instance_id: str) -> list[TrafficRule]: ...

    def active(self) -> list[tuple[str, TrafficRule]]: ...

    def count_active(self) -> int: ...


class AppSupportUnitOfWork(UnitOfWork, Protocol):
    """The registry's unit of work plus the Application Support repositories."""

    @property
    def termination_subscriptions(self) -> TerminationSubscriptionRepository: ...

    @property
    def clients(self) -> ClientRepository: ...

    @property
    def dns_rules(self) -> DnsRuleRepository: ...

    @property
    def traffic_rules(self) -> TrafficRuleRepository: ...


class AppSupportUnitOfWorkFactory(Protocol):
    """Opens an AppSupportUnitOfWork."""

    def __call__(self, *, write: bool = False) -> AppSupportUnitOfWork: ...
