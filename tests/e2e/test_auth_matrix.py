"""The role-by-operation matrix over real HTTP: every operation of every served API, read from
our specs, called by every kind of identity (admin, app providers, app instances, a viewer,
anonymous) against gunicorn, each outcome checked against an oracle written here on its own
(not derived from the policy module), plus the shape of refusals and the audit trail they leave.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import yaml

from mec_platform.http.app import APIS
from mec_platform.lifecycle.podman_service import PodmanService
from tests.e2e.conftest import Stack, run_stack
from tests.support.podman import remove_network
from tests.support.processes import REPO, add_app_with_credentials, admin, admin_token
from tests.support.secrets import remember, remembered

pytestmark = pytest.mark.e2e

SPECS = REPO / "specs"
APP_SUPPORT_BASE = "/mec_app_support/v2"
USERS_BASE = "/users/v1"
# MEC 010-2: people manage packages and instances; app instances' tokens have no scope there.
LIFECYCLE_BASES = frozenset({"/app_pkgm/v1", "/app_lcm/v1"})
# MEC 033: app instances' tokens may read the IoT registry, not change it.
IOT_BASE = "/iots/v1"
# Sensors: apps read sensors, subscribe and manage their own MQTT access; forgetting a
# sensor stream is for platform admins.
SENSORS_BASE = "/sensors/v1"
METHODS = ("get", "put", "post", "patch", "delete")
# Another person's record: only platform admins may act on it.
TARGET = "matrix-target"
# Ids naming nothing: serviceId, subscriptionId, dnsRuleId, keyId, ...
UNKNOWN = uuid.uuid4().hex
# The oracle's own list of the operations reserved to platform admins.
ADMIN_ONLY = frozenset(
    {"UsersGET", "UsersPOST", "UserDELETE", "UserPATCH", "AuditGET", "SensorDELETE"}
)

ANONYMOUS, VIEWER, APP_B, PROV_B = "anonymous", "viewer", "app-b", "prov-b"
APP_A, PROV_A, ADMIN = "app-a", "prov-a", "admin"
# Admins run last: their calls succeed and may change what the others would see.
ROLES = (ANONYMOUS, VIEWER, APP_B, PROV_B, APP_A, PROV_A, ADMIN)
PEOPLE = {VIEWER: "matrix-viewer", PROV_A: "prov-a", PROV_B: "prov-b", ADMIN: "e2e-admin"}
KINDS = {VIEWER: "viewer", PROV_A: "app-provider", PROV_B: "app-provider", ADMIN: "platform-admin"}


@dataclass(frozen=True)
class Op:
    """One operation of one served API, as its spec declares it."""

    base: str
    method: str
    path: str
    operation_id: str
    has_body: bool

    @property
    def key(self) -> str:
        """A name unique across APIs (operationIds repeat between MEC 011 APIs)."""
        return f"{self.base.strip('/').split('/')[0]}.{self.operation_id}"

    @property
    def params(self) -> frozenset[str]:
        """The path parameters' names."""
        return frozenset(re.findall(r"{(\w+)}", self.path))

    def url(self, **values: str) -> str:
        """The path with `appInstanceId` and `userName` filled in, every other id unknown."""
        path = self.path
        for name in self.params:
            path = path.replace(f"{{{name}}}", values.get(name, UNKNOWN))
        return self.base + path


def secured_operations() -> list[Op]:
    """Every operation needing a token of every API the platform serves (one app support base)."""
    found = []
    for _title, base, spec_file, _modules in APIS:
        if spec_file.startswith("mec011_app_support") and base != APP_SUPPORT_BASE:
            continue
        spec = yaml.safe_load((SPECS / spec_file).read_text())
        for path, item in spec["paths"].items():
            for method in METHODS:
                operation = item.get(method)
                if operation is None or operation.get("security", spec.get("security")) == []:
                    continue
                has_body = "requestBody" in operation
                op = Op(base, method.upper(), path, operation["operationId"], has_body)
                found.append(op)
    return found


