"""The data plane reconciler on fakes of its ports: applies only changes, retries failures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from mec_platform.appsupport.rules import (
    FilterType,
    RuleState,
    TrafficAction,
    TrafficFilter,
    TrafficRule,
)
from mec_platform.dataplane.ports import DnsRecord, PacketRule
from mec_platform.dataplane.service import DataPlane


@dataclass
class FakeRulesSource:
    current_version: int = 1
    records: list[DnsRecord] = field(default_factory=list)
    rules: list[PacketRule] = field(default_factory=list)

    def version(self) -> int:
        return self.current_version

    def dns_records(self) -> list[DnsRecord]:
        return list(self.records)

    def packet_rules(self) -> list[PacketRule]:
        return list(self.rules)


@dataclass
class FakeDnsServer:
    applied: list[list[DnsRecord]] = field(default_factory=list)
    fail: bool = False
    closed: bool = False

    def apply(self, records: Sequence[DnsRecord]) -> None:
        if self.fail:
            raise RuntimeError("dns down")
        self.applied.append(list(records))

    def close(self) -> None:
        self.closed = True


@dataclass
class FakePacketFilter:
    applied: list[list[PacketRule]] = field(default_factory=list)
    closed: bool = False

    def apply(self, rules: Sequence[PacketRule]) -> None:
        self.applied.append(list(rules))

    def close(self) -> None:
        self.closed = True


def drop_rule() -> PacketRule:
    rule = TrafficRule(
        "r1",
        FilterType.PACKET,
        1,
        (TrafficFilter(dst_port=("80",)),),
        TrafficAction.DROP,
        RuleState.ACTIVE,
    )
    return PacketRule("app-1", rule)


def test_applies_everything_once_per_version() -> None:
    source = FakeRulesSource(records=[DnsRecord("a.mec", "10.0.0.1")], rules=[drop_rule()])
    dns, packets = FakeDnsServer(), FakePacketFilter()
    applied: list[int] = []
    plane = DataPlane(source, dns, packets, on_applied=applied.append)

    assert plane.sync() is True
    assert plane.sync() is False
    assert dns.applied == [[DnsRecord("a.mec", "10.0.0.1")]]
    assert packets.applied == [[drop_rule()]]
    source.current_version = 2
    source.records = []
    assert plane.sync() is True
    assert dns.applied[-1] == [] and applied == [1, 2]
    assert plane.applied_version == 2


def test_failure_leaves_the_version_unapplied_for_a_retry() -> None:
    source = FakeRulesSource(records=[DnsRecord("a.mec", "10.0.0.1")])
    dns = FakeDnsServer(fail=True)
    plane = DataPlane(source, dns, FakePacketFilter())
    with pytest.raises(RuntimeError):
        plane.sync()
    assert plane.applied_version is None
    dns.fail = False
    assert plane.sync() is True
    assert plane.applied_version == 1


def test_invalidate_reapplies_after_a_restart_and_close_closes_both() -> None:
    dns, packets = FakeDnsServer(), FakePacketFilter()
    plane = DataPlane(FakeRulesSource(), dns, packets)
    plane.sync()
    plane.invalidate()
    assert plane.sync() is True
    assert len(dns.applied) == 2
    plane.close()
    assert dns.closed and packets.closed


def test_disabled_parts_are_skipped() -> None:
    packets = FakePacketFilter()
    plane = DataPlane(FakeRulesSource(rules=[drop_rule()]), None, packets)
    assert plane.sync() is True
    assert packets.applied == [[drop_rule()]]
