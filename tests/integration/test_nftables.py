"""NftablesFilter against the real kernel: rules are applied in a throw-away "box" namespace.

A listener runs in the box, probes come from the "client" namespace over a veth link, so every
assertion is about real packets passing or being dropped by the table the filter wrote. The
host's own network namespace is never touched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from mec_platform.appsupport.rules import (
    FilterType,
    RuleState,
    TrafficAction,
    TrafficFilter,
    TrafficRule,
)
from mec_platform.dataplane.nftables import (
    RULE_CHAIN,
    NftablesFilter,
    PacketFilterError,
    rule_label,
)
from mec_platform.dataplane.ports import PacketRule
from tests.support.netns import NetnsPair, in_netns, listener, netns_pair, reach

APP = "app-under-test"
TCP_PORT, UDP_PORT = 8080, 5353
DROP, PASS = TrafficAction.DROP, TrafficAction.PASSTHROUGH


def make_rule(
    rule_id: str,
    action: TrafficAction,
    priority: int = 100,
    filter_type: FilterType = FilterType.PACKET,
    **selectors: Any,
) -> PacketRule:
    """An ACTIVE rule with one filter, checked the way the platform checks it."""
    rule = TrafficRule(
        rule_id,
        filter_type,
        priority,
        (TrafficFilter(**selectors),),
        action,
        RuleState.ACTIVE,
    )
    rule.check_enforceable()
    return PacketRule(APP, rule)


@pytest.fixture
def pair() -> Iterator[NetnsPair]:
    """A box/client namespace pair for this test only."""
    with netns_pair() as created:
        yield created


@pytest.fixture
def box(pair: NetnsPair) -> NftablesFilter:
    """The filter under test, writing its table inside the box namespace."""
    return NftablesFilter(netns=pair.box)


@pytest.fixture
def tcp_server(pair: NetnsPair) -> Iterator[None]:
    """A TCP echo server in the box on every address (IPv4 and IPv6)."""
    with listener(pair.box, "::", TCP_PORT, "tcp"):
        yield


@pytest.fixture
def udp_server(pair: NetnsPair) -> Iterator[None]:
    """A UDP echo server in the box."""
    with listener(pair.box, "::", UDP_PORT, "udp"):
        yield


def tcp_reach(pair: NetnsPair, host: str | None = None) -> int:
    """How many of 3 TCP connections from the client to the box's listener succeed."""
    return reach(pair.client, host or pair.box_v4, TCP_PORT, "tcp")


def table_listing(pair: NetnsPair, table: str = "mec_platform") -> list[dict[str, Any]]:
    """The objects of our table as nft reports them in JSON."""
    done = in_netns(pair.box, ["nft", "-j", "list", "table", "inet", table])
    return list(json.loads(done.stdout)["nftables"])


@pytest.mark.usefixtures("tcp_server")
def test_drop_rule_blocks_and_empty_apply_lifts_it(pair: NetnsPair, box: NftablesFilter) -> None:
    box.apply([])
    assert tcp_reach(pair) == 3

    block = make_rule("block-web", DROP, dst_port=(str(TCP_PORT),), protocol=("TCP",))
    box.apply([block])
    assert tcp_reach(pair) == 0
    assert box.counters()[rule_label(APP, "block-web")] >= 3

    box.apply([])
    assert tcp_reach(pair) == 3


@pytest.mark.usefixtures("tcp_server")
@pytest.mark.parametrize(
    ("pass_priority", "drop_priority", "expected"), [(10, 100, 3), (100, 10, 0)]
)
def test_higher_priority_rule_wins(
    pair: NetnsPair, box: NftablesFilter, pass_priority: int, drop_priority: int, expected: int
) -> None:
    allow = make_rule("allow-client", PASS, pass_priority, src_address=(pair.client_v4,))
    block = make_rule("block-web", DROP, drop_priority, dst_port=(str(TCP_PORT),))
    box.apply([block, allow])
    assert tcp_reach(pair) == expected


@pytest.mark.usefixtures("udp_server")
@pytest.mark.parametrize(
    ("filter_type", "expected"), [(FilterType.FLOW, 3), (FilterType.PACKET, 0)]
)
def test_flow_rule_also_matches_the_replies(
    pair: NetnsPair, box: NftablesFilter, filter_type: FilterType, expected: int
) -> None:
    # The PASSTHROUGH describes the request direction only; all other UDP is dropped. Replies
    # (box -> client, from the listener's port) get through only if the rule covers the flow.
    allow = make_rule(
        "allow-requests",
        PASS,
        10,
        filter_type,
        src_address=(pair.client_v4,),
        dst_address=(pair.box_v4,),
        dst_port=(str(UDP_PORT),),
        protocol=("udp",),
    )
    block = make_rule("block-udp", DROP, 200, protocol=("udp",))
    box.apply([allow, block])

    assert reach(pair.client, pair.box_v4, UDP_PORT, "udp", src_port=40000) == expected
    counters = box.counters()
    assert counters[rule_label(APP, "allow-requests")] >= 3
    assert (counters[rule_label(APP, "block-udp")] >= 3) is (filter_type is FilterType.PACKET)


