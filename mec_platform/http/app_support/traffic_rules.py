"""Traffic rule handlers (MEC 011 clauses 7.2.9 and 7.2.10)."""

from __future__ import annotations

from typing import Any

from mec_platform.appsupport.rules_service import AppRules
from mec_platform.appsupport.wire import traffic_rule_from_wire, traffic_rule_to_wire
from mec_platform.http.responses import Response, if_match, ok


def applications_trafficrules_get_appinstanceid(
    app_instance_id: str, *, rules: AppRules
) -> Response:
    """GET /applications/{appInstanceId}/traffic_rules."""
    return ok([traffic_rule_to_wire(rule) for rule in rules.traffic_rules(app_instance_id)])


def applications_trafficrules_get_appinstanceid_trafficruleid(
    app_instance_id: str, traffic_rule_id: str, *, rules: AppRules
) -> Response:
    """GET /applications/{appInstanceId}/traffic_rules/{trafficRuleId}."""
    rule = rules.traffic_rule(app_instance_id, traffic_rule_id)
    return ok(traffic_rule_to_wire(rule), ETag=rule.etag)


def applications_trafficrules_put_appinstanceid_trafficruleid(
    app_instance_id: str, traffic_rule_id: str, body: dict[str, Any], *, rules: AppRules
) -> Response:
    """PUT /applications/{appInstanceId}/traffic_rules/{trafficRuleId}."""
    rule = rules.update_traffic_rule(
        app_instance_id, traffic_rule_id, traffic_rule_from_wire(body), if_match()
    )
    return ok(traffic_rule_to_wire(rule), ETag=rule.etag)
