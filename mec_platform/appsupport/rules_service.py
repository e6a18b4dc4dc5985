"""Use cases on the DNS and traffic rules of an application (MEC 011 clauses 7.2.7 to 7.2.10).

An application reads its rules and replaces them with PUT (typically to switch them between
ACTIVE and INACTIVE). Every change bumps the rules version in the same transaction and wakes
the data plane, which makes the ACTIVE rules take effect on the host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol, TypeVar

from mec_platform.appsupport.ports import AppSupportUnitOfWork, AppSupportUnitOfWorkFactory
from mec_platform.appsupport.rules import DnsRule, RuleState, TrafficRule
from mec_platform.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from mec_platform.registry.access import require_app
from mec_platform.registry.model import if_match_allows


def _check_if_match(if_match: str | None, etag: str) -> None:
    if if_match is not None and not if_match_allows(if_match, etag):
        raise PreconditionFailed(
            f"If-Match: {if_match} does not match the current entity tag {etag}"
        )


RuleT = TypeVar("RuleT", covariant=True)


class _RuleLookup(Protocol[RuleT]):
    """What DNS and traffic rule repositories share for finding one rule."""

    def get(self, app_instance_id: str, rule_id: str, /) -> RuleT | None: ...

    def owners_of(self, rule_id: str, /) -> list[str]: ...


def _owned_rule(
    uow: AppSupportUnitOfWork,
    rules: _RuleLookup[RuleT],
    kind: str,
    app_instance_id: str,
    rule_id: str,
) -> RuleT:
    """A rule of the application in the path: 404 if unknown, 403 if another app's."""
    require_app(uow, app_instance_id)
    rule = rules.get(app_instance_id, rule_id)
    if rule is not None:
        return rule
    # Rule ids are per application; one that exists only elsewhere is another app's resource.
    owners = rules.owners_of(rule_id)
    if owners and app_instance_id not in owners:
        raise Forbidden(f"{kind}: rule '{rule_id}' belongs to another application")
    raise NotFound(f"{kind}: application has no rule '{rule_id}'")


def ensure_domain_free(uow: AppSupportUnitOfWork, domain_name: str, app_instance_id: str) -> None:
    """Conflict unless no other application's ACTIVE rule serves `domain_name`.

    The name is locked for the rest of the transaction first, so two applications activating
    it at the same moment cannot both pass the check.
    """
    uow.dns_rules.lock_domain(domain_name)
    rivals = {
        owner
        for owner, _ in uow.dns_rules.active_for_domain(domain_name)
        if owner != app_instance_id
    }
    if rivals:
        raise Conflict(f"domainName: '{domain_name}' is served by another application")


class AppRules:
    """The DNS and traffic rules of application instances."""

    def __init__(
        self,
        uows: AppSupportUnitOfWorkFactory,
        notify_dataplane: Callable[[], None] = lambda: None,
        check_rules: Callable[[Sequence[TrafficRule]], None] = lambda rules: None,
    ) -> None:
        self._uows = uows
        self._notify_dataplane = notify_dataplane
        # Refuses ACTIVE traffic rules the host's data plane cannot enforce (e.g. none runs).
        self._check_rules = check_rules

    # -- DNS rules -------------------------------------------------------------------------
    def dns_rules(self, app_instance_id: str) -> list[DnsRule]:
        """Every DNS rule of an application."""
        with self._uows() as uow:
            require_app(uow, app_instance_id)
            return uow.dns_rules.list_for_app(app_instance_id)

    def dns_rule(self, app_instance_id: str, dns_rule_id: str) -> DnsRule:
        """One DNS rule of an application."""
        with self._uows() as uow:
            return _owned_rule(uow, uow.dns_rules, "dnsRuleId", app_instance_id, dns_rule_id)

    def update_dns_rule(
        self, app_instance_id: str, dns_rule_id: str, rule: DnsRule, if_match: str | None
    ) -> DnsRule:
        """Replace a DNS rule; an ACTIVE rule may not claim a name another application serves."""
        if rule.dns_rule_id != dns_rule_id:
            raise InvalidInput("dnsRuleId: does not match the dnsRuleId of the URI")
        with self._uows(write=True) as uow:
            before = _owned_rule(uow, uow.dns_rules, "dnsRuleId", app_instance_id, dns_rule_id)
            _check_if_match(if_match, before.etag)
            after = replace(rule, revision=before.revision)
            if after == before:
                return before
            if after.state is RuleState.ACTIVE:
                ensure_domain_free(uow, after.domain_name, app_instance_id)
            after = replace(after, revision=before.revision + 1)
            uow.dns_rules.update(app_instance_id, after)
            uow.commit()
        self._notify_dataplane()
        return after

    # -- traffic rules ---------------------------------------------------------------------
    def traffic_rules(self, app_instance_id: str) -> list[TrafficRule]:
        """Every traffic rule of an application, highest priority first."""
        with self._uows() as uow:
            require_app(uow, app_instance_id)
            return uow.traffic_rules.list_for_app(app_instance_id)

    def traffic_rule(self, app_instance_id: str, traffic_rule_id: str) -> TrafficRule:
        """One traffic rule of an application."""
        with self._uows() as uow:
            return _owned_rule(
                uow, uow.traffic_rules, "trafficRuleId", app_instance_id, traffic_rule_id
            )

    def update_traffic_rule(
        self, app_instance_id: str, traffic_rule_id: str, rule: TrafficRule, if_match: str | None
    ) -> TrafficRule:
        """Replace a traffic rule; only rules this host can enforce are accepted."""
        if rule.traffic_rule_id != traffic_rule_id:
            raise InvalidInput("trafficRuleId: does not match the trafficRuleId of the URI")
        rule.check_enforceable()
        with self._uows(write=True) as uow:
            before = _owned_rule(
                uow, uow.traffic_rules, "trafficRuleId", app_instance_id, traffic_rule_id
            )
            _check_if_match(if_match, before.etag)
            after = replace(rule, revision=before.revision)
            if after == before:
                return before
            if after.state is RuleState.ACTIVE:
                self._check_rules([after])
            after = replace(after, revision=before.revision + 1)
            uow.traffic_rules.update(app_instance_id, after)
            uow.commit()
        self._notify_dataplane()
        return after
