"""Authentication and authorisation over real HTTP: client credentials, registrations by app
providers, SSH-key login through the real CLI and by hand, refused tokens and their audit lines,
signing key rotation, the failure limit, security headers and the Users API as an admin."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mec_platform.auth.model import login_message, origin_of
from tests.e2e.conftest import Stack, run_stack
from tests.support.net import wait_until
from tests.support.processes import PlatformProcess, add_app_with_credentials, admin, platform_env
from tests.support.secrets import remember

pytestmark = pytest.mark.e2e

SSH_GRANT = "urn:mec-platform:params:oauth:grant-type:ssh-signature"
ADMIN = "platform-admin e2e-admin"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def check_headers(response: httpx.Response) -> None:
    """Every answer of a plain-HTTP platform: no sniffing, and no HSTS without TLS."""
    assert response.headers.get("x-content-type-options") == "nosniff", response.url
    assert "strict-transport-security" not in response.headers, response.url


def client(token: str | None = None) -> httpx.Client:
    """A client of its own (own connection), checking the headers of every response."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(timeout=10, headers=headers, event_hooks={"response": [check_headers]})


def started(database_folder: Path, **settings: str) -> Iterator[Stack]:
    for running in run_stack(
        f"sqlite:///{database_folder / 'mec.db'}", database_folder, **settings
    ):
        running.http.event_hooks["response"].append(check_headers)
        yield running


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The module's platform; its failure limit is high, as tests here fail on purpose a lot."""
    yield from started(tmp_path_factory.mktemp("auth"), MEC_AUTH_FAILURE_RATE="1000/60")


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A platform with three failures a minute and a single platform admin."""
    yield from started(tmp_path_factory.mktemp("limited"), MEC_AUTH_FAILURE_RATE="3/60")


def token_request(
    stack: Stack, form: dict[str, str], auth: tuple[str | bytes, str | bytes] | None = None
) -> httpx.Response:
    with client() as anonymous:
        if auth is None:
            return anonymous.post(f"{stack.server.root}/oauth2/token", data=form)
        return anonymous.post(f"{stack.server.root}/oauth2/token", data=form, auth=auth)


def grant(client_id: str, secret: str, **extra: str) -> dict[str, str]:
    """A client credentials token request (credentials in the body)."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return form | extra


def client_token(stack: Stack, client_id: str, secret: str, **extra: str) -> str:
    response = token_request(stack, grant(client_id, secret, **extra))
    assert response.status_code == 200, response.text
    return remember(response.json()["access_token"])