def expected_refusal(role: str, op: Op) -> int | None:
    """401 or 403 the role must get for this operation, None when it must be let through."""
    if role == ANONYMOUS:
        return 401
    if role == ADMIN:
        return None
    other_user = "userName" in op.params  # always TARGET, never the caller
    instance_a = "appInstanceId" in op.params
    if role == VIEWER:
        refused = op.method != "GET" or op.operation_id in ADMIN_ONLY or other_user
    elif role in (APP_A, APP_B):
        # Of the users API, an app instance reaches only its own identity.
        users_api = op.base == USERS_BASE and op.operation_id != "MeGET"
        lifecycle = op.base in LIFECYCLE_BASES
        iot_write = op.base == IOT_BASE and op.method != "GET"
        admin_only = op.operation_id in ADMIN_ONLY
        refused = (
            users_api or lifecycle or iot_write or admin_only or (instance_a and role == APP_B)
        )
    else:
        admin_only = op.operation_id in ADMIN_ONLY or other_user
        refused = admin_only or (instance_a and role == PROV_B)
    return 403 if refused else None


OPERATIONS = secured_operations()


def matrix() -> list[Any]:
    """One pytest param per (role, operation)."""
    return [pytest.param(role, op, id=f"{role}:{op.key}") for role in ROLES for op in OPERATIONS]


@dataclass
class World:
    """The module's platform, its two app instances and an HTTP client per identity."""

    stack: Stack
    instance_a: str
    instance_b: str
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def call(self, role: str, op: Op, instance: str | None = None) -> httpx.Response:
        """`op` as `role` would send it: no query, `{}` as JSON body if it takes one."""
        url = op.url(appInstanceId=instance or self.instance_a, userName=TARGET)
        body: dict[str, Any] | None = {} if op.has_body else None
        response = self.clients[role].request(op.method, url, json=body)
        remember_issued(response)
        return response


def remember_issued(response: httpx.Response) -> None:
    """Client secrets a successful call shows (new credentials) join the leak check."""
    if "MEC-Client-Secret" in response.headers:
        remember(response.headers["MEC-Client-Secret"])
    if response.status_code == 201 and "json" in response.headers.get("content-type", ""):
        body: Any = response.json()
        if isinstance(body, dict) and isinstance(body.get("clientSecret"), str):
            remember(body["clientSecret"])


