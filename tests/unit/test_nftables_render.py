"""render_ruleset: the nft script for a set of traffic rules, checked as text without nft."""

from __future__ import annotations

import pytest

from mec_platform.appsupport.rules import (
    FilterType,
    RuleState,
    TrafficAction,
    TrafficFilter,
    TrafficRule,
)
from mec_platform.dataplane.nftables import RULE_CHAIN, render_ruleset, rule_label
from mec_platform.dataplane.ports import PacketRule

DROP, PASS = TrafficAction.DROP, TrafficAction.PASSTHROUGH


def packet_rule(
    rule_id: str,
    *filters: TrafficFilter,
    action: TrafficAction = DROP,
    priority: int = 100,
    filter_type: FilterType = FilterType.PACKET,
    app: str = "app",
) -> PacketRule:
    """An ACTIVE rule that passed the platform's checks."""
    rule = TrafficRule(rule_id, filter_type, priority, filters, action, RuleState.ACTIVE)
    rule.check_enforceable()
    return PacketRule(app, rule)


def rule_lines(*rules: PacketRule) -> list[str]:
    """The statements of the rule chain, without indentation."""
    lines = render_ruleset("t", rules).splitlines()
    start = lines.index(f"\tchain {RULE_CHAIN} {{") + 1
    return [line.strip() for line in lines[start : lines.index("\t}", start)]]


def test_script_recreates_table_with_three_hooks_jumping_to_rule_chain() -> None:
    text = render_ruleset("mec_platform", [])
    lines = text.splitlines()
    assert lines[:3] == [
        "table inet mec_platform",
        "delete table inet mec_platform",
        "table inet mec_platform {",
    ]
    for hook in ("input", "forward", "output"):
        assert f"type filter hook {hook} priority filter; policy accept;" in text
    assert text.count(f"jump {RULE_CHAIN}") == 3
    assert rule_lines() == []


def test_rules_ordered_by_priority_then_app_then_id_and_verdict_mapped() -> None:
    lines = rule_lines(
        packet_rule("b", TrafficFilter(dst_port=("2",)), priority=7, app="x"),
        packet_rule("z", TrafficFilter(dst_port=("3",)), priority=200),
        packet_rule("a", TrafficFilter(dst_port=("1",)), priority=7, app="x", action=PASS),
        packet_rule("c", TrafficFilter(dst_port=("4",)), priority=7, app="w"),
        packet_rule("h", TrafficFilter(dst_port=("5",)), priority=0),
    )
    assert [line.rsplit('"', 2)[1] for line in lines] == ["app/h", "w/c", "x/a", "x/b", "app/z"]
    assert " accept comment " in lines[2]
    assert all(" counter drop comment " in line for i, line in enumerate(lines) if i != 2)


def test_empty_filter_matches_everything() -> None:
    assert rule_lines(packet_rule("all", TrafficFilter())) == ['counter drop comment "app/all"']


def test_ports_without_protocol_are_limited_to_port_carrying_protocols() -> None:
    (line,) = rule_lines(packet_rule("p", TrafficFilter(src_port=("1024-2048",), dst_port=("80",))))
    assert line.startswith("meta l4proto { 6, 17, 132, 136 } th sport 1024-2048 th dport 80 ")


def test_protocols_and_port_lists_become_sets() -> None:
    selector = TrafficFilter(protocol=("TCP", "udp", "tcp"), dst_port=("80", "8000-8080"))
    (line,) = rule_lines(packet_rule("p", selector))
    assert line.startswith("meta l4proto { 6, 17 } th dport { 80, 8000-8080 } counter")


def test_addresses_are_normalised_and_split_by_family() -> None:
    selector = TrafficFilter(
        src_address=("10.0.0.7/32", "10.1.2.3/16", "fd00::1 - fd00::9"),
        dst_address=("192.0.2.1", "2001:db8::/32"),
    )
    assert rule_lines(packet_rule("a", selector)) == [
        'ip saddr { 10.0.0.7, 10.1.0.0/16 } ip daddr 192.0.2.1 counter drop comment "app/a"',
        'ip6 saddr fd00::1-fd00::9 ip6 daddr 2001:db8::/32 counter drop comment "app/a"',
    ]


def test_family_only_on_one_side_yields_no_impossible_rule() -> None:
    selector = TrafficFilter(src_address=("10.0.0.1", "fd00::1"), dst_address=("fd00::2",))
    assert rule_lines(packet_rule("a", selector)) == [
        'ip6 saddr fd00::1 ip6 daddr fd00::2 counter drop comment "app/a"'
    ]


def test_dscp_without_addresses_covers_both_families() -> None:
    assert rule_lines(packet_rule("d", TrafficFilter(d_scp=46, protocol=("udp",)))) == [
        'meta l4proto 17 ip dscp 46 counter drop comment "app/d"',
        'meta l4proto 17 ip6 dscp 46 counter drop comment "app/d"',
    ]


def test_flow_adds_the_mirrored_direction() -> None:
    selector = TrafficFilter(
        src_address=("10.0.0.2",), dst_address=("10.0.0.1",), dst_port=("53",), protocol=("udp",)
    )
    flow = rule_lines(packet_rule("f", selector, filter_type=FilterType.FLOW))
    tail = ' counter drop comment "app/f"'
    assert flow == [
        "ip saddr 10.0.0.2 ip daddr 10.0.0.1 meta l4proto 17 th dport 53" + tail,
        "ip saddr 10.0.0.1 ip daddr 10.0.0.2 meta l4proto 17 th sport 53" + tail,
    ]
    assert rule_lines(packet_rule("f", selector)) == flow[:1]


def test_symmetric_flow_filter_is_not_duplicated() -> None:
    selector = TrafficFilter(protocol=("icmp",))
    assert len(rule_lines(packet_rule("s", selector, filter_type=FilterType.FLOW))) == 1


def test_any_filter_of_a_rule_matches() -> None:
    lines = rule_lines(
        packet_rule("m", TrafficFilter(protocol=("icmp",)), TrafficFilter(dst_port=("22",)))
    )
    assert [line.split(" counter")[0] for line in lines] == [
        "meta l4proto 1",
        "meta l4proto { 6, 17, 132, 136 } th dport 22",
    ]


@pytest.mark.parametrize(
    "rule_id", ['quote"d', "new\nline", "back\\slash", "é" * 100, "x" * 300, "semi;colon {}"]
)
def test_comments_are_sanitised_and_short(rule_id: str) -> None:
    label = rule_label("app\t" + "y" * 200, rule_id)
    assert len(label.encode()) <= 120
    assert all(c.isascii() and c.isprintable() and c not in "\"'\\;{} " for c in label)
    (line,) = rule_lines(packet_rule(rule_id, TrafficFilter(), app="app\t" + "y" * 200))
    assert line.endswith(f'comment "{label}"')


def test_distinct_ids_keep_distinct_labels() -> None:
    assert rule_label("a", "x" * 100 + "1") != rule_label("a", "x" * 100 + "2")
    assert rule_label("a", "b c") != rule_label("a", "b_c")
    assert rule_label("app-1", "rule.2") == "app-1/rule.2"


def test_table_name_must_be_an_identifier() -> None:
    with pytest.raises(ValueError):
        render_ruleset("bad; flush ruleset", [])