def assert_problem(response: httpx.Response, status: int, error: str | None = None) -> str:
    """The response is ProblemDetails with this status (and OAuth2 error); returns its detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    if error is not None:
        assert problem["error"] == error
    return str(problem["detail"])


def service(name: str) -> dict[str, Any]:
    return {
        "serName": name,
        "version": "1.0",
        "state": "ACTIVE",
        "serializer": "JSON",
        "transportId": "rest-http",
    }


def audit_lines(stack: Stack, needle: str = "") -> list[str]:
    """The lines of the stack's audit file (MEC_AUDIT_LOG's default) holding `needle`."""
    path = Path(stack.env["MEC_DATA_DIR"]) / "audit.log"
    return [line for line in path.read_text().splitlines() if needle in line]


def audit_records(stack: Stack) -> list[dict[str, Any]]:
    return [json.loads(line) for line in audit_lines(stack)]


def keygen(path: Path, kind: str = "ed25519", *options: str) -> Path:
    command = ["ssh-keygen", "-q", "-t", kind, *options, "-N", "", "-C", unique("key"), "-f"]
    subprocess.run([*command, str(path)], check=True)
    return path


def sign(key: Path, message: bytes, folder: Path) -> str:
    """`ssh-keygen -Y sign` of the exact bytes of `message` in the login namespace."""
    file = folder / unique("challenge")
    file.write_bytes(message)
    command = ["ssh-keygen", "-Y", "sign", "-n", "mec-platform-login", "-f", str(key), str(file)]
    subprocess.run(command, check=True, capture_output=True)
    return remember(file.with_name(file.name + ".sig").read_text())


def challenge(stack: Stack, user: str) -> str:
    with client() as anonymous:
        response = anonymous.post(f"{stack.server.root}/oauth2/challenges", json={"userName": user})
    assert response.status_code == 201, response.text
    assert response.json()["namespace"] == "mec-platform-login"
    return str(response.json()["challenge"])


def ssh_grant(stack: Stack, user: str, nonce: str, signature: str) -> httpx.Response:
    form = {"grant_type": SSH_GRANT, "username": user, "challenge": nonce, "signature": signature}
    return token_request(stack, form)


# -- client credentials -----------------------------------------------------------------------


def test_client_credentials_in_the_body_and_with_basic(platform: Stack) -> None:
    app, secret = add_app_with_credentials(platform.env, unique("cc"))
    other = platform.add_app(unique("other"))
    basic = token_request(platform, {"grant_type": "client_credentials"}, auth=(app, secret))
    for response in (token_request(platform, grant(app, secret)), basic):
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        remember(body["access_token"])
        assert body["token_type"] == "Bearer"
        assert 0 < body["expires_in"] <= 7200
        assert "mec011:service-mgmt" in body["scope"].split()
        with client(body["access_token"]) as own:
            url = f"{platform.api}/applications/{app}/services"
            assert own.get(url).status_code == 200
            assert own.post(url, json=service(unique("svc"))).status_code == 201
            assert own.get(f"{platform.app_api}/applications/{app}/dns_rules").status_code == 200
            assert_problem(own.get(f"{platform.api}/applications/{other}/services"), 403)
            assert_problem(own.get(f"{platform.app_api}/registrations/{other}"), 403)


def test_an_app_instance_reads_its_identity(platform: Stack) -> None:
    app, secret = add_app_with_credentials(platform.env, unique("me"))
    with client(client_token(platform, app, secret)) as own:
        me = own.get(f"{platform.server.root}/users/v1/me")
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "app-instance"
    assert me.json()["appInstanceId"] == app


def test_wrong_secret_and_unknown_client_look_the_same(platform: Stack) -> None:
    app, _secret = add_app_with_credentials(platform.env, unique("wrong"))
    details = set()
    for client_id in (app, str(uuid.uuid4())):
        response = token_request(platform, grant(client_id, "not-the-secret-of-this-client"))
        details.add(assert_problem(response, 401, "invalid_client"))
    assert len(details) == 1


def test_an_unsupported_grant_type_is_named(platform: Stack) -> None:
    response = token_request(platform, {"grant_type": "password", "username": "x", "password": "y"})
    assert_problem(response, 400, "unsupported_grant_type")


def test_scopes_beyond_the_role_or_narrowed(platform: Stack) -> None:
    app, secret = add_app_with_credentials(platform.env, unique("scoped"))
    response = token_request(
        platform, grant(app, secret, scope="mec011:app-support platform:users")
    )
    assert "platform:users" in assert_problem(response, 400, "invalid_scope")
    narrow = client_token(platform, app, secret, scope="mec011:service-mgmt:read")
    with client(narrow) as reader:
        url = f"{platform.api}/applications/{app}/services"
        assert reader.get(url).status_code == 200
        assert "mec011:service-mgmt" in assert_problem(reader.post(url, json=service("w")), 403)


# -- registrations by app providers -----------------------------------------------------------


def provider_token(stack: Stack, name: str) -> str:
    created = admin(stack.env, "user", "add", name, "--role", "app-provider")
    assert created.returncode == 0, created.stderr
    minted = admin(stack.env, "token", name)
    assert minted.returncode == 0, minted.stderr
    return remember(minted.stdout.strip())


def test_a_provider_registers_an_instance_and_replaces_its_secret(platform: Stack) -> None:
    owner, stranger = unique("prov"), unique("prov")
    with client(provider_token(platform, owner)) as provider:
        created = provider.post(f"{platform.app_api}/registrations", json={"appName": "p"})
        assert created.status_code == 201, created.text
        assert created.headers["cache-control"] == "no-store"
        app = created.headers["mec-client-id"]
        assert app == created.json()["appInstanceId"]
        secret = remember(created.headers["mec-client-secret"])
        with client(client_token(platform, app, secret)) as instance:
            assert instance.get(f"{platform.app_api}/registrations/{app}").status_code == 200
        services = f"{platform.api}/applications/{app}/services"
        assert provider.post(services, json=service(unique("svc"))).status_code == 201
        renewal = f"{platform.server.root}/users/v1/app_instances/{app}/credentials"
        with client(provider_token(platform, stranger)) as other:
            assert_problem(other.get(f"{platform.app_api}/registrations/{app}"), 403)
            assert_problem(other.post(services, json=service(unique("svc"))), 403)
            assert_problem(other.post(renewal), 403)
        renewed = provider.post(renewal)
    assert renewed.status_code == 201, renewed.text
    assert renewed.headers["cache-control"] == "no-store"
    assert renewed.json()["clientId"] == app
    new_secret = remember(renewed.json()["clientSecret"])
    assert_problem(token_request(platform, grant(app, secret)), 401, "invalid_client")
    assert client_token(platform, app, new_secret)


# -- people: SSH-key login --------------------------------------------------------------------


def test_login_through_the_cli(platform: Stack, tmp_path: Path) -> None:
    name, key = unique("alice"), keygen(tmp_path / "key")
    added = admin(
        platform.env, "user", "add", name, "--role", "platform-admin", "--key", f"{key}.pub"
    )
    assert added.returncode == 0, added.stderr
    login = admin(platform.env, "login", name, "--key", str(key), "--url", platform.server.root)
    assert login.returncode == 0, login.stderr
    with client(remember(login.stdout.strip())) as alice:
        me = alice.get(f"{platform.server.root}/users/v1/me")
    assert me.status_code == 200, me.text
    assert (me.json()["subject"], me.json()["role"]) == (name, "platform-admin")


def test_challenges_are_single_use_and_signatures_checked(platform: Stack, tmp_path: Path) -> None:
    name, key, stranger = unique("alice"), keygen(tmp_path / "key"), keygen(tmp_path / "other")
    body = {"userName": name, "role": "platform-admin", "sshKeys": [Path(f"{key}.pub").read_text()]}
    assert platform.http.post(f"{platform.server.root}/users/v1/users", json=body).is_success
    origin = origin_of(platform.server.root)
    nonce = challenge(platform, name)
    signature = sign(key, login_message(origin, name, nonce), tmp_path)
    first = ssh_grant(platform, name, nonce, signature)
    assert first.status_code == 200, first.text
    remember(first.json()["access_token"])
    assert "used already" in assert_problem(
        ssh_grant(platform, name, nonce, signature), 400, "invalid_grant"
    )
    nonce = challenge(platform, name)
    foreign = sign(stranger, login_message(origin, name, nonce), tmp_path)
    assert "not registered" in assert_problem(
        ssh_grant(platform, name, nonce, foreign), 400, "invalid_grant"
    )
    # This platform's nonce, signed bare or for another platform that relayed it: refused.
    for relay in (None, "https://elsewhere.test:443"):
        nonce = challenge(platform, name)
        message = nonce.encode() if relay is None else login_message(relay, name, nonce)
        relayed = ssh_grant(platform, name, nonce, sign(key, message, tmp_path))
        assert origin in assert_problem(relayed, 400, "invalid_grant")
    malformed = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAA\n-----END SSH SIGNATURE-----\n"
    nonce = challenge(platform, name)
    assert_problem(ssh_grant(platform, name, nonce, malformed), 400, "invalid_grant")


def test_weak_or_malformed_keys_are_refused(platform: Stack, tmp_path: Path) -> None:
    name = unique("keys")
    users = f"{platform.server.root}/users/v1/users"
    assert platform.http.post(users, json={"userName": name, "role": "viewer"}).is_success
    rsa = Path(f"{keygen(tmp_path / 'rsa', 'rsa', '-b', '2048')}.pub").read_text()
    for line in (rsa, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAA broken", "not a key at all"):
        response = platform.http.post(f"{users}/{name}/keys", json={"publicKey": line})
        assert "sshKey" in assert_problem(response, 400)
    assert platform.http.get(f"{users}/{name}/keys").json() == []


# -- refused tokens ---------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": "mec-platform",
        "aud": "mec-platform",
        "sub": "e2e-admin",
        "role": "platform-admin",
        "scope": "mec011:service-mgmt:read",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    return base | changes


def install_key(stack: Stack) -> tuple[str, Ed25519PrivateKey]:
    """The install's first signing key, read from its private directory."""
    path = sorted((Path(stack.env["MEC_DATA_DIR"]) / "keys").glob("k*.pem"))[0]
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return path.stem, key


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["sub"] = "someone-else"
    return f"{header}.{b64(json.dumps(body).encode())}.{signature}"


