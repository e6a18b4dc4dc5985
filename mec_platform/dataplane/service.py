"""The data plane reconciler: makes the host's DNS server and packet filter match the database.

The database holds the desired state (every rule with its state); this loop applies the ACTIVE
rules whenever the rules version changes, woken by the HTTP processes right after a commit
and polling as a fallback. Each apply hands the adapters the complete set, so a missed wake-up
or a restart never leaves a stale rule behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from mec_platform.dataplane.ports import DnsRecord, DnsServer, PacketFilter, PacketRule

log = logging.getLogger("mec_platform.dataplane")


class RulesSource(Protocol):
    """Reads the desired state."""

    def version(self) -> int: ...

    def dns_records(self) -> list[DnsRecord]: ...

    def packet_rules(self) -> list[PacketRule]: ...


class DataPlane:
    """Applies ACTIVE rules to the DNS server and the packet filter when they changed."""

    def __init__(
        self,
        source: RulesSource,
        dns: DnsServer | None,
        packet_filter: PacketFilter | None,
        on_applied: Callable[[int], None] = lambda version: None,
    ) -> None:
        self._source = source
        self._dns = dns
        self._filter = packet_filter
        self._applied: int | None = None
        self._on_applied = on_applied

    @property
    def applied_version(self) -> int | None:
        """The rules version in force, None before the first successful apply."""
        return self._applied

    def invalidate(self) -> None:
        """Re-apply at the next sync even if the version did not change (after a restart)."""
        self._applied = None

    def sync(self) -> bool:
        """Apply the rules if they changed; True when something was applied.

        On failure the version stays unapplied, so the next sync retries everything.
        """
        version = self._source.version()
        if version == self._applied:
            return False
        if self._dns is not None:
            records = self._source.dns_records()
            self._dns.apply(records)
        if self._filter is not None:
            rules = self._source.packet_rules()
            self._filter.apply(rules)
        self._applied = version
        self._on_applied(version)
        log.info("rules applied", extra={"rules_version": version})
        return True

    def close(self) -> None:
        """Stop the DNS server; traffic rules stay in force (re-applied at the next start)."""
        if self._dns is not None:
            self._dns.close()
        if self._filter is not None:
            self._filter.close()
