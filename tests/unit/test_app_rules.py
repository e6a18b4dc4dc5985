"""Unit tests of AppRules (GET/PUT of DNS and traffic rules) on the in-memory fakes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
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
)
from mec_platform.appsupport.rules_service import AppRules
from mec_platform.appsupport.service import AppSupport
from mec_platform.appsupport.urls import AppSupportUrls
from mec_platform.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
)
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.urls import ResourceUrls
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory, SequentialIds

ACTIVE, INACTIVE = RuleState.ACTIVE, RuleState.INACTIVE


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def dns(rule_id: str, domain: str | None = None, **changes: Any) -> DnsRule:
    rule = DnsRule(
        dns_rule_id=rule_id,
        domain_name=domain or f"{uid('host')}.mec.test",
        ip_address_type=IpAddressType.IP_V4,
        ip_address="10.1.2.3",
        state=ACTIVE,
        ttl=60,
    )
    return replace(rule, **changes)


def traffic(rule_id: str, **changes: Any) -> TrafficRule:
    rule = TrafficRule(
        traffic_rule_id=rule_id,
        filter_type=FilterType.FLOW,
        priority=10,
        traffic_filter=(TrafficFilter(dst_address=("10.9.0.0/16",), dst_port=("443",)),),
        action=TrafficAction.DROP,
        state=INACTIVE,
    )
    return replace(rule, **changes)


def selector(**values: Any) -> tuple[TrafficFilter, ...]:
    return (TrafficFilter(**values),)


@dataclass
class Env:
    uows: InMemoryUnitOfWorkFactory
    support: AppSupport
    rules: AppRules
    dataplane: list[int]
    checked: list[list[TrafficRule]]

    def app(
        self, dns_rules: Sequence[DnsRule] = (), traffic_rules: Sequence[TrafficRule] = ()
    ) -> str:
        app = self.support.add_app_instance(uid("app"), uid("app"), dns_rules, traffic_rules).app
        self.dataplane.clear()
        return app.app_instance_id

    @property
    def version(self) -> int:
        return self.uows.store.rules_version


def make_env(check: Callable[[Sequence[TrafficRule]], None] | None = None) -> Env:
    uows = InMemoryUnitOfWorkFactory()
    clock, ids = FakeClock(), SequentialIds()
    registry = ServiceRegistry(uows, ResourceUrls("http://mec.test"), (), clock, ids)
    support = AppSupport(uows, registry, AppSupportUrls("http://mec.test"), clock, ids)
    dataplane: list[int] = []
    checked: list[list[TrafficRule]] = []

    def check_rules(rules: Sequence[TrafficRule]) -> None:
        checked.append(list(rules))
        if check is not None:
            check(rules)

    rules = AppRules(uows, lambda: dataplane.append(1), check_rules)
    return Env(uows, support, rules, dataplane, checked)


@pytest.fixture
def env() -> Env:
    return make_env()


def unchanged(env: Env, action: Callable[[], object], error: type[Exception]) -> str:
    """`action` raises `error`, leaves the committed store as it was and wakes nobody."""
    before = env.uows.store.snapshot()
    with pytest.raises(error) as raised:
        action()
    assert env.uows.store == before
    assert env.dataplane == []
    return str(raised.value)


# -- reading --------------------------------------------------------------------------------
def test_get_dns_rules(env: Env) -> None:
    rules = [dns("b"), dns("a", state=INACTIVE)]
    app_id = env.app(dns_rules=rules)
    env.app(dns_rules=[dns("c")])
    assert env.rules.dns_rules(app_id) == [rules[1], rules[0]]
    assert env.rules.dns_rule(app_id, "b") == rules[0]
    assert env.rules.dns_rules(env.app()) == []


def test_get_traffic_rules_highest_priority_first(env: Env) -> None:
    rules = [traffic("a", priority=200), traffic("b", priority=0), traffic("c", priority=200)]
    app_id = env.app(traffic_rules=rules)
    assert env.rules.traffic_rules(app_id) == [rules[1], rules[0], rules[2]]
    assert env.rules.traffic_rule(app_id, "c") == rules[2]


def test_unknown_app_or_rule_is_not_found(env: Env) -> None:
    app_id = env.app(dns_rules=[dns("d")], traffic_rules=[traffic("t")])
    ghost = uid("app")
    calls: list[Callable[[], object]] = [
        lambda: env.rules.dns_rules(ghost),
        lambda: env.rules.dns_rule(ghost, "d"),
        lambda: env.rules.dns_rule(app_id, "nope"),
        lambda: env.rules.traffic_rules(ghost),
        lambda: env.rules.traffic_rule(ghost, "t"),
        lambda: env.rules.traffic_rule(app_id, "nope"),
        lambda: env.rules.update_dns_rule(ghost, "d", dns("d"), None),
        lambda: env.rules.update_dns_rule(app_id, "nope", dns("nope"), None),
        lambda: env.rules.update_traffic_rule(ghost, "t", traffic("t"), None),
        lambda: env.rules.update_traffic_rule(app_id, "nope", traffic("nope"), None),
    ]
    for call in calls:
        unchanged(env, call, NotFound)


def test_another_apps_rule_is_forbidden(env: Env) -> None:
    app_id = env.app()
    mine, ours = dns("mine"), traffic("ours")
    other = env.app(dns_rules=[mine], traffic_rules=[ours])
    calls: list[Callable[[], object]] = [
        lambda: env.rules.dns_rule(app_id, "mine"),
        lambda: env.rules.traffic_rule(app_id, "ours"),
        lambda: env.rules.update_dns_rule(app_id, "mine", replace(mine, ttl=1), None),
        lambda: env.rules.update_traffic_rule(app_id, "ours", replace(ours, priority=1), None),
    ]
    for call in calls:
        assert "belongs to another application" in unchanged(env, call, Forbidden)
    assert env.rules.dns_rule(other, "mine") == mine
    assert env.rules.traffic_rule(other, "ours") == ours


def test_a_rule_id_is_per_application(env: Env) -> None:
    """Two applications may use the same rule id; each reaches its own rule."""
    first = env.app(dns_rules=[dns("same", ttl=1)], traffic_rules=[traffic("same", priority=1)])
    second = env.app(dns_rules=[dns("same", ttl=2)], traffic_rules=[traffic("same", priority=2)])
    assert env.rules.dns_rule(first, "same").ttl == 1
    assert env.rules.dns_rule(second, "same").ttl == 2
    assert env.rules.traffic_rule(first, "same").priority == 1
    after = env.rules.update_traffic_rule(second, "same", traffic("same", priority=7), None)
    assert (after.priority, env.rules.traffic_rule(first, "same").priority) == (7, 1)


# -- PUT ------------------------------------------------------------------------------------
def test_put_with_a_mismatching_id_is_invalid(env: Env) -> None:
    app_id = env.app(dns_rules=[dns("d")], traffic_rules=[traffic("t")])
    detail = unchanged(
        env, lambda: env.rules.update_dns_rule(app_id, "d", dns("x"), None), InvalidInput
    )
    assert detail.startswith("dnsRuleId")
    detail = unchanged(
        env, lambda: env.rules.update_traffic_rule(app_id, "t", traffic("x"), None), InvalidInput
    )
    assert detail.startswith("trafficRuleId")


def test_put_changes_bump_the_revision_and_the_rules_version(env: Env) -> None:
    rule = dns("d", state=INACTIVE)
    app_id = env.app(dns_rules=[rule])
    version = env.version
    after = env.rules.update_dns_rule(app_id, "d", replace(rule, state=ACTIVE), None)
    assert (after.state, after.revision) == (ACTIVE, 2)
    assert after.etag == '"d.2"' != rule.etag
    assert env.rules.dns_rule(app_id, "d") == after
    assert env.version == version + 1
    assert env.dataplane == [1]
    again = env.rules.update_dns_rule(app_id, "d", replace(rule, ttl=5), after.etag)
    assert (again.revision, again.ttl, again.state) == (3, 5, INACTIVE)


def test_unchanged_put_keeps_the_revision_and_wakes_nobody(env: Env) -> None:
    rule, flow = dns("d"), traffic("t")
    app_id = env.app(dns_rules=[rule], traffic_rules=[flow])
    # A client echoes what it read: the revision it sends is ignored.
    assert env.rules.update_dns_rule(app_id, "d", replace(rule, revision=9), rule.etag) == rule
    assert env.rules.update_traffic_rule(app_id, "t", flow, None) == flow
    assert env.dataplane == []
    assert env.rules.dns_rule(app_id, "d").etag == rule.etag


def test_traffic_rule_put(env: Env) -> None:
    flow = traffic("t")
    app_id = env.app(traffic_rules=[flow])
    version = env.version
    changed = replace(flow, priority=3, traffic_filter=selector(src_address=("fd00::/8",)))
    after = env.rules.update_traffic_rule(app_id, "t", changed, flow.etag)
    assert after == replace(changed, revision=2)
    assert env.rules.traffic_rules(app_id) == [after]
    assert (env.version, env.dataplane) == (version + 1, [1])


@pytest.mark.parametrize("header", ['"x.1"', '"d.2"', 'W/"d.1"', '"t.1"', "d.1", ""])
def test_if_match_mismatch_is_a_failed_precondition(env: Env, header: str) -> None:
    app_id = env.app(dns_rules=[dns("d")], traffic_rules=[traffic("t")])
    unchanged(
        env,
        lambda: env.rules.update_dns_rule(app_id, "d", dns("d", state=INACTIVE), header),
        PreconditionFailed,
    )
    if header != '"t.1"':
        unchanged(
            env,
            lambda: env.rules.update_traffic_rule(app_id, "t", traffic("t", priority=1), header),
            PreconditionFailed,
        )


@pytest.mark.parametrize("header", ["*", '"d.1"', '"old.7", "d.1"', ' "d.1" '])
def test_if_match_with_the_current_tag_or_a_wildcard_passes(env: Env, header: str) -> None:
    rule = dns("d")
    app_id = env.app(dns_rules=[rule])
    assert env.rules.update_dns_rule(app_id, "d", replace(rule, ttl=1), header).revision == 2


def test_stale_if_match_after_a_change_fails(env: Env) -> None:
    flow = traffic("t")
    app_id = env.app(traffic_rules=[flow])
    env.rules.update_traffic_rule(app_id, "t", replace(flow, priority=1), flow.etag)
    env.dataplane.clear()
    unchanged(
        env,
        lambda: env.rules.update_traffic_rule(app_id, "t", replace(flow, priority=2), flow.etag),
        PreconditionFailed,
    )


# -- DNS domain conflicts -------------------------------------------------------------------
@pytest.mark.parametrize(
    "spelling",
    ["{d}", "{D}", "{d}.", "{D}.", "{Mixed}"],
    ids=["same", "upper", "dot", "UP.", "mix"],
)
def test_activating_a_domain_another_app_serves_is_a_conflict(env: Env, spelling: str) -> None:
    domain = f"{uid('svc')}.mec.test"
    names = {"d": domain, "D": domain.upper(), "Mixed": domain.capitalize()}
    env.app(dns_rules=[dns("owner", domain)])
    claim = dns("claim", spelling.format(**names), state=INACTIVE)
    app_id = env.app(dns_rules=[claim])
    detail = unchanged(
        env,
        lambda: env.rules.update_dns_rule(app_id, "claim", replace(claim, state=ACTIVE), None),
        Conflict,
    )
    assert detail.startswith("domainName")
    # Changing it while it stays INACTIVE is fine.
    assert env.rules.update_dns_rule(app_id, "claim", replace(claim, ttl=1), None).revision == 2


def test_domain_conflicts_look_at_active_rules_of_other_apps_only(env: Env) -> None:
    domain = f"{uid('svc')}.mec.test"
    owner_rule = dns("owner", domain)
    owner = env.app(
        dns_rules=[
            owner_rule,
            dns("v6", domain, ip_address_type=IpAddressType.IP_V6, ip_address="fd00::1"),
        ]
    )
    # The same application may serve one name through several rules (A and AAAA records).
    env.rules.update_dns_rule(owner, "owner", replace(owner_rule, ttl=1), None)
    claim = dns("claim", domain, state=INACTIVE)
    app_id = env.app(dns_rules=[claim])
    env.rules.update_dns_rule(owner, "owner", replace(owner_rule, state=INACTIVE), None)
    with pytest.raises(Conflict):  # the AAAA rule still serves the name
        env.rules.update_dns_rule(app_id, "claim", replace(claim, state=ACTIVE), None)
    v6 = env.rules.dns_rule(owner, "v6")
    env.rules.update_dns_rule(owner, "v6", replace(v6, state=INACTIVE), None)
    after = env.rules.update_dns_rule(app_id, "claim", replace(claim, state=ACTIVE), None)
    assert after.state is ACTIVE
    other = env.app(dns_rules=[dns("other", f"x.{domain}", state=INACTIVE)])
    other_rule = env.rules.dns_rule(other, "other")
    assert env.rules.update_dns_rule(other, "other", replace(other_rule, state=ACTIVE), None)


# -- traffic rules this host cannot enforce -------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"action": TrafficAction.FORWARD_DECAPSULATED}, "action"),
        ({"action": TrafficAction.DUPLICATE_ENCAPSULATED}, "action"),
        ({"priority": -1}, "priority"),
        ({"traffic_filter": ()}, "trafficFilter"),
        ({"traffic_filter": selector(tag=("blue",))}, "trafficFilter[0].tag"),
        ({"traffic_filter": selector(q_ci=9)}, "trafficFilter[0].qCI"),
        ({"traffic_filter": selector(t_c=1)}, "trafficFilter[0].tC"),
        ({"traffic_filter": selector(src_address=("10.0.0.256",))}, "trafficFilter[0].srcAddress"),
        ({"traffic_filter": selector(dst_address=("example.com",))}, "trafficFilter[0].dstAddress"),
        ({"traffic_filter": selector(dst_port=("70000",))}, "trafficFilter[0].dstPort"),
        ({"traffic_filter": selector(src_port=("http",))}, "trafficFilter[0].srcPort"),
        ({"traffic_filter": selector(protocol=("quic",))}, "trafficFilter[0].protocol"),
        ({"traffic_filter": (TrafficFilter(), TrafficFilter(d_scp=64))}, "trafficFilter[1].dSCP"),
    ],
)
def test_unenforceable_traffic_rules_are_invalid(env: Env, changes: Any, field: str) -> None:
    flow = traffic("t")
    app_id = env.app(traffic_rules=[flow])
    rule = replace(flow, state=ACTIVE, **changes)
    detail = unchanged(
        env, lambda: env.rules.update_traffic_rule(app_id, "t", rule, None), InvalidInput
    )
    assert detail.startswith(f"{field}:")


def test_the_rule_check_is_asked_for_active_rules_only() -> None:
    def refuse(rules: Sequence[TrafficRule]) -> None:
        raise Conflict("state: the packet filter is switched off")

    env = make_env(refuse)
    flow = traffic("t")
    app_id = env.app(traffic_rules=[flow])
    env.checked.clear()
    active = replace(flow, state=ACTIVE)
    unchanged(env, lambda: env.rules.update_traffic_rule(app_id, "t", active, None), Conflict)
    assert env.checked == [[active]]
    after = env.rules.update_traffic_rule(app_id, "t", replace(flow, priority=0), None)
    assert after.revision == 2
    assert env.checked == [[active]]


def test_the_rule_check_sees_the_rule_as_put(env: Env) -> None:
    flow = traffic("t")
    app_id = env.app(traffic_rules=[flow])
    env.checked.clear()
    active = replace(flow, state=ACTIVE)
    assert env.rules.update_traffic_rule(app_id, "t", active, None).state is ACTIVE
    assert env.checked == [[active]]
    with env.uows() as uow:
        assert uow.traffic_rules.active() == [(app_id, replace(active, revision=2))]


def test_missing_foreign_or_stale_beats_the_packet_filter_check() -> None:
    """404, 403 and 412 say more than "the packet filter is off": they are checked first."""

    def refuse(rules: Sequence[TrafficRule]) -> None:
        raise Conflict("state: the packet filter is switched off")

    env = make_env(refuse)
    flow = traffic("t")
    owner = env.app(traffic_rules=[flow])
    other = env.app()
    active = replace(flow, state=ACTIVE)
    unchanged(env, lambda: env.rules.update_traffic_rule("nope", "t", active, None), NotFound)
    unchanged(env, lambda: env.rules.update_traffic_rule(other, "t", active, None), Forbidden)
    stale = '"t.99"'
    unchanged(
        env, lambda: env.rules.update_traffic_rule(owner, "t", active, stale), PreconditionFailed
    )
