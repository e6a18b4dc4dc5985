"""Ports of the data plane: the DNS server and the packet filter the rules are applied to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mec_platform.appsupport.rules import TrafficRule


@dataclass(frozen=True)
class DnsRecord:
    """One name the platform's DNS server answers: an A record or an AAAA record."""

    name: str
    address: str
    ttl: int | None = None


@dataclass(frozen=True)
class PacketRule:
    """An ACTIVE traffic rule of one application, as the packet filter receives it."""

    app_instance_id: str
    rule: TrafficRule


class DnsServer(Protocol):
    """Serves exactly the records last applied."""

    def apply(self, records: Sequence[DnsRecord]) -> None: ...

    def close(self) -> None: ...


class PacketFilter(Protocol):
    """Enforces exactly the rules last applied, highest priority (lowest number) first."""

    def apply(self, rules: Sequence[PacketRule]) -> None: ...

    def close(self) -> None: ...
