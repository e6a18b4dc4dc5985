"""DNS queries the data plane uses to watch its own server (dnspython, over UDP)."""

from __future__ import annotations

import ipaddress

import dns.exception
import dns.message
import dns.query
import dns.rdataclass
import dns.rdatatype


def resolve_ready(address: str, port: int, timeout: float) -> bool:
    """True when a DNS server at address:port answers a CHAOS `version.bind` query in time."""
    query = dns.message.make_query("version.bind.", dns.rdatatype.TXT, dns.rdataclass.CH)
    try:
        dns.query.udp(query, address, port=port, timeout=timeout)
    except (dns.exception.DNSException, OSError):
        return False
    return True


def lookup(
    address: str, port: int, name: str, rdtype: str, timeout: float
) -> frozenset[str] | None:
    """Addresses the server answers for `name` (empty on a negative answer); None if silent."""
    query = dns.message.make_query(name, rdtype)
    try:
        response = dns.query.udp(query, address, port=port, timeout=timeout)
    except (dns.exception.DNSException, OSError):
        return None
    wanted = dns.rdatatype.from_text(rdtype)
    return frozenset(
        str(ipaddress.ip_address(rdata.address))
        for rrset in response.answer
        if rrset.rdtype == wanted
        for rdata in rrset
    )
