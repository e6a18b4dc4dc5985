"""Live Application Support resources for the schemathesis run, and steering of cases to them.

The fuzz test keeps what exists on the server (app instances, their DNS and traffic rules and
termination subscriptions) current from the answers it receives. Most generated cases have their
path ids pointed at those resources, and most valid bodies are brought within the rules the
schema cannot state (ids in the body equal to the path, addresses of the declared family, only
DROP/PASSTHROUGH traffic rules, kept INACTIVE because the test stack runs no data plane), so the
happy paths run as well as the refusals. Cases whose path or body is the invalid part are left
alone: they must be refused as generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemathesis import Case, Response
from schemathesis.core.parameters import ParameterLocation

from tests.fuzz.support import CallLog, choose, id_from_location, valid_part
from tests.support.secrets import remember

ENFORCED_ACTIONS = ["DROP", "PASSTHROUGH"]
MAX_TRACKED_REGISTRATIONS = 4
# Dependencies the platform checks against its own services and features: generated ones are
# never offered, so an acceptable registration leaves them out.
UNMET_DEPENDENCIES = ("appServiceRequired", "appFeatureRequired")
RESOURCE_IDS = {
    "dnsRuleId": "dns_rules",
    "trafficRuleId": "traffic_rules",
    "subscriptionId": "subscriptions",
}


@dataclass
class LiveApp:
    """One app instance on the server and the resources it has there."""

    managed: bool
    dns_rules: list[str] = field(default_factory=list)
    traffic_rules: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)


@dataclass
class AppSupportIds:
    """What exists on the server, with the seeded rule definitions to make bodies acceptable."""

    apps: dict[str, LiveApp] = field(default_factory=dict)
    seeded: dict[str, str] = field(default_factory=dict)  # name -> id of the seeded instances
    dns_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    traffic_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: CallLog = field(default_factory=CallLog)

    # -- steering --------------------------------------------------------------------------
    def steer(
        self, case: Case[Any], resources: bool = True, always: bool = False, path: bool = True
    ) -> None:
        """Point valid path ids at live resources and make valid bodies acceptable.

        `resources=False` steers only the app instance, `path=False` not even that; `always`
        makes every valid body acceptable instead of three in four.
        """
        # The coverage phase varies one part of a case at a time: the choices depend on the whole
        # case, or every case that differs only in its body would go to the same resource.
        salt = repr((case.body, case.headers, case.query))
        if path and valid_part(case, ParameterLocation.PATH):
            self._steer_path(case, resources, salt)
        if case.headers and valid_part(case, ParameterLocation.HEADER):
            _steer_if_match(case, salt)
        body = case.body if valid_part(case, ParameterLocation.BODY) else None
        if isinstance(body, dict) and (always or choose(body, ["acceptable"])):
            self._acceptable(case, dict(body), always)

    def _steer_path(self, case: Case[Any], resources: bool, salt: str) -> None:
        params = dict(case.path_parameters)
        app_id = params.get("appInstanceId")
        if app_id is not None and app_id not in self.apps:
            chosen = choose((app_id, salt), self._candidates(params))
            app_id = params["appInstanceId"] = chosen or app_id
        app = self.apps.get(app_id or "")
        for name, attribute in RESOURCE_IDS.items():
            value = params.get(name) if resources else None
            if value is None:
                continue
            # Now and then another app's resource, which must be refused with 403.
            options = list(getattr(app, attribute)) if app else []
            options += self._foreign(app_id, attribute)[:1]
            if value not in options:
                params[name] = choose((value, salt), options) or value
        if params != case.path_parameters:
            case.path_parameters = params

    def _candidates(self, params: dict[str, Any]) -> list[str]:
        # For a rule or subscription, an app that has some; else any app.
        wanted = [attribute for name, attribute in RESOURCE_IDS.items() if name in params]
        having = [i for i, app in self.apps.items() if all(getattr(app, a) for a in wanted)]
        return having or list(self.apps)

    def _foreign(self, app_id: str | None, attribute: str) -> list[str]:
        return [
            getattr(app, attribute)[0]
            for other, app in self.apps.items()
            if other != app_id and getattr(app, attribute)
        ]

    def _acceptable(self, case: Case[Any], body: dict[str, Any], always: bool) -> None:
        path_app = case.path_parameters.get("appInstanceId")
        if case.path == "/registrations":
            self._acceptable_registration(body, always)
        elif case.path == "/registrations/{appInstanceId}":
            for name in UNMET_DEPENDENCIES:
                body.pop(name, None)
            body["appInstanceId"] = path_app
        elif case.path.endswith("/subscriptions"):
            body["appInstanceId"] = path_app
        elif case.path.endswith("/{dnsRuleId}"):
            rule_id = case.path_parameters["dnsRuleId"]
            body.update(self.dns_rules.get(rule_id, next(iter(self.dns_rules.values()))))
            body["dnsRuleId"] = rule_id
            if always:
                # Along links the body is the rule as read: switch its state now and then.
                body["state"] = choose(case.body, ["ACTIVE", "INACTIVE"]) or body.get("state")
        elif case.path.endswith("/{trafficRuleId}"):
            self._acceptable_traffic_rule(body, case.path_parameters["trafficRuleId"])
        if body != case.body:
            case.body = body

    def _acceptable_registration(self, body: dict[str, Any], always: bool) -> None:
        for name in UNMET_DEPENDENCIES:
            body.pop(name, None)
        if not body.get("isInsByMec"):
            # The platform allocates the id of an app it did not instantiate.
            body.pop("appInstanceId", None)
            return
        managed = [i for i, app in self.apps.items() if app.managed]
        given = body.get("appInstanceId")
        chosen = choose(given, managed) or (managed[0] if always and managed else None)
        if chosen:
            body["appInstanceId"] = chosen

    def _acceptable_traffic_rule(self, body: dict[str, Any], rule_id: str) -> None:
        seeded = self.traffic_rules.get(rule_id, next(iter(self.traffic_rules.values())))
        body["trafficRuleId"] = rule_id
        body["trafficFilter"] = seeded["trafficFilter"]
        if body.get("action") not in ENFORCED_ACTIONS:
            body["action"] = choose(body.get("action"), ENFORCED_ACTIONS) or seeded["action"]
        # With the data plane off, an ACTIVE traffic rule is refused with 409 by design: keep
        # the generated state only one time in four, so that most updates go through.
        if choose(body.get("priority"), ["INACTIVE"]) or "state" not in body:
            body["state"] = "INACTIVE"

    # -- recording -------------------------------------------------------------------------
    def add(self, app_id: str, app: LiveApp) -> None:
        """Track an app instance the server has just created."""
        self.apps.setdefault(app_id, app)

    def record(self, case: Case[Any], response: Response) -> None:
        """Count the call and track the resources it created or deleted."""
        self.log.count(case, response)
        method, status = case.method.upper(), response.status_code
        if case.path == "/registrations" and method == "POST" and status == 201:
            for secret in response.headers.get("mec-client-secret", []):
                remember(secret)
            self._registered(response.json().get("appInstanceId"))
        app_id = case.path_parameters.get("appInstanceId") if case.path_parameters else None
        app = self.apps.get(app_id or "")
        if app_id is None or app is None or status not in (201, 204):
            return
        if case.path == "/registrations/{appInstanceId}" and method == "DELETE":
            self._deregistered(app_id, app)
        elif case.path.endswith("/confirm_termination") and method == "POST":
            if isinstance(case.body, dict) and case.body.get("operationAction") == "TERMINATING":
                del self.apps[app_id]
        elif case.path.endswith("/subscriptions") and method == "POST" and status == 201:
            if new_id := id_from_location(response):
                app.subscriptions.append(new_id)
        elif case.path.endswith("/{subscriptionId}") and method == "DELETE":
            gone = case.path_parameters.get("subscriptionId")
            if gone in app.subscriptions:
                app.subscriptions.remove(gone)

    def _registered(self, app_id: str) -> None:
        # Only a few of the registrations the fuzzing makes are tracked, so that steered ids
        # still land often on the seeded apps (with rules, being stopped).
        if sum(not app.managed for app in self.apps.values()) < MAX_TRACKED_REGISTRATIONS:
            self.add(app_id, LiveApp(managed=False))

    def _deregistered(self, app_id: str, app: LiveApp) -> None:
        # A managed instance stays (with its rules) but loses its subscriptions; an instance
        # that existed only through its registration is gone.
        if app.managed:
            app.subscriptions.clear()
        else:
            del self.apps[app_id]


def _steer_if_match(case: Case[Any], salt: str) -> None:
    """Mostly no `If-Match` or `*`: a generated entity tag never matches and only gives 412."""
    given = case.headers.get("If-Match")
    if given is None:
        return
    choice = choose((given, salt), ["leave out", "*"])
    if choice is None:
        return
    headers = case.headers.copy()
    del headers["If-Match"]
    if choice == "*":
        headers["If-Match"] = "*"
    case.headers = headers
