"""DNS rule handlers (MEC 011 clauses 7.2.7 and 7.2.8)."""

from __future__ import annotations

from typing import Any

from mec_platform.appsupport.rules_service import AppRules
from mec_platform.appsupport.wire import dns_rule_from_wire, dns_rule_to_wire
from mec_platform.http.responses import Response, if_match, ok


def applications_dnsrules_get_appinstanceid(app_instance_id: str, *, rules: AppRules) -> Response:
    """GET /applications/{appInstanceId}/dns_rules."""
    return ok([dns_rule_to_wire(rule) for rule in rules.dns_rules(app_instance_id)])


def applications_dnsrules_get_appinstanceid_dnsruleid(
    app_instance_id: str, dns_rule_id: str, *, rules: AppRules
) -> Response:
    """GET /applications/{appInstanceId}/dns_rules/{dnsRuleId}."""
    rule = rules.dns_rule(app_instance_id, dns_rule_id)
    return ok(dns_rule_to_wire(rule), ETag=rule.etag)


def applications_dnsrules_put_appinstanceid_dnsruleid(
    app_instance_id: str, dns_rule_id: str, body: dict[str, Any], *, rules: AppRules
) -> Response:
    """PUT /applications/{appInstanceId}/dns_rules/{dnsRuleId}: replace (e.g. switch state)."""
    rule = rules.update_dns_rule(app_instance_id, dns_rule_id, dns_rule_from_wire(body), if_match())
    return ok(dns_rule_to_wire(rule), ETag=rule.etag)
