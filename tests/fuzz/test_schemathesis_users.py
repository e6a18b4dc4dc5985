"""Fuzz the platform's Users API and its OAuth 2.0 token endpoint with schemathesis.

One real server (gunicorn, SQLite) with users holding real SSH keys and app instances with client
credentials. Every Users operation gets a platform admin's bearer token and the spec's examples,
coverage cases and `MAX_EXAMPLES` seeded random cases, with path names steered to live users,
keys and instances and valid bodies given real public keys; then link chains run. The token
endpoint, challenges and key set are called without a token, as clients do, client ids and
secrets steered to real ones, with the server's rate limits raised so that the limiter does not
answer in place of the endpoint. Every answer must be documented and none may be a 5xx.

The fuzzing must not remove its own admin. Its token would outlive that (tokens are self-contained
until they expire), but the run does not lean on it: removals and role changes name the token's
user only once it is the last admin, whom the platform keeps (409). The seeded provider and viewer
and their keys are not removed, so key operations keep something to work on.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import Case, Response
from schemathesis.core.parameters import ParameterLocation

from tests.fuzz.support import (
    CHECKS,
    STATEFUL_CHECKS,
    BearerHeader,
    CallLog,
    add_links,
    choose,
    config,
    fuzz_admin,
    link,
    run_link_chains,
    valid_part,
    validate,
)
from tests.support.processes import (
    REPO,
    PlatformProcess,
    add_app_with_credentials,
    admin,
    platform_env,
)
from tests.support.secrets import remember

pytestmark = pytest.mark.e2e

USERS_SPEC = REPO / "specs" / "platform_users.yaml"
OAUTH2_SPEC = REPO / "specs" / "platform_oauth2.yaml"
# Fewer random cases than the MEC 011 runs: every change to a user rewrites maintenance access.
MAX_EXAMPLES = 25
FUZZ_ADMIN = "fuzz-admin"
ADMIN = "platform-admin"
SEEDED_USERS = {"fuzz-admin-2": ADMIN, "fuzz-provider": "app-provider", "fuzz-viewer": "viewer"}
KEPT = ("fuzz-provider", "fuzz-viewer")
KEY_TYPES = ("ed25519", "ed25519", "ecdsa", "ed25519", "ecdsa", "ed25519")
# Raised far above any rate this run reaches.
UNLIMITED = "100000/60"


@dataclass
class LiveUsers:
    """Users with their key ids, app instances with their current secret, public keys to use."""

    users: dict[str, list[str]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    apps: dict[str, str] = field(default_factory=dict, repr=False)  # their secrets
    key_lines: list[str] = field(default_factory=list)
    log: CallLog = field(default_factory=CallLog)

    def steer(self, case: Case[Any], path: bool = True) -> None:
        """Point valid path names at live users, keys and instances; give bodies real keys.

        `path=False` leaves the path alone (along a link, it names what the link says).
        """
        salt = repr((case.body, case.query))
        if path and valid_part(case, ParameterLocation.PATH) and case.path_parameters:
            self._steer_path(case, salt)
        body = case.body if valid_part(case, ParameterLocation.BODY) else None
        if isinstance(body, dict) and choose((body, salt), ["acceptable"]):
            self._acceptable(case, dict(body))

    def _steer_path(self, case: Case[Any], salt: str) -> None:
        params = dict(case.path_parameters)
        name = params.get("userName")
        if name is not None and name not in self.users:
            name = params["userName"] = choose((name, salt), self._targets(case)) or name
        key_id = params.get("keyId")
        keys = self.users.get(name or "", [])
        if key_id is not None and key_id not in keys:
            params["keyId"] = choose((key_id, salt), keys) or key_id
        app = params.get("appInstanceId")
        if app is not None and app not in self.apps:
            params["appInstanceId"] = choose((app, salt), list(self.apps)) or app
        if params != case.path_parameters:
            case.path_parameters = params

    def _targets(self, case: Case[Any]) -> list[str]:
        """The users a case may name: removals spare the kept users (and their keys), changes
        of a user spare the fuzzing's admin unless it is the last one."""
        method = case.method.upper()
        if method in ("GET", "POST"):
            return list(self.users)
        kept = KEPT if method == "DELETE" else ()
        last = [name for name, role in self.roles.items() if role == ADMIN] == [FUZZ_ADMIN]
        spared = FUZZ_ADMIN if case.path == "/users/{userName}" and not last else None
        return [name for name in self.users if name not in kept and name != spared]

    def _acceptable(self, case: Case[Any], body: dict[str, Any]) -> None:
        if case.path == "/users" and isinstance(body.get("sshKeys"), list):
            body["sshKeys"] = [_pick(line, self.key_lines) for line in body["sshKeys"][:3]]
        elif case.path.endswith("/keys"):
            body["publicKey"] = _pick(body.get("publicKey"), self.key_lines)
        elif case.path == "/token" and body.get("grant_type") == "client_credentials":
            self._credentials(body)
        elif case.path == "/token":
            # A real name: the SSH grant then fails on the challenge or signature, not the user.
            body["username"] = _pick(body.get("username"), sorted(self.users))
        elif case.path == "/challenges":
            body["userName"] = _pick(body.get("userName"), sorted(self.users))
        if body != case.body:
            case.body = body

    def _credentials(self, body: dict[str, Any]) -> None:
        app = body["client_id"] = _pick(body.get("client_id"), sorted(self.apps))
        # Now and then the generated secret stays: a wrong one, 401.
        if choose(body.get("client_secret"), ["real"]):
            body["client_secret"] = self.apps[app]
        if choose(body.get("scope"), ["drop"]):
            body.pop("scope", None)

    def record(self, case: Case[Any], response: Response) -> None:
        """Count the call; track users, keys and secrets it created, changed or removed."""
        self.log.count(case, response)
        method, status = case.method.upper(), response.status_code
        params = case.path_parameters or {}
        if status in (200, 201) and case.path in ("/users", "/users/{userName}"):
            if method in ("POST", "PATCH"):
                self.track(response.json())
        elif status == 201 and case.path.endswith("/keys"):
            self.users.get(params["userName"], []).append(response.json()["keyId"])
        elif status == 204 and method == "DELETE" and case.path == "/users/{userName}":
            self.users.pop(params["userName"], None)
            self.roles.pop(params["userName"], None)
        elif status == 204 and method == "DELETE" and case.path.endswith("/{keyId}"):
            keys = self.users.get(params["userName"], [])
            if params["keyId"] in keys:
                keys.remove(params["keyId"])
        elif status == 201 and case.path.endswith("/credentials"):
            self.apps[params["appInstanceId"]] = remember(response.json()["clientSecret"])
        elif status == 200 and case.path == "/token":
            remember(response.json()["access_token"])

    def track(self, user: dict[str, Any]) -> None:
        """Keep a user as the server answered it (role and key ids)."""
        self.users[user["userName"]] = [key["keyId"] for key in user["sshKeys"]]
        self.roles[user["userName"]] = user["role"]