def app_token(root: str, instance: str, secret: str) -> str:
    """An access token from the client credentials grant of /oauth2/token."""
    form = {"grant_type": "client_credentials", "client_id": instance, "client_secret": secret}
    response = httpx.post(f"{root}/oauth2/token", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return remember(response.json()["access_token"])


def client(root: str, token: str | None) -> httpx.Client:
    """An HTTP client on the platform, with a bearer token unless anonymous."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=root, headers=headers, timeout=10)


def people_tokens(env: dict[str, str]) -> dict[str, str]:
    """Tokens of the viewer and both providers (created with their roles); TARGET is added."""
    tokens = {role: admin_token(env, PEOPLE[role], KINDS[role]) for role in PEOPLE if role != ADMIN}
    added = admin(env, "user", "add", TARGET, "--role", "viewer")
    assert added.returncode == 0, added.stderr
    return tokens


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, podman_service: PodmanService
) -> Iterator[World]:
    """One platform on SQLite with every identity of the matrix (and the app lifecycle APIs,
    on the test run's Podman service)."""
    folder = tmp_path_factory.mktemp("auth-matrix")
    lifecycle = {
        "MEC_LIFECYCLE": "true",
        "MEC_PODMAN_URL": podman_service.url,
        "MEC_APP_NETWORK": f"mec-matrix-{uuid.uuid4().hex[:8]}",
    }
    database = f"sqlite:///{folder / 'mec.db'}"
    try:
        with contextmanager(run_stack)(database, folder, **lifecycle) as stack:
            found = World(stack, "", "")
            try:
                populate(found)
                yield found
            finally:
                for each in found.clients.values():
                    each.close()
    finally:
        remove_network(lifecycle["MEC_APP_NETWORK"])


def populate(world: World) -> None:
    """Create the people and both app instances, and a client for each identity."""
    env, root = world.stack.env, world.stack.server.root
    tokens = {**people_tokens(env), ADMIN: world.stack.token, ANONYMOUS: None}
    world.instance_a, secret_a = add_app_with_credentials(env, "app-a", "--owner", "prov-a")
    world.instance_b, secret_b = add_app_with_credentials(env, "app-b")
    tokens[APP_A] = app_token(root, world.instance_a, secret_a)
    tokens[APP_B] = app_token(root, world.instance_b, secret_b)
    world.clients = {role: client(root, tokens[role]) for role in ROLES}


def assert_problem(response: httpx.Response) -> str:
    """A 401/403 is ProblemDetails (a 401 with a Bearer challenge); returns its detail."""
    status = response.status_code
    assert response.headers["content-type"].startswith("application/problem+json"), status
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), response.headers
    return str(body["detail"])


def assert_outcome(response: httpx.Response, refusal: int | None) -> None:
    """The status the oracle expects, never a server error, refusals well formed."""
    status = response.status_code
    assert status < 500, response.text
    if refusal is None:
        assert status not in (401, 403), f"refused {status}: {response.text}"
    else:
        assert status == refusal, f"expected {refusal}, got {status}: {response.text}"
    if status in (401, 403):
        assert_problem(response)


@pytest.mark.parametrize(("role", "op"), matrix())
def test_every_role_gets_the_expected_outcome_of_every_operation(
    world: World, role: str, op: Op
) -> None:
    """Each role is refused, or let through, exactly as the role table says."""
    assert_outcome(world.call(role, op), expected_refusal(role, op))


@pytest.mark.parametrize("role", [VIEWER, PROV_A, PROV_B, ADMIN])
def test_every_person_reads_its_own_record(world: World, role: str) -> None:
    """`/users/{own name}` is open to every person, whatever the role."""
    response = world.clients[role].get(f"{USERS_BASE}/users/{PEOPLE[role]}")
    assert response.status_code == 200, response.text
    record = response.json()
    assert (record["userName"], record["role"]) == (PEOPLE[role], KINDS[role]), record


INSTANCE_OPS = [op for op in OPERATIONS if "appInstanceId" in op.params]


@pytest.mark.parametrize("role", [APP_B, PROV_B])
@pytest.mark.parametrize("op", INSTANCE_OPS, ids=[op.key for op in INSTANCE_OPS])
def test_refusal_on_another_instance_says_nothing_of_its_existence(
    world: World, role: str, op: Op
) -> None:
    """The 403 for instance A reads exactly as the 403 for an instance that does not exist."""
    existing = world.call(role, op)
    missing = world.call(role, op, instance=uuid.uuid4().hex)
    assert (existing.status_code, missing.status_code) == (403, 403), missing.text
    assert assert_problem(existing) == assert_problem(missing)


def test_audit_log_records_refusals_and_holds_no_secret(world: World) -> None:
    """Refused 401s and 403s are in the audit log; no token or secret ever is."""
    registration = f"{APP_SUPPORT_BASE}/registrations/{world.instance_a}"
    assert world.clients[ANONYMOUS].get(registration).status_code == 401
    assert world.clients[APP_B].get(registration).status_code == 403
    listed = admin(world.stack.env, "audit", "--limit", "500")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    outcomes = {json.loads(line)["outcome"] for line in lines}
    assert {"refused 401", "refused 403"} <= outcomes, outcomes
    secrets = remembered()
    assert secrets, "the matrix remembered no token"
    # Name only where a secret leaked: the assertion message must not repeat it.
    leaked = [json.loads(line)["action"] for line in lines if any(s in line for s in secrets)]
    assert not leaked, leaked


def test_matrix_covers_every_secured_operation_of_every_api() -> None:
    """The walk found operations in each API: a spec file that moved would not go unnoticed."""
    bases = {op.base for op in OPERATIONS}
    expected = {
        "/mec_service_mgmt/v1",
        APP_SUPPORT_BASE,
        USERS_BASE,
        *LIFECYCLE_BASES,
        IOT_BASE,
        SENSORS_BASE,
    }
    assert bases == expected, bases
    assert len(OPERATIONS) == len({op.key for op in OPERATIONS}) > 40
