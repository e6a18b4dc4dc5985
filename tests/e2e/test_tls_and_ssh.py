"""The platform served over HTTPS with a certificate of its own, and maintenance SSH access
end to end: keys managed through the Users API open (and close) a real sshd's door."""

from __future__ import annotations

import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack, run_stack
from tests.support.net import free_port, wait_until
from tests.support.processes import add_app, admin, admin_token, platform_env, spawn, stop_group
from tests.support.secrets import remember
from tests.support.sshd import ACCOUNT, keygen, require_sshd, running_sshd, ssh

pytestmark = pytest.mark.e2e


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- HTTPS ------------------------------------------------------------------------------------


@dataclass
class TlsServer:
    """`mec-platform serve --tls-cert --tls-key` and what a client needs to trust it."""

    env: dict[str, str]
    root: str
    cert: Path
    token: str

    def trust(self) -> ssl.SSLContext:
        """A client TLS context trusting exactly our certificate."""
        return trusting(self.cert)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (as subjectAltName) and its key, made by openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert),
        "-addext", "subjectAltName=IP:127.0.0.1",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


def trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def wait_https(url: str, cert: Path, proc: subprocess.Popen[bytes], log: Path) -> None:
    def answered() -> bool:
        assert proc.poll() is None, log.read_text()
        try:
            return httpx.get(url, verify=trusting(cert), timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answered, timeout=30, interval=0.1)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    """One HTTPS server process (one worker, no notification worker) on SQLite."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = self_signed(folder)
    env, port = platform_env(folder), free_port()
    # processes.PlatformProcess waits on http://; HTTPS needs the command built here.
    command = [
        sys.executable, "-m", "mec_platform.cli", "serve", "--port", str(port),
        "--workers", "1", "--no-worker", "--tls-cert", str(cert), "--tls-key", str(key),
    ]  # fmt: skip
    log = folder / f"serve-{port}.log"
    proc = spawn(command, env, log)
    try:
        root = f"https://127.0.0.1:{port}"
        wait_https(f"{root}/readyz", cert, proc, log)
        yield TlsServer(env, root, cert, admin_token(env))
    finally:
        stop_group(proc)


def test_https_with_hsts_and_https_links(tls: TlsServer) -> None:
    headers = {"Authorization": f"Bearer {tls.token}"}
    with httpx.Client(verify=tls.trust(), timeout=10, headers=headers) as https:
        health = https.get(f"{tls.root}/healthz")
        assert health.status_code == 200
        app = add_app(tls.env, unique("tls"))
        services = f"{tls.root}/mec_service_mgmt/v1/applications/{app}/services"
        assert https.get(services).status_code == 200
        body = {
            "serName": unique("secure"),
            "version": "1.0",
            "state": "ACTIVE",
            "serializer": "JSON",
            "transportId": "rest-http",
        }
        created = https.post(services, json=body)
        refused = https.get(services, headers={"Authorization": "Bearer not-a-token"})
    assert created.status_code == 201, created.text
    assert created.headers["location"].startswith(f"{tls.root}/mec_service_mgmt/v1/")
    assert created.json()["_links"]["self"]["href"] == created.headers["location"]
    assert refused.status_code == 401
    assert refused.json()["instance"].startswith("https://")
    for response in (health, created, refused):
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert response.headers["x-content-type-options"] == "nosniff"


def test_plain_http_is_not_answered(tls: TlsServer) -> None:
    plain = tls.root.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{plain}/healthz", timeout=5)
    with pytest.raises(httpx.ConnectError):  # an unknown certificate is not trusted
        httpx.get(f"{tls.root}/healthz", timeout=5)


def test_login_over_https(tls: TlsServer, tmp_path: Path) -> None:
    name, key = unique("tls-admin"), keygen(tmp_path / "key")
    added = admin(tls.env, "user", "add", name, "--role", "viewer", "--key", f"{key}.pub")
    assert added.returncode == 0, added.stderr
    arguments = ["login", name, "--key", str(key), "--url", tls.root, "--cacert", str(tls.cert)]
    login = admin(tls.env, *arguments)
    assert login.returncode == 0, login.stderr
    token = remember(login.stdout.strip())
    me = httpx.get(
        f"{tls.root}/users/v1/me", verify=tls.trust(), headers={"Authorization": f"Bearer {token}"}
    )
    assert (me.status_code, me.json()["subject"], me.json()["role"]) == (200, name, "viewer")


# -- maintenance SSH --------------------------------------------------------------------------


@dataclass
class Maintenance:
    """A platform rendering maintenance access for root, and a private sshd reading it."""

    stack: Stack
    port: int

    @property
    def users(self) -> str:
        return f"{self.stack.server.root}/users/v1/users"


@pytest.fixture(scope="module")
def maintenance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Maintenance]:
    """The platform first (its admin's creation renders the drop-in), then sshd including it."""
    require_sshd()
    folder = tmp_path_factory.mktemp("maint")
    ssh_dir = folder / "ssh"
    settings = {"MEC_SSH_DIR": str(ssh_dir), "MEC_MAINTENANCE_ACCOUNTS": ACCOUNT}
    for stack in run_stack(f"sqlite:///{folder / 'mec.db'}", folder, **settings):
        dropin = ssh_dir / "sshd_config.d" / "mec-platform.conf"
        assert dropin.is_file()
        with running_sshd(folder, dropin) as sshd:
            yield Maintenance(stack, sshd.port)


def add_user(maintenance: Maintenance, role: str, key: Path) -> dict[str, Any]:
    public = Path(f"{key}.pub").read_text().strip()
    body = {"userName": unique(role.split("-")[-1]), "role": role, "sshKeys": [public]}
    created = maintenance.stack.http.post(maintenance.users, json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


def assert_refused(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 255, result.stdout
    assert "Permission denied (publickey)" in result.stderr
    assert result.stdout == ""


def test_an_admins_key_opens_maintenance_until_deleted(
    maintenance: Maintenance, tmp_path: Path
) -> None:
    key = keygen(tmp_path / "admin")
    user = add_user(maintenance, "platform-admin", key)
    allowed = ssh(maintenance.port, key=key)
    assert (allowed.returncode, allowed.stdout) == (0, "ok\n"), allowed.stderr
    (registered,) = user["sshKeys"]
    url = f"{maintenance.users}/{user['userName']}/keys/{registered['keyId']}"
    assert maintenance.stack.http.delete(url).status_code == 204
    assert_refused(ssh(maintenance.port, key=key))


def test_a_demoted_admin_loses_maintenance_access(maintenance: Maintenance, tmp_path: Path) -> None:
    key = keygen(tmp_path / "demoted")
    user = add_user(maintenance, "platform-admin", key)
    assert ssh(maintenance.port, key=key).stdout == "ok\n"
    url = f"{maintenance.users}/{user['userName']}"
    assert maintenance.stack.http.patch(url, json={"role": "viewer"}).status_code == 200
    assert_refused(ssh(maintenance.port, key=key))


def test_a_non_admins_key_never_gets_in(maintenance: Maintenance, tmp_path: Path) -> None:
    for role in ("app-provider", "viewer"):
        key = keygen(tmp_path / role)
        add_user(maintenance, role, key)
        assert_refused(ssh(maintenance.port, key=key))
