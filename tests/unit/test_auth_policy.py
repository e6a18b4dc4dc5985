"""Table-driven tests of the single policy point `auth.policy.decide`: every role against every
kind of operation, the refusal texts, and when the owner of an instance is looked up."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from mec_platform.auth.model import ROLE_SCOPES, Principal, Role
from mec_platform.auth.policy import ADMIN_ONLY, Decision, Operation, decide

ADMIN = Principal("root", Role.ADMIN, ROLE_SCOPES[Role.ADMIN])
PROVIDER = Principal("alice", Role.PROVIDER, ROLE_SCOPES[Role.PROVIDER])
APP = Principal("app-own", Role.APP, ROLE_SCOPES[Role.APP], app_instance_id="app-own")
VIEWER = Principal("vera", Role.VIEWER, ROLE_SCOPES[Role.VIEWER])
PRINCIPALS = {"admin": ADMIN, "provider": PROVIDER, "app": APP, "viewer": VIEWER}

# The instances the lookup knows, with their owners (None: an instance of the platform admins).
OWNERS: dict[str, str | None] = {
    "app-alice": "alice",
    "app-bob": "bob",
    "app-own": None,
}
MISSING = "app-missing"

READ_ONLY = "has read-only access"
NOT_ADMIN = "may not manage users or the platform; a platform admin may"
OWN_USER = "may act only on its own user record"
OWN_APP = "may act only on its own application instance"
OWNED_APPS = "may act only on application instances it owns"


@dataclass
class RecordingLookup:
    """An owner lookup over OWNERS that records every instance it is asked about."""

    calls: list[str] = field(default_factory=list)

    def __call__(self, app_instance_id: str) -> tuple[bool, str | None]:
        self.calls.append(app_instance_id)
        if app_instance_id in OWNERS:
            return True, OWNERS[app_instance_id]
        return False, None


def services_of(method: str, instance: str) -> Operation:
    """An operation on /applications/{appInstanceId}/services."""
    op_id = f"ApplicationsServices{method}Appinstanceid"
    return Operation(method, op_id, {"appInstanceId": instance})


def user_op(method: str, op_id: str, user: str, **more: str) -> Operation:
    """An operation on a path naming a user."""
    return Operation(method, op_id, {"userName": user, **more})


DISCOVERY = Operation("GET", "ServicesGET", {})
TRANSPORTS = Operation("GET", "TransportsGET", {})
REGISTER = Operation("POST", "RegistrationsPOST", {})
CREDENTIALS_OF_ALICE = Operation("POST", "AppCredentialsPOST", {"appInstanceId": "app-alice"})

# (principal, operation, allowed, reason after "<role> '<subject>' " or "" when allowed)
CASES: list[tuple[str, Operation, bool, str]] = [
    # A platform admin may do everything.
    ("admin", services_of("GET", "app-bob"), True, ""),
    ("admin", services_of("POST", MISSING), True, ""),
    ("admin", DISCOVERY, True, ""),
    ("admin", REGISTER, True, ""),
    ("admin", Operation("GET", "UsersGET", {}), True, ""),
    ("admin", Operation("POST", "UsersPOST", {}), True, ""),
    ("admin", user_op("DELETE", "UserDELETE", "alice"), True, ""),
    ("admin", user_op("PATCH", "UserPATCH", "root"), True, ""),
    ("admin", Operation("GET", "AuditGET", {}), True, ""),
    ("admin", user_op("POST", "UserKeysPOST", "alice"), True, ""),
    # An app provider: its own instances and its own user record.
    ("provider", services_of("GET", "app-alice"), True, ""),
    ("provider", services_of("POST", "app-alice"), True, ""),
    ("provider", CREDENTIALS_OF_ALICE, True, ""),
    ("provider", services_of("GET", "app-bob"), False, OWNED_APPS),
    ("provider", services_of("POST", "app-bob"), False, OWNED_APPS),
    ("provider", services_of("GET", "app-own"), False, OWNED_APPS),
    ("provider", services_of("POST", MISSING), False, OWNED_APPS),
    ("provider", services_of("GET", MISSING), False, OWNED_APPS),
    ("provider", DISCOVERY, True, ""),
    ("provider", TRANSPORTS, True, ""),
    ("provider", REGISTER, True, ""),
    ("provider", Operation("GET", "UsersGET", {}), False, NOT_ADMIN),
    ("provider", Operation("POST", "UsersPOST", {}), False, NOT_ADMIN),
    ("provider", Operation("GET", "AuditGET", {}), False, NOT_ADMIN),
    ("provider", Operation("DELETE", "SensorDELETE", {}), False, NOT_ADMIN),
    ("app", Operation("DELETE", "SensorDELETE", {}), False, NOT_ADMIN),
    ("admin", Operation("DELETE", "SensorDELETE", {}), True, ""),
    ("provider", user_op("DELETE", "UserDELETE", "alice"), False, NOT_ADMIN),
    ("provider", user_op("PATCH", "UserPATCH", "alice"), False, NOT_ADMIN),
    ("provider", user_op("GET", "UserGET", "alice"), True, ""),
    ("provider", user_op("POST", "UserKeysPOST", "alice"), True, ""),
    ("provider", user_op("DELETE", "UserKeyDELETE", "alice", keyId="k1"), True, ""),
    ("provider", user_op("GET", "UserGET", "bob"), False, OWN_USER),
    ("provider", user_op("POST", "UserKeysPOST", "bob"), False, OWN_USER),
    ("provider", user_op("DELETE", "UserKeyDELETE", "bob", keyId="k1"), False, OWN_USER),
    # An app instance: only its own appInstanceId, never the users API.
    ("app", services_of("GET", "app-own"), True, ""),
    ("app", services_of("POST", "app-own"), True, ""),
    ("app", services_of("GET", "app-alice"), False, OWN_APP),
    ("app", services_of("POST", "app-alice"), False, OWN_APP),
    ("app", services_of("POST", MISSING), False, OWN_APP),
    ("app", CREDENTIALS_OF_ALICE, False, OWN_APP),
    ("app", DISCOVERY, True, ""),
    ("app", REGISTER, True, ""),
    ("app", Operation("GET", "UsersGET", {}), False, NOT_ADMIN),
    ("app", Operation("GET", "AuditGET", {}), False, NOT_ADMIN),
    ("app", user_op("GET", "UserGET", "app-own"), False, OWN_USER),
    ("app", user_op("POST", "UserKeysPOST", "alice"), False, OWN_USER),
    # A viewer: reads anything its token reaches, of the users API only its own record.
    ("viewer", services_of("GET", "app-bob"), True, ""),
    ("viewer", services_of("GET", MISSING), True, ""),
    ("viewer", Operation("HEAD", "ServicesGET", {}), True, ""),
    ("viewer", Operation("get", "ServicesGET", {}), True, ""),
    ("viewer", services_of("POST", "app-bob"), False, READ_ONLY),
    ("viewer", DISCOVERY, True, ""),
    ("viewer", REGISTER, False, READ_ONLY),
    ("viewer", Operation("GET", "UsersGET", {}), False, NOT_ADMIN),
    ("viewer", Operation("GET", "AuditGET", {}), False, NOT_ADMIN),
    ("viewer", Operation("POST", "UsersPOST", {}), False, READ_ONLY),
    ("viewer", user_op("PATCH", "UserPATCH", "vera"), False, READ_ONLY),
    ("viewer", user_op("GET", "UserGET", "vera"), True, ""),
    ("viewer", user_op("GET", "UserKeysGET", "vera"), True, ""),
    ("viewer", user_op("POST", "UserKeysPOST", "vera"), False, READ_ONLY),
    ("viewer", user_op("GET", "UserGET", "alice"), False, OWN_USER),
]


def case_id(case: tuple[str, Operation, bool, str]) -> str:
    who, operation, allowed, _ = case
    target = ",".join(f"{k}={v}" for k, v in sorted(operation.path_params.items()))
    verdict = "allow" if allowed else "deny"
    return f"{who}-{operation.method}-{operation.operation_id}-{target}-{verdict}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(case) for case in CASES])
def test_decide(case: tuple[str, Operation, bool, str]) -> None:
    who, operation, allowed, why = case
    principal = PRINCIPALS[who]
    decision = decide(principal, operation, RecordingLookup())
    expected_reason = f"{principal.role.value} '{principal.subject}' {why}" if why else ""
    assert decision == Decision(allowed, expected_reason)


def test_every_admin_only_operation_is_in_the_table_for_a_provider() -> None:
    refused = {
        op.operation_id for who, op, _, why in CASES if who == "provider" and why == NOT_ADMIN
    }
    assert refused == ADMIN_ONLY


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_an_app_learns_nothing_about_other_instances(method: str) -> None:
    existing = decide(APP, services_of(method, "app-alice"), RecordingLookup())
    missing = decide(APP, services_of(method, MISSING), RecordingLookup())
    assert not existing.allowed and not missing.allowed
    assert existing.reason == missing.reason == f"app-instance 'app-own' {OWN_APP}"
    assert "app-alice" not in existing.reason


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_provider_learns_nothing_about_instances_it_does_not_own(method: str) -> None:
    of_bob = decide(PROVIDER, services_of(method, "app-bob"), RecordingLookup())
    missing = decide(PROVIDER, services_of(method, MISSING), RecordingLookup())
    assert not of_bob.allowed and not missing.allowed
    assert of_bob.reason == missing.reason


@pytest.mark.parametrize("case", CASES, ids=[case_id(case) for case in CASES])
def test_owner_lookup_only_for_providers_on_an_instance(
    case: tuple[str, Operation, bool, str],
) -> None:
    who, operation, _, why = case
    lookup = RecordingLookup()
    decide(PRINCIPALS[who], operation, lookup)
    instance = operation.path_params.get("appInstanceId")
    # Providers need the owner; a refusal on an earlier ground (method, user) needs none.
    consulted = who == "provider" and instance is not None and why in ("", OWNED_APPS)
    assert lookup.calls == ([instance] if consulted else [])


@pytest.mark.parametrize("principal", [ADMIN, APP, VIEWER], ids=["admin", "app", "viewer"])
def test_owner_lookup_is_never_called_for_admins_apps_and_viewers(principal: Principal) -> None:
    lookup = RecordingLookup()
    for instance in [*OWNERS, MISSING]:
        for method in ("GET", "POST", "PUT", "DELETE"):
            decide(principal, services_of(method, instance), lookup)
    assert lookup.calls == []
