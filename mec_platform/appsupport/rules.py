"""DNS and traffic rules of an application instance (MEC 011 clauses 7.1.2.3 and 7.1.2.2).

Rules come from the application descriptor (or the admin command); an application may read
them and replace them with PUT. Only what this MEC host can enforce is accepted: traffic
rules that DROP or PASSTHROUGH packets selected by addresses, ports, protocol and DSCP.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum

from mec_platform.errors import InvalidInput


class RuleState(StrEnum):
    """Whether a rule takes effect."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class IpAddressType(StrEnum):
    """Address family of a DNS rule."""

    IP_V4 = "IP_V4"
    IP_V6 = "IP_V6"


class FilterType(StrEnum):
    """FLOW matches both directions of a flow; PACKET only packets as described."""

    FLOW = "FLOW"
    PACKET = "PACKET"


class TrafficAction(StrEnum):
    """What the data plane does with a matching packet (MEC 011 clause 7.1.2.2)."""

    DROP = "DROP"
    FORWARD_DECAPSULATED = "FORWARD_DECAPSULATED"
    FORWARD_ENCAPSULATED = "FORWARD_ENCAPSULATED"
    PASSTHROUGH = "PASSTHROUGH"
    DUPLICATE_DECAPSULATED = "DUPLICATE_DECAPSULATED"
    DUPLICATE_ENCAPSULATED = "DUPLICATE_ENCAPSULATED"


ENFORCED_ACTIONS = (TrafficAction.DROP, TrafficAction.PASSTHROUGH)

# Protocol names the packet filter understands, with their IP protocol numbers.
PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "sctp": 132, "udplite": 136}


@dataclass(frozen=True)
class DnsRule:
    """Resolve `domain_name` to `ip_address` on the platform's DNS server while ACTIVE."""

    dns_rule_id: str
    domain_name: str
    ip_address_type: IpAddressType
    ip_address: str
    state: RuleState
    ttl: int | None = None
    revision: int = 1

    def __post_init__(self) -> None:
        _check_domain(self.domain_name)
        try:
            if "%" in self.ip_address:  # a zone index cannot be handed to a client
                raise ValueError
            address = ipaddress.ip_address(self.ip_address)
        except ValueError:
            raise InvalidInput(f"ipAddress: '{self.ip_address}' is not an IP address") from None
        wanted = 4 if self.ip_address_type is IpAddressType.IP_V4 else 6
        if address.version != wanted:
            raise InvalidInput(
                f"ipAddress: '{self.ip_address}' is not an {self.ip_address_type} address"
            )
        if self.ttl is not None and not 0 <= self.ttl <= 2**31 - 1:
            raise InvalidInput("ttl: must lie between 0 and 2147483647 seconds")

    @property
    def etag(self) -> str:
        """Strong entity tag of the current representation."""
        return f'"{self.dns_rule_id}.{self.revision}"'


@dataclass(frozen=True)
class TrafficFilter:
    """Packet selectors; attributes are ANDed, the values of one list are ORed."""

    src_address: tuple[str, ...] = ()
    dst_address: tuple[str, ...] = ()
    src_port: tuple[str, ...] = ()
    dst_port: tuple[str, ...] = ()
    protocol: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    src_tunnel_address: tuple[str, ...] = ()
    tgt_tunnel_address: tuple[str, ...] = ()
    src_tunnel_port: tuple[str, ...] = ()
    dst_tunnel_port: tuple[str, ...] = ()
    q_ci: int | None = None
    d_scp: int | None = None
    t_c: int | None = None


@dataclass(frozen=True)
class TunnelInfo:
    """Tunnel of a destination interface (kept as given; not enforced by this host)."""

    tunnel_type: str
    tunnel_dst_address: str | None = None
    tunnel_src_address: str | None = None


@dataclass(frozen=True)
class DestinationInterface:
    """Where FORWARD/DUPLICATE actions send packets (kept as given)."""

    interface_type: str
    tunnel_info: TunnelInfo | None = None
    src_mac_address: str | None = None
    dst_mac_address: str | None = None
    dst_ip_address: str | None = None


@dataclass(frozen=True)
class TrafficRule:
    """A packet filter rule of an application; priority 0 is the highest, 255 the lowest."""

    traffic_rule_id: str
    filter_type: FilterType
    priority: int
    traffic_filter: tuple[TrafficFilter, ...]
    action: TrafficAction
    state: RuleState
    dst_interface: tuple[DestinationInterface, ...] = field(default=())
    revision: int = 1

    @property
    def etag(self) -> str:
        """Strong entity tag of the current representation."""
        return f'"{self.traffic_rule_id}.{self.revision}"'

    def check_enforceable(self) -> None:
        """Raise InvalidInput naming the first part of the rule this host cannot enforce."""
        if not 0 <= self.priority <= 255:
            raise InvalidInput("priority: must lie between 0 (highest) and 255 (lowest)")
        if self.action not in ENFORCED_ACTIONS:
            raise InvalidInput(
                f"action: {self.action} cannot be enforced by this MEC host "
                f"(supported: {', '.join(ENFORCED_ACTIONS)})"
            )
        if not self.traffic_filter:
            raise InvalidInput("trafficFilter: at least one filter is required")
        for index, selector in enumerate(self.traffic_filter):
            _check_filter(selector, f"trafficFilter[{index}]")


