"""Reads the desired data plane state through the platform's unit of work."""

from __future__ import annotations

from mec_platform.appsupport.ports import AppSupportUnitOfWorkFactory
from mec_platform.dataplane.ports import DnsRecord, PacketRule


class UnitOfWorkRulesSource:
    """The ACTIVE rules as the data plane needs them."""

    def __init__(self, uows: AppSupportUnitOfWorkFactory) -> None:
        self._uows = uows

    def version(self) -> int:
        with self._uows() as uow:
            return uow.dns_rules.version()

    def dns_records(self) -> list[DnsRecord]:
        with self._uows() as uow:
            active = uow.dns_rules.active()
        return [
            DnsRecord(rule.domain_name.lower().rstrip("."), rule.ip_address, rule.ttl)
            for _app, rule in active
        ]

    def record_applied(self, version: int) -> None:
        """Publish the version in force (metrics compare it with the current one)."""
        with self._uows(write=True) as uow:
            uow.dns_rules.record_applied(version)
            uow.commit()

    def packet_rules(self) -> list[PacketRule]:
        with self._uows() as uow:
            active = uow.traffic_rules.active()
        return [PacketRule(app, rule) for app, rule in active]
