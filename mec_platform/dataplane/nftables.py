"""Packet filter adapter: enforces ACTIVE DROP/PASSTHROUGH traffic rules with nftables.

The platform owns one `inet` table. Every `apply` rewrites that table in a single `nft -f -`
transaction, so the kernel switches from the old rule set to the new one at once: base chains
on the input, forward and output hooks jump to one regular chain that holds the rules in
priority order, and the first rule that matches a packet decides (DROP drops, PASSTHROUGH
accepts). The text is produced by the pure `render_ruleset`; the class only runs `nft`,
optionally inside a network namespace, and turns every failure into `PacketFilterError`.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mec_platform.appsupport.rules import (
    FilterType,
    TrafficAction,
    TrafficFilter,
    address_family,
    parse_address,
    parse_port_range,
    parse_protocol,
)
from mec_platform.dataplane.ports import PacketRule
from mec_platform.errors import InvalidInput

RULE_CHAIN = "traffic_rules"
BASE_HOOKS = ("input", "forward", "output")
# Transport protocols whose header starts with 16-bit source and destination ports; `th`
# reads raw header bytes, so port matches must be restricted to these explicitly.
PORTED_PROTOCOLS = (6, 17, 132, 136)
VERDICTS = {TrafficAction.DROP: "drop", TrafficAction.PASSTHROUGH: "accept"}
NFT_TIMEOUT = 30.0

_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._:@+=-]")
_PART_LIMIT = 56  # two parts and a separator stay well below nft's 128-byte comment limit


class PacketFilterError(RuntimeError):
    """nft could not enforce the rules; `stderr` holds what nft (or ip) said."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(f"{message}: {stderr.strip()}" if stderr.strip() else message)
        self.stderr = stderr


def rule_label(app_instance_id: str, traffic_rule_id: str) -> str:
    """The comment of a rule's nft rules and its key in `NftablesFilter.counters`."""
    return f"{_safe_part(app_instance_id)}/{_safe_part(traffic_rule_id)}"


def _safe_part(text: str) -> str:
    cleaned = _UNSAFE.sub("_", text)
    if cleaned == text and len(text) <= _PART_LIMIT:
        return text
    # Rewritten or shortened ids get a digest of the original so distinct ids stay distinct.
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned[: _PART_LIMIT - 9]}~{digest}"


def render_ruleset(table: str, rules: Sequence[PacketRule]) -> str:
    """The `nft -f` script that replaces the content of `inet table` with `rules`."""
    _check_table(table)
    ordered = sorted(
        rules, key=lambda r: (r.rule.priority, r.app_instance_id, r.rule.traffic_rule_id)
    )
    lines = [f"table inet {table}", f"delete table inet {table}", f"table inet {table} {{"]
    for hook in BASE_HOOKS:
        lines += [
            f"\tchain {hook} {{",
            f"\t\ttype filter hook {hook} priority filter; policy accept;",
            f"\t\tjump {RULE_CHAIN}",
            "\t}",
        ]
    lines.append(f"\tchain {RULE_CHAIN} {{")
    lines += [f"\t\t{statement}" for packet_rule in ordered for statement in _rule(packet_rule)]
    lines += ["\t}", "}"]
    return "\n".join(lines) + "\n"


def _check_table(table: str) -> None:
    if not _TABLE_NAME.fullmatch(table):
        raise ValueError(f"table name {table!r} is not a plain nft identifier")


def _rule(packet_rule: PacketRule) -> list[str]:
    rule = packet_rule.rule
    tail = (
        f"counter {VERDICTS[rule.action]} comment "
        f'"{rule_label(packet_rule.app_instance_id, rule.traffic_rule_id)}"'
    )
    matches: list[str] = []
    for selector in rule.traffic_filter:
        directions = [selector]
        if rule.filter_type is FilterType.FLOW:
            directions.append(_mirrored(selector))
        for direction in directions:
            matches += [m for m in _filter_matches(direction) if m not in matches]
    return [f"{match} {tail}" if match else tail for match in matches]


def _mirrored(selector: TrafficFilter) -> TrafficFilter:
    return TrafficFilter(
        src_address=selector.dst_address,
        dst_address=selector.src_address,
        src_port=selector.dst_port,
        dst_port=selector.src_port,
        protocol=selector.protocol,
        d_scp=selector.d_scp,
    )


@dataclass(frozen=True)
class _Family:
    """How one address family is written: the payload keyword and its addresses."""

    keyword: str
    src: tuple[str, ...]
    dst: tuple[str, ...]


