"""What an AppD (or a request standing in for it) asks of the host: DNS and traffic rules in
their MEC 011 form, and the CPUs and memory to reserve."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mec_platform.appsupport.rules import DnsRule, RuleState, TrafficRule
from mec_platform.appsupport.wire import dns_rule_from_wire, traffic_rule_from_wire
from mec_platform.errors import InvalidInput
from mec_platform.registry.model import JsonObject


def traffic_rules_of(document: JsonObject, state: RuleState) -> list[TrafficRule]:
    """appTrafficRule descriptors as MEC 011 traffic rules in the given state."""
    rules = []
    for index, descriptor in enumerate(_list(document, "appTrafficRule")):
        body = dict(descriptor)
        interface = body.get("dstInterface")
        if isinstance(interface, dict):
            # The AppD names one interface; a MEC 011 rule lists them.
            body["dstInterface"] = [interface]
        body["state"] = state.value
        rules.append(_parsed(traffic_rule_from_wire, body, f"appTrafficRule[{index}]"))
    return rules


def dns_rules_of(document: JsonObject) -> list[DnsRule]:
    """appDNSRule descriptors as MEC 011 DNS rules: ACTIVE unless the descriptor says INACTIVE."""
    return [
        _parsed(
            dns_rule_from_wire,
            {"state": RuleState.ACTIVE.value, **descriptor},
            f"appDNSRule[{i}]",
        )
        for i, descriptor in enumerate(_list(document, "appDNSRule"))
    ]


def requested_resources(appd: JsonObject, params: JsonObject) -> tuple[float | None, int | None]:
    """(CPUs, MiB of memory) to reserve: the request's descriptor, else the AppD's."""
    compute = params.get("virtualComputeDescriptor") or appd.get("virtualComputeDescriptor") or {}
    if not isinstance(compute, dict):
        return None, None
    cpu = compute.get("virtualCpu") or {}
    memory = compute.get("virtualMemory") or {}
    cpus = cpu.get("numVirtualCpu") if isinstance(cpu, dict) else None
    size = memory.get("virtualMemSize") if isinstance(memory, dict) else None
    return (
        float(cpus) if isinstance(cpus, int | float) else None,
        int(size) if isinstance(size, int | float) else None,
    )


def _list(document: JsonObject, key: str) -> list[JsonObject]:
    value = document.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidInput(f"{key}: must be a list of objects")
    return value


def _parsed(parse: Callable[[JsonObject], object], body: JsonObject, where: str) -> Any:
    try:
        return parse(body)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.detail}") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{where}: malformed ({exc})") from exc