def forged_tokens(stack: Stack) -> dict[str, tuple[str, str]]:
    """Case -> (Authorization header, a word its refusal's detail must hold)."""
    kid, key = install_key(stack)
    typ = {"kid": kid, "typ": "at+jwt"}
    none_header = b64(json.dumps({"alg": "none", **typ}).encode())
    foreign = Ed25519PrivateKey.generate()
    hmac_key = uuid.uuid4().hex * 2
    cases = {
        "tampered": (tampered(stack.token), "signature"),
        "audience": (
            jwt.encode(claims(aud="someone-else"), key, algorithm="EdDSA", headers=typ),
            "audience",
        ),
        "none": (f"{none_header}.{b64(json.dumps(claims()).encode())}.", "none"),
        "foreign": (
            jwt.encode(claims(), foreign, "EdDSA", {**typ, "kid": "k000000000001-0badc0de"}),
            "unknown key",
        ),
        "hs256": (jwt.encode(claims(), hmac_key, algorithm="HS256", headers=typ), "HS256"),
        "garbage": ("this-is-no-token-at-all-" + uuid.uuid4().hex, "malformed"),
    }
    headers = {case: (f"Bearer {remember(token)}", word) for case, (token, word) in cases.items()}
    basic = remember(base64.b64encode(b"e2e-admin:no-passwords-here").decode())
    return headers | {"basic": (f"Basic {basic}", "Bearer")}