@pytest.mark.usefixtures("tcp_server")
def test_ipv6_rule_drops_ipv6_only(pair: NetnsPair, box: NftablesFilter) -> None:
    block = make_rule("block-v6", DROP, dst_address=(f"{pair.box_v6}/64",), protocol=("tcp",))
    box.apply([block])
    assert tcp_reach(pair, pair.box_v6) == 0
    assert tcp_reach(pair, pair.box_v4) == 3


def test_table_holds_base_chains_and_one_rule_chain(pair: NetnsPair, box: NftablesFilter) -> None:
    flow = make_rule(
        "mixed-flow",
        PASS,
        5,
        FilterType.FLOW,
        src_address=("10.1.0.0/16", "fd00:1::/48"),
        dst_port=("443",),
    )
    box.apply([make_rule("late-drop", DROP, 50, protocol=("icmp",)), flow])

    listing = table_listing(pair)
    chains = {c["chain"]["name"]: c["chain"] for c in listing if "chain" in c}
    rules = [r["rule"] for r in listing if "rule" in r]
    assert sorted(chains) == sorted(["input", "forward", "output", RULE_CHAIN])
    assert [name for name, chain in chains.items() if "hook" not in chain] == [RULE_CHAIN]
    ours = [rule for rule in rules if rule["chain"] == RULE_CHAIN]
    # Two families times two directions for the FLOW rule, then the single ICMP drop.
    expected = [rule_label(APP, "mixed-flow")] * 4 + [rule_label(APP, "late-drop")]
    assert [rule["comment"] for rule in ours] == expected
    assert len(rules) == len(ours) + 3  # one jump per base chain


def test_every_selector_kind_is_valid_nft(pair: NetnsPair, box: NftablesFilter) -> None:
    rules = [
        make_rule(
            "everything",
            DROP,
            1,
            FilterType.FLOW,
            src_address=("10.0.0.1-10.0.0.9", "192.0.2.0/24", "fd00::1-fd00::9", "fd01::5"),
            dst_address=("10.9.9.9", "fd02::/64"),
            src_port=("1024-65535",),
            dst_port=("53", "5000-5010"),
            protocol=("UDP", "sctp", "136", "tcp"),
            d_scp=46,
        ),
        make_rule("icmp6", PASS, 2, protocol=("icmpv6", "icmp")),
        make_rule("gre", DROP, 3, protocol=("47",), d_scp=0),
        make_rule('odd id "with" quotes\nand newline' + "x" * 200, DROP, 4, src_port=("7",)),
    ]
    box.apply(rules)
    assert len(box.counters()) == 4


def test_rejected_ruleset_leaves_previous_one_in_force(
    pair: NetnsPair, box: NftablesFilter
) -> None:
    box.apply([make_rule("block-web", DROP, dst_port=(str(TCP_PORT),))])
    before = in_netns(pair.box, ["nft", "list", "ruleset"]).stdout

    # Bypasses check_enforceable: nft itself has to refuse the out-of-range DSCP value.
    bad_dscp = TrafficRule(
        "bad-dscp", FilterType.PACKET, 1, (TrafficFilter(d_scp=300),), DROP, RuleState.ACTIVE
    )
    with pytest.raises(PacketFilterError) as raised:
        box.apply([PacketRule(APP, bad_dscp)])
    assert raised.value.stderr.strip()

    bad_protocol = TrafficRule(
        "bad-proto",
        FilterType.PACKET,
        1,
        (TrafficFilter(protocol=("300",)),),
        DROP,
        RuleState.ACTIVE,
    )
    with pytest.raises(PacketFilterError):
        box.apply([PacketRule(APP, bad_protocol)])

    assert in_netns(pair.box, ["nft", "list", "ruleset"]).stdout == before


def test_missing_namespace_or_binary_raises(pair: NetnsPair) -> None:
    with pytest.raises(PacketFilterError) as raised:
        NftablesFilter(netns=f"{pair.box}x").apply([])
    assert raised.value.stderr.strip()
    with pytest.raises(PacketFilterError):
        NftablesFilter(netns=pair.box, executable="/nonexistent/nft").apply([])
    with pytest.raises(PacketFilterError):
        NftablesFilter(executable="/nonexistent/nft").apply([])


def test_close_keeps_rules_and_remove_deletes_table(pair: NetnsPair, box: NftablesFilter) -> None:
    box.apply([make_rule("block-web", DROP, dst_port=(str(TCP_PORT),))])
    box.close()
    assert table_listing(pair)

    box.remove()
    tables = in_netns(pair.box, ["nft", "list", "tables"]).stdout
    assert "mec_platform" not in tables
    box.remove()  # idempotent
    with pytest.raises(PacketFilterError):
        box.counters()