def _families(selector: TrafficFilter) -> list[_Family | None]:
    """One entry per family combination that can match; None means family-agnostic."""
    src, dst = _by_family(selector.src_address), _by_family(selector.dst_address)
    if not selector.src_address and not selector.dst_address and selector.d_scp is None:
        return [None]
    wanted = [
        version
        for version in (4, 6)
        if (src[version] or not selector.src_address) and (dst[version] or not selector.dst_address)
    ]
    return [_Family("ip" if v == 4 else "ip6", src[v], dst[v]) for v in wanted]


def _by_family(addresses: tuple[str, ...]) -> dict[int, tuple[str, ...]]:
    return {v: tuple(a for a in addresses if address_family(a) == v) for v in (4, 6)}


def _filter_matches(selector: TrafficFilter) -> list[str]:
    """The match expressions (without verdict) of one filter, one per address family."""
    protocols = [parse_protocol(p, "protocol") for p in selector.protocol]
    if not protocols and (selector.src_port or selector.dst_port):
        protocols = list(PORTED_PROTOCOLS)
    transport = [
        _match("meta l4proto", [str(p) for p in dict.fromkeys(protocols)]),
        _match("th sport", [_port(p) for p in selector.src_port]),
        _match("th dport", [_port(p) for p in selector.dst_port]),
    ]
    results = []
    for family in _families(selector):
        parts: list[str] = []
        if family is not None:
            parts += [
                _match(f"{family.keyword} saddr", [_address(a) for a in family.src]),
                _match(f"{family.keyword} daddr", [_address(a) for a in family.dst]),
            ]
        parts += transport
        if family is not None and selector.d_scp is not None:
            parts.append(f"{family.keyword} dscp {int(selector.d_scp)}")
        results.append(" ".join(part for part in parts if part))
    return results


def _match(selector: str, values: Iterable[str]) -> str:
    unique = list(dict.fromkeys(values))
    if not unique:
        return ""
    if len(unique) == 1:
        return f"{selector} {unique[0]}"
    return f"{selector} {{ {', '.join(unique)} }}"


def _address(value: str) -> str:
    # Re-parsing normalises the text and guarantees nothing but an address reaches nft.
    parsed = parse_address(value, "address")
    if isinstance(parsed, tuple):
        return f"{parsed[0]}-{parsed[1]}"
    if parsed.prefixlen == parsed.max_prefixlen:
        return str(parsed.network_address)
    return str(parsed)


def _port(value: str) -> str:
    low, high = parse_port_range(value, "port")
    return str(low) if low == high else f"{low}-{high}"


class NftablesFilter:
    """A `PacketFilter` that keeps the platform's rules in an nftables `inet` table."""

    def __init__(
        self, table: str = "mec_platform", netns: str | None = None, executable: str = "nft"
    ) -> None:
        _check_table(table)
        self.table = table
        self.netns = netns
        self.executable = executable

    def apply(self, rules: Sequence[PacketRule]) -> None:
        """Replace every rule of our table with `rules` in one atomic nft transaction."""
        try:
            script = render_ruleset(self.table, rules)
        except InvalidInput as exc:
            raise PacketFilterError("traffic rule cannot be rendered", exc.detail) from None
        self._nft(["-f", "-"], script)

    def close(self) -> None:
        """Leave the rules in force: the platform re-applies them when it starts again."""

    def remove(self) -> None:
        """Delete our table (and all its rules); nothing happens if it is absent."""
        self._nft(["-f", "-"], f"table inet {self.table}\ndelete table inet {self.table}\n")

    def counters(self) -> dict[str, int]:
        """Packets matched so far per `rule_label`, summed over the nft rules of each rule."""
        listing = json.loads(self._nft(["-j", "list", "table", "inet", self.table]))
        totals: dict[str, int] = {}
        for item in listing.get("nftables", []):
            rule = item.get("rule")
            if not rule or rule.get("chain") != RULE_CHAIN or "comment" not in rule:
                continue
            packets = sum(_counter_packets(expr) for expr in rule.get("expr", []))
            totals[rule["comment"]] = totals.get(rule["comment"], 0) + packets
        return totals

    def _nft(self, arguments: list[str], stdin: str = "") -> str:
        command = [self.executable, *arguments]
        if self.netns is not None:
            command = ["ip", "netns", "exec", self.netns, *command]
        try:
            done = subprocess.run(
                command, input=stdin, capture_output=True, text=True, timeout=NFT_TIMEOUT
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PacketFilterError(f"cannot run {command[0]}", str(exc)) from None
        if done.returncode != 0:
            raise PacketFilterError(
                f"{' '.join(command)} failed (exit {done.returncode})", done.stderr
            )
        return done.stdout


def _counter_packets(expression: dict[str, Any]) -> int:
    counter = expression.get("counter")
    return int(counter.get("packets", 0)) if isinstance(counter, dict) else 0
