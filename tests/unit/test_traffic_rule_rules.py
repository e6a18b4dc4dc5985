"""Unit tests of the validation in `appsupport.rules`: DNS rules, traffic rules and the parsers
the packet filter relies on (addresses, port ranges, protocols)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Any

import pytest

from mec_platform.appsupport.rules import (
    DnsRule,
    FilterType,
    IpAddressType,
    RuleState,
    TrafficAction,
    TrafficFilter,
    TrafficRule,
    address_family,
    parse_address,
    parse_port_range,
    parse_protocol,
)
from mec_platform.errors import InvalidInput

V4, V6 = IpAddressType.IP_V4, IpAddressType.IP_V6


def dns(**changes: Any) -> DnsRule:
    values: dict[str, Any] = {
        "dns_rule_id": "d",
        "domain_name": "svc.mec.test",
        "ip_address_type": V4,
        "ip_address": "10.0.0.1",
        "state": RuleState.ACTIVE,
    }
    return DnsRule(**{**values, **changes})


def rule(*selectors: TrafficFilter, **changes: Any) -> TrafficRule:
    base = TrafficRule(
        traffic_rule_id="t",
        filter_type=FilterType.PACKET,
        priority=0,
        traffic_filter=selectors or (TrafficFilter(dst_port=("53",), protocol=("udp",)),),
        action=TrafficAction.PASSTHROUGH,
        state=RuleState.ACTIVE,
    )
    return replace(base, **changes)


def refused(action: Any, *args: Any) -> str:
    with pytest.raises(InvalidInput) as raised:
        action(*args)
    return str(raised.value)


# -- DNS rules ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "domain",
    [
        "svc.mec.test",
        "SVC.Mec.Test.",
        "localhost",
        "_sip._udp.mec.test",
        "xn--bcher-kva.example",
        "a-b.c-d.e",
        "1.2.3.4.in-addr.arpa",
        "a" * 63 + ".test",
        ".".join(["a" * 49] * 5),  # 249 characters
    ],
)
def test_valid_domain_names(domain: str) -> None:
    assert dns(domain_name=domain).domain_name == domain


@pytest.mark.parametrize(
    "domain",
    [
        "",
        ".",
        "a..b",
        ".svc.test",
        "-svc.test",
        "svc-.test",
        "sv c.test",
        "*.svc.test",
        "bücher.test",
        "a" * 64 + ".test",
        ".".join(["a" * 50] * 5) + "x",  # 255 characters
        "svc.test/evil",
    ],
)
def test_invalid_domain_names(domain: str) -> None:
    with pytest.raises(InvalidInput, match=r"^domainName:"):
        dns(domain_name=domain)


@pytest.mark.parametrize(
    ("family", "address"),
    [(V4, "10.0.0.1"), (V4, "255.255.255.255"), (V6, "fd00::1"), (V6, "::ffff:10.0.0.1")],
)
def test_addresses_of_the_declared_family(family: IpAddressType, address: str) -> None:
    assert dns(ip_address_type=family, ip_address=address).ip_address == address


@pytest.mark.parametrize(
    ("family", "address"),
    [
        (V4, "fd00::1"),
        (V6, "10.0.0.1"),
        (V4, "10.0.0.256"),
        (V4, "10.0.0.0/8"),
        (V4, " 10.0.0.1"),
        (V4, "01.2.3.4"),
        (V4, "svc.mec.test"),
        (V6, ""),
    ],
)
def test_addresses_of_another_family_or_no_address(family: IpAddressType, address: str) -> None:
    with pytest.raises(InvalidInput, match=r"^ipAddress:"):
        dns(ip_address_type=family, ip_address=address)


@pytest.mark.parametrize("ttl", [None, 0, 1, 2**31 - 1])
def test_ttl_range(ttl: int | None) -> None:
    assert dns(ttl=ttl).ttl == ttl


@pytest.mark.parametrize("ttl", [-1, 2**31])
def test_ttl_out_of_range(ttl: int) -> None:
    with pytest.raises(InvalidInput, match=r"^ttl:"):
        dns(ttl=ttl)


def test_entity_tags() -> None:
    assert dns(revision=3).etag == '"d.3"'
    assert rule(revision=7).etag == '"t.7"'


# -- traffic rules --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "selector",
    [
        TrafficFilter(),
        TrafficFilter(src_address=("10.0.0.1",), dst_address=("10.1.0.0/16",)),
        TrafficFilter(src_address=("10.0.0.1-10.0.0.9", "fd00::/8"), dst_address=("fd01::1",)),
        TrafficFilter(dst_port=("80", "8000-8080"), protocol=("TCP", "udp", "132")),
        TrafficFilter(src_port=("0-65535",), protocol=("sctp",)),
        TrafficFilter(protocol=("icmp", "ICMPv6", "58")),
        TrafficFilter(d_scp=0),
        TrafficFilter(d_scp=63),
    ],
)
def test_enforceable_filters(selector: TrafficFilter) -> None:
    rule(selector).check_enforceable()


@pytest.mark.parametrize("action", [TrafficAction.DROP, TrafficAction.PASSTHROUGH])
@pytest.mark.parametrize("priority", [0, 255])
def test_enforced_actions_and_priorities(action: TrafficAction, priority: int) -> None:
    rule(action=action, priority=priority).check_enforceable()


@pytest.mark.parametrize(
    "action",
    [
        TrafficAction.FORWARD_DECAPSULATED,
        TrafficAction.FORWARD_ENCAPSULATED,
        TrafficAction.DUPLICATE_DECAPSULATED,
        TrafficAction.DUPLICATE_ENCAPSULATED,
    ],
)
def test_forwarding_actions_are_not_enforceable(action: TrafficAction) -> None:
    detail = refused(rule(action=action).check_enforceable)
    assert detail.startswith("action:") and action.value in detail


@pytest.mark.parametrize("priority", [-1, 256])
def test_priority_out_of_range(priority: int) -> None:
    assert refused(rule(priority=priority).check_enforceable).startswith("priority:")


def test_a_rule_needs_a_filter() -> None:
    assert refused(rule(traffic_filter=()).check_enforceable).startswith("trafficFilter:")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"tag": ("blue",)}, "tag"),
        ({"src_tunnel_address": ("10.0.0.1",)}, "srcTunnelAddress"),
        ({"tgt_tunnel_address": ("10.0.0.2",)}, "tgtTunnelAddress"),
        ({"src_tunnel_port": ("2152",)}, "srcTunnelPort"),
        ({"dst_tunnel_port": ("2152",)}, "dstTunnelPort"),
        ({"q_ci": 0}, "qCI"),
        ({"t_c": 0}, "tC"),
        ({"src_address": ("10.0.0.0/33",)}, "srcAddress"),
        ({"dst_address": ("10.0.0.9-10.0.0.1",)}, "dstAddress"),
        ({"dst_address": ("10.0.0.1-fd00::1",)}, "dstAddress"),
        ({"src_port": ("65536",)}, "srcPort"),
        ({"dst_port": ("90-80",)}, "dstPort"),
        ({"dst_port": ("-1",)}, "dstPort"),
        ({"protocol": ("http",)}, "protocol"),
        ({"protocol": ("256",)}, "protocol"),
        ({"d_scp": 64}, "dSCP"),
        ({"d_scp": -1}, "dSCP"),
    ],
)
def test_unenforceable_filters_name_the_field(values: dict[str, Any], field: str) -> None:
    selectors = (TrafficFilter(), TrafficFilter(**values))
    detail = refused(rule(*selectors).check_enforceable)
    assert detail.startswith(f"trafficFilter[1].{field}:")


@pytest.mark.parametrize("protocol", ["icmp", "1", "ICMPv6", "58"])
def test_ports_cannot_be_combined_with_icmp(protocol: str) -> None:
    selector = TrafficFilter(dst_port=("80",), protocol=("tcp", protocol))
    assert refused(rule(selector).check_enforceable).startswith("trafficFilter[0]: ports")


def test_source_and_destination_must_share_a_family() -> None:
    selector = TrafficFilter(src_address=("10.0.0.1",), dst_address=("fd00::1",))
    assert "address family" in refused(rule(selector).check_enforceable)
    mixed = TrafficFilter(src_address=("10.0.0.1", "fd00::2"), dst_address=("fd00::1",))
    rule(mixed).check_enforceable()


def test_scoped_ipv6_addresses_are_refused() -> None:
    selector = TrafficFilter(src_address=("fe80::1%eth0",))
    assert refused(rule(selector).check_enforceable).startswith("trafficFilter[0].srcAddress:")


# -- parsers --------------------------------------------------------------------------------
def test_parse_address_forms() -> None:
    assert parse_address("10.0.0.7", "x") == ipaddress.ip_network("10.0.0.7/32")
    assert parse_address("10.0.0.7/8", "x") == ipaddress.ip_network("10.0.0.0/8")
    assert parse_address(" fd00::/8 ", "x") == ipaddress.ip_network("fd00::/8")
    low, high = ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("10.0.0.9")
    assert parse_address("10.0.0.1 - 10.0.0.9", "x") == (low, high)
    assert parse_address("10.0.0.1-10.0.0.1", "x") == (low, low)


@pytest.mark.parametrize("value", ["", "1", "10.0.0", "10.0.0.1-", "fd00::1-10.0.0.1", "x/8"])
def test_parse_address_refusals_name_the_place(value: str) -> None:
    assert refused(parse_address, value, "here.srcAddress").startswith("here.srcAddress:")


@pytest.mark.parametrize(
    ("value", "family"), [("10.0.0.1", 4), ("10.0.0.0/8", 4), ("fd00::1-fd00::9", 6)]
)
def test_address_family(value: str, family: int) -> None:
    assert address_family(value) == family


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("0", (0, 0)), ("80", (80, 80)), (" 443 ", (443, 443)), ("1-65535", (1, 65535))],
)
def test_parse_port_range(value: str, parsed: tuple[int, int]) -> None:
    assert parse_port_range(value, "p") == parsed


@pytest.mark.parametrize("value", ["", "http", "80-x", "-5", "65536", "2-1", "1-2-3", "²"])
def test_parse_port_range_refusals(value: str) -> None:
    assert refused(parse_port_range, value, "here.dstPort").startswith("here.dstPort:")


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("tcp", 6),
        ("TCP", 6),
        (" udp ", 17),
        ("icmp", 1),
        ("icmpv6", 58),
        ("sctp", 132),
        ("udplite", 136),
        ("0", 0),
        ("255", 255),
        ("47", 47),
    ],
)
def test_parse_protocol(value: str, number: int) -> None:
    assert parse_protocol(value, "p") == number


@pytest.mark.parametrize("value", ["", "256", "-1", "6.0", "http", "²", "tcp/udp"])
def test_parse_protocol_refusals(value: str) -> None:
    assert refused(parse_protocol, value, "here.protocol").startswith("here.protocol:")