def _check_domain(name: str) -> None:
    labels = name.rstrip(".").split(".")
    valid = (
        0 < len(name.rstrip(".")) <= 253
        and all(0 < len(label) <= 63 for label in labels)
        and all(
            label.replace("-", "").replace("_", "").isalnum()
            and label.isascii()
            and not label.startswith("-")
            and not label.endswith("-")
            for label in labels
        )
    )
    if not valid:
        raise InvalidInput(f"domainName: '{name}' is not a valid domain name")


def _check_filter(selector: TrafficFilter, where: str) -> None:
    unsupported: dict[str, object] = {
        "tag": selector.tag,
        "srcTunnelAddress": selector.src_tunnel_address,
        "tgtTunnelAddress": selector.tgt_tunnel_address,
        "srcTunnelPort": selector.src_tunnel_port,
        "dstTunnelPort": selector.dst_tunnel_port,
        "qCI": selector.q_ci,
        "tC": selector.t_c,
    }
    for name, value in unsupported.items():
        if value not in ((), None):
            raise InvalidInput(f"{where}.{name}: this MEC host cannot filter on {name}")
    for value in selector.src_address:
        parse_address(value, f"{where}.srcAddress")
    for value in selector.dst_address:
        parse_address(value, f"{where}.dstAddress")
    for value in selector.src_port:
        parse_port_range(value, f"{where}.srcPort")
    for value in selector.dst_port:
        parse_port_range(value, f"{where}.dstPort")
    for value in selector.protocol:
        parse_protocol(value, f"{where}.protocol")
    if (selector.src_port or selector.dst_port) and any(
        parse_protocol(p, "") in (1, 58) for p in selector.protocol
    ):
        raise InvalidInput(f"{where}: ports cannot be combined with ICMP")
    if selector.d_scp is not None and not 0 <= selector.d_scp <= 63:
        raise InvalidInput(f"{where}.dSCP: must lie between 0 and 63")
    families = [_families(selector.src_address), _families(selector.dst_address)]
    if all(families) and not families[0] & families[1]:
        raise InvalidInput(f"{where}: srcAddress and dstAddress share no address family")


AddressRange = (
    tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]
    | tuple[ipaddress.IPv6Address, ipaddress.IPv6Address]
)


def parse_address(
    value: str, where: str
) -> ipaddress.IPv4Network | ipaddress.IPv6Network | AddressRange:
    """An address, a prefix (`10.0.0.0/8`) or an inclusive range (`10.0.0.1-10.0.0.9`)."""
    text = value.strip()
    try:
        if "%" in text:  # a zone index only means something on one host's interface
            raise ValueError
        if "-" in text:
            low_text, high_text = (part.strip() for part in text.split("-", 1))
            low, high = ipaddress.ip_address(low_text), ipaddress.ip_address(high_text)
            if low.version != high.version or low > high:  # type: ignore[operator]
                raise ValueError
            return (low, high)  # type: ignore[return-value]
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidInput(
            f"{where}: '{value}' is not an IP address, prefix or address range"
        ) from None


def address_family(value: str) -> int:
    """4 or 6 for an address, prefix or range accepted by `parse_address`."""
    parsed = parse_address(value, "address")
    return parsed[0].version if isinstance(parsed, tuple) else parsed.version


def _families(values: tuple[str, ...]) -> set[int]:
    return {address_family(value) for value in values}


def parse_port_range(value: str, where: str) -> tuple[int, int]:
    """A port (`80`) or an inclusive range (`8000-8080`)."""
    try:
        low_text, _, high_text = value.strip().partition("-")
        low = int(low_text)
        high = int(high_text) if high_text else low
    except ValueError:
        raise InvalidInput(f"{where}: '{value}' is not a port or port range") from None
    if not 0 <= low <= high <= 65535:
        raise InvalidInput(f"{where}: '{value}' is not a port or port range within 0-65535")
    return low, high


def parse_protocol(value: str, where: str) -> int:
    """An IP protocol by name (`TCP`, `udp`, ...) or number (0-255)."""
    text = value.strip().lower()
    if text in PROTOCOLS:
        return PROTOCOLS[text]
    if text.isdecimal() and int(text) <= 255:
        return int(text)
    raise InvalidInput(
        f"{where}: '{value}' is not a protocol (a name such as TCP, UDP, ICMP or a number 0-255)"
    )