def test_bad_tokens_are_refused_and_audited(platform: Stack) -> None:
    minted = admin(platform.env, "token", "e2e-admin", "--ttl", "1")
    assert minted.returncode == 0, minted.stderr
    expired_at = time.time() + 1
    cases = forged_tokens(platform)
    cases["expired"] = (f"Bearer {remember(minted.stdout.strip())}", "expired")
    time.sleep(max(0.0, expired_at + 1 - time.time()))
    details = {}
    with client() as anonymous:
        for case, (header, word) in cases.items():
            path = f"/mec_service_mgmt/v1/services/{unique(case)}"
            response = anonymous.get(platform.server.root + path, headers={"Authorization": header})
            details[case] = assert_problem(response, 401)
            assert word in details[case], (case, details[case])
            assert response.headers["www-authenticate"].startswith("Bearer")
            (line,) = audit_lines(platform, path)
            record = json.loads(line)
            assert (record["outcome"], record["reason"]) == ("refused 401", details[case])
            assert header.split(" ", 1)[1] not in line
    assert len(set(details.values())) == len(cases), details


# -- signing keys -----------------------------------------------------------------------------


def test_rotation_keeps_old_tokens_and_signs_with_the_new_key(platform: Stack) -> None:
    app, secret = add_app_with_credentials(platform.env, unique("rotate"))
    before = client_token(platform, app, secret)
    rotated = admin(platform.env, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = rotated.stdout.strip()
    assert jwt.get_unverified_header(before)["kid"] != new_kid
    after = remember(admin(platform.env, "token", "e2e-admin").stdout.strip())
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    for token in (before, after, before, after):
        with client(token) as fresh:  # new connections, so each worker gets its turn
            assert fresh.get(f"{platform.api}/transports").status_code == 200

    def server_signs_with_new_key() -> bool:
        token = client_token(platform, app, secret)
        return bool(jwt.get_unverified_header(token)["kid"] == new_kid)

    # Each server process looks for new keys every few seconds (auth.jwt_tokens.JwtSigner).
    wait_until(server_signs_with_new_key, timeout=12, interval=0.5)


def test_jwks_lists_old_and_new_keys_after_rotation(platform: Stack) -> None:
    rotated = admin(platform.env, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    for _ in range(4):
        with client() as fresh:
            keys = fresh.get(f"{platform.server.root}/oauth2/jwks").json()["keys"]
        kids = [key["kid"] for key in keys]
        assert kids[0] == rotated.stdout.strip() and len(kids) >= 2, kids


# -- failure limit and headers ----------------------------------------------------------------


def test_too_many_failures_block_the_address(limited: Stack) -> None:
    app, secret = add_app_with_credentials(limited.env, unique("limited"))
    form = {"grant_type": "client_credentials", "client_id": app}
    # One connection, so one server process: each keeps its own window (appsupport.limits).
    with client() as anonymous:
        url = f"{limited.server.root}/oauth2/token"
        for _ in range(3):
            wrong = anonymous.post(url, data={**form, "client_secret": "wrong-secret"})
            assert_problem(wrong, 401, "invalid_client")
        blocked = anonymous.post(url, data={**form, "client_secret": secret})
    assert "too many failed attempts" in assert_problem(blocked, 429)
    assert int(blocked.headers["retry-after"]) > 0
    assert "access_token" not in blocked.text
    assert audit_lines(limited, f'"client {app}","action":"token","outcome":"throttled"')


def test_every_answer_has_the_security_headers(platform: Stack) -> None:
    root = platform.server.root
    with client() as anonymous:
        answers = [
            anonymous.get(f"{root}/{path}")
            for path in ("", "healthz", "readyz", "metrics", "oauth2/jwks", "nowhere")
        ]
        answers.append(anonymous.get(f"{platform.api}/transports"))
        answers.append(anonymous.request("TRACE", f"{platform.api}/transports"))
        answers.append(anonymous.post(f"{root}/oauth2/token", data={"grant_type": "x"}))
    answers.append(platform.http.get(f"{platform.api}/transports"))
    answers.append(platform.http.get(f"{root}/users/v1/me"))
    assert {answer.status_code for answer in answers} >= {200, 400, 401, 404, 405}
    for answer in answers:
        check_headers(answer)


# -- the Users API as a platform admin --------------------------------------------------------


def test_users_api_as_an_admin(platform: Stack, tmp_path: Path) -> None:
    users, name = f"{platform.server.root}/users/v1/users", unique("bob")
    public = Path(f"{keygen(tmp_path / 'bob')}.pub").read_text().strip()
    created = platform.http.post(
        users, json={"userName": name, "role": "viewer", "sshKeys": [public]}
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{users}/{name}"
    (key,) = created.json()["sshKeys"]
    listed = subprocess.run(
        ["ssh-keygen", "-l", "-f", "-"], input=public, capture_output=True, text=True
    )
    assert key["fingerprint"] == listed.stdout.split()[1]
    changed = platform.http.patch(f"{users}/{name}", json={"role": "app-provider"})
    assert changed.status_code == 200 and changed.json()["role"] == "app-provider"
    assert {user["userName"]: user["role"] for user in platform.http.get(users).json()}[name] == (
        "app-provider"
    )
    key_url = f"{users}/{name}/keys/{key['keyId']}"
    assert platform.http.get(key_url).json()["publicKey"] == public
    assert platform.http.delete(key_url).status_code == 204
    assert_problem(platform.http.get(key_url), 404)
    assert platform.http.delete(f"{users}/{name}").status_code == 204
    assert_problem(platform.http.get(f"{users}/{name}"), 404)
    done = {
        (record["action"], record["outcome"])
        for record in audit_records(platform)
        if record["who"] == ADMIN and name in record["action"] + record.get("target", "")
    }
    assert done >= {
        ("PATCH /users/v1/users/" + name, "done 200"),
        (f"DELETE /users/v1/users/{name}/keys/{key['keyId']}", "done 204"),
        (f"DELETE /users/v1/users/{name}", "done 204"),
    }
    posted = [
        record
        for record in platform.http.get(f"{platform.server.root}/users/v1/audit?limit=500").json()
        if record["action"] == "POST /users/v1/users" and record["who"] == ADMIN
    ]
    assert posted and all(record["outcome"] == "done 201" for record in posted)


def test_the_last_admin_stays(limited: Stack) -> None:
    me = f"{limited.server.root}/users/v1/users/e2e-admin"
    listed = limited.http.get(f"{limited.server.root}/users/v1/users").json()
    assert [user["userName"] for user in listed if user["role"] == "platform-admin"] == [
        "e2e-admin"
    ]
    assert "last platform admin" in assert_problem(
        limited.http.patch(me, json={"role": "viewer"}), 409
    )
    assert "last platform admin" in assert_problem(limited.http.delete(me), 409)
    assert limited.http.get(me).json()["role"] == "platform-admin"


def test_a_refused_admin_action_is_audited(limited: Stack) -> None:
    me = f"{limited.server.root}/users/v1/users/e2e-admin"
    assert_problem(limited.http.delete(me), 409)
    outcomes = [
        record["outcome"]
        for record in audit_records(limited)
        if record["action"] == "DELETE /users/v1/users/e2e-admin" and record["who"] == ADMIN
    ]
    assert outcomes and outcomes[-1] == "failed 409", outcomes


def test_without_authentication_nobody_can_be_given_an_identity(tmp_path: Path) -> None:
    """MEC_AUTH=false (benchmarks, closed labs) serves the MEC APIs openly, but neither the
    users API nor the token endpoint: nobody gets users or maintenance keys over the network."""
    server = PlatformProcess(platform_env(tmp_path, MEC_AUTH="false")).start()
    try:
        with httpx.Client(timeout=10) as anonymous:
            assert anonymous.get(f"{server.api}/services").status_code == 200
            user = {"userName": "intruder", "role": "platform-admin"}
            assert_problem(anonymous.post(f"{server.root}/users/v1/users", json=user), 404)
            assert_problem(anonymous.get(f"{server.root}/users/v1/me"), 404)
            form = {"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}
            assert_problem(anonymous.post(f"{server.root}/oauth2/token", data=form), 404)
            assert "/users/v1" not in anonymous.get(f"{server.root}/").text
    finally:
        server.stop()