def _pick(generated: object, options: list[str]) -> str:
    """One of `options`, always (`choose` keeps one value in four as generated)."""
    return choose((generated, "pick"), options) or options[0]


def _public_keys(folder: Path) -> list[str]:
    """Fresh public key lines from the real ssh-keygen."""
    lines = []
    for n, kind in enumerate(KEY_TYPES):
        path = folder / f"key-{n}"
        command = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"fuzz-{n}", "-f", str(path)]
        subprocess.run(command, check=True, capture_output=True)
        lines.append(path.with_suffix(".pub").read_text().strip())
    return lines


def _seed(env: dict[str, str], folder: Path, live: LiveUsers) -> None:
    """Users of each role (two admins), each with a key of its own, and two app instances."""
    live.key_lines = _public_keys(folder)
    for n, (name, role) in enumerate(SEEDED_USERS.items()):
        added = admin(env, "user", "add", name, "--role", role, "--key", live.key_lines[n])
        assert added.returncode == 0, added.stderr
    for n in range(2):
        app, secret = add_app_with_credentials(env, f"fuzz-credentials-{n}")
        live.apps[app] = secret


@dataclass
class Platform:
    """The running server, what lives on it, and the fuzz admin's `Authorization` header."""

    server: PlatformProcess
    live: LiveUsers
    auth: BearerHeader

    @property
    def users_api(self) -> str:
        return f"{self.server.root}/users/v1"

    @property
    def oauth2_api(self) -> str:
        return f"{self.server.root}/oauth2"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The real server with raised rate limits, seeded users and app instances."""
    folder = tmp_path_factory.mktemp("fuzz-users")
    env = platform_env(folder, MEC_TOKEN_RATE=UNLIMITED, MEC_AUTH_FAILURE_RATE=UNLIMITED)
    server = PlatformProcess(env).start()
    try:
        live = LiveUsers()
        auth = fuzz_admin(env)
        _seed(env, folder, live)
        with httpx.Client(base_url=f"{server.root}/users/v1", headers=auth) as client:
            for user in client.get("/users").raise_for_status().json():
                live.track(user)
        yield Platform(server, live, auth)
        print(f"\nschemathesis traffic against {server.root}: {live.log.summary()}")
    finally:
        server.stop()


# Loaded at import time, as in `test_schemathesis`: one collected test per operation.
users_schema = schemathesis.openapi.from_path(
    USERS_SPEC, config=config(CHECKS, max_examples=MAX_EXAMPLES)
)
oauth2_schema = schemathesis.openapi.from_path(
    OAUTH2_SPEC, config=config(CHECKS, max_examples=MAX_EXAMPLES)
)


def test_without_a_token_the_users_api_answers_401(platform: Platform) -> None:
    case = users_schema["/me"]["GET"].Case()
    response = case.call(base_url=platform.users_api)
    validate(case, response)
    assert response.status_code == 401
    assert response.headers["www-authenticate"][0].startswith("Bearer")


@users_schema.parametrize()
def test_every_users_operation_answers_as_documented(case: Case[Any], platform: Platform) -> None:
    platform.live.steer(case)
    response = case.call(base_url=platform.users_api, headers=platform.auth)
    platform.live.record(case, response)
    validate(case, response)


@oauth2_schema.parametrize()
def test_every_token_operation_answers_as_documented_without_a_token(
    case: Case[Any], platform: Platform
) -> None:
    platform.live.steer(case)
    response = case.call(base_url=platform.oauth2_api)
    platform.live.record(case, response)
    validate(case, response)


def _with_links(raw: dict[str, Any]) -> dict[str, Any]:
    """Links on the test side: a new user is read, changed, given keys and removed."""
    created = {"userName": "$response.body#/userName"}
    same = {"userName": "$request.path.userName"}
    key = {**same, "keyId": "$response.body#/keyId"}
    same_key = {**same, "keyId": "$request.path.keyId"}
    links = {
        ("/users", "post", "201"): {
            "Read": link("UserGET", created),
            "ChangeRole": link("UserPATCH", created),
            "AddKey": link("UserKeysPOST", created),
            "Remove": link("UserDELETE", created),
        },
        ("/users/{userName}", "delete", "204"): {"Read": link("UserGET", same)},
        ("/users/{userName}/keys", "post", "201"): {
            "Read": link("UserKeyGET", key),
            "Revoke": link("UserKeyDELETE", key),
        },
        ("/users/{userName}/keys/{keyId}", "delete", "204"): {"Read": link("UserKeyGET", same_key)},
    }
    return add_links(raw, links)


def test_stateful_link_chains(platform: Platform) -> None:
    raw = httpx.get(f"{platform.users_api}/openapi.json", timeout=10).json()
    settings = config(
        STATEFUL_CHECKS, base_url=platform.users_api, stateful=True, headers=platform.auth
    )
    served = schemathesis.openapi.from_dict(_with_links(raw), config=settings)

    def before_call(case: Case[Any], linked: bool) -> None:
        # A chain's first call names live users (never the fuzzing's admin for a change).
        platform.live.steer(case, path=not linked)

    scenarios = run_link_chains(served, before_call, platform.live.record)
    print(f"\nstateful scenarios run: {scenarios}")


def test_the_last_admin_keeps_the_role(platform: Platform) -> None:
    """After the fuzzing: other admins can go, the fuzz admin (now the last one) cannot."""
    with httpx.Client(base_url=platform.users_api, headers=platform.auth, timeout=10) as client:
        for user in client.get("/users").raise_for_status().json():
            if user["role"] == ADMIN and user["userName"] != FUZZ_ADMIN:
                assert client.delete(f"/users/{user['userName']}").status_code == 204
        assert client.delete(f"/users/{FUZZ_ADMIN}").status_code == 409
        demoted = client.patch(f"/users/{FUZZ_ADMIN}", json={"role": "viewer"})
        assert demoted.status_code == 409
        assert client.get("/me").json()["role"] == ADMIN
