"""`mec-platform package ...` run as a real process: build, sign, trust and verify a package
with the real ssh-keygen, every refusal printed as one line (never a traceback), and the
onboarding client's requests and error paths against HTTP servers on loopback."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.net import free_port

IMAGE_ID = "e88f9521aed573e4c7d9056191e23a6197cd0d8176e6922c95616970ea7624c2"


def appd(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "appDId": "cam-1",
        "appName": "cam",
        "appProvider": "acme",
        "appSoftVersion": "1.0",
        "appDVersion": "1",
        "mecVersion": "3.1.1",
        "appDescription": "Counts cars.",
        "swImageDescriptor": [
            {
                "id": "img",
                "name": "cam",
                "version": "1.0",
                "containerFormat": "DOCKER",
                "swImage": "images/cam.tar",
            }
        ],
        "appExtCpd": [
            {
                "additionalServiceData": [
                    {"portData": [{"name": "http", "protocol": "TCP", "port": 8080}]}
                ]
            }
        ],
    }
    document.update(changes)
    return document


class Cli:
    """Runs `python -m mec_platform.cli package ...` in a scratch folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {**os.environ, "HOME": str(folder), "MEC_DATA_DIR": str(folder / "data")}
        self.env.pop("MEC_TOKEN", None)

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "mec_platform.cli", "package", *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in result.stderr, result.stderr
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    def refused(self, *args: str) -> str:
        """The one-line error of a failing command (exit status 1)."""
        result = self(*args, ok=False)
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("mec-platform: ") and result.stderr.count("\n") == 1
        return result.stderr.removeprefix("mec-platform: ").strip()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli-package-keys")
    made = {}
    for name in ("alice", "bob"):
        path = folder / name
        command = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test"]
        subprocess.run([*command, "-f", str(path)], check=True)
        made[name] = path
    return made


def fingerprint(key: Path) -> str:
    """The fingerprint as ssh-keygen itself prints it."""
    listing = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{key}.pub"], capture_output=True, text=True, check=True
    )
    return listing.stdout.split()[1]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    (folder / "artifacts").mkdir(parents=True)
    (folder / "artifacts" / "config.yaml").write_text("threshold: 3\n")
    (folder / "appd.json").write_text(json.dumps(appd()))
    (folder / "README.md").write_text("not packaged")
    return folder


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "cam.tar"
    with tarfile.open(path, "w") as archive:
        info = tarfile.TarInfo("manifest.json")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"[]"))
    return path


@pytest.fixture
def signed(cli: Cli, app: Path, image: Path, keys: dict[str, Path]) -> Path:
    cli("build", str(app), "-o", "cam.zip", "--image-archive", str(image))
    cli("sign", "cam.zip", "--key", str(keys["alice"]))
    return cli.folder / "cam.zip"


def test_build_sign_trust_and_verify(
    cli: Cli, app: Path, image: Path, keys: dict[str, Path]
) -> None:
    built = cli("build", str(app), "-o", "cam.zip", "--image-archive", str(image))
    assert built.stdout.strip() == "cam.zip"
    cli("build", str(app), "-o", "again.zip", "--image-archive", str(image))
    package = cli.folder / "cam.zip"
    assert package.read_bytes() == (cli.folder / "again.zip").read_bytes()
    with zipfile.ZipFile(package) as archive:
        assert archive.namelist() == [
            "MANIFEST.sha256",
            "appd.json",
            "artifacts/config.yaml",
            "images/cam.tar",
        ]
        filled = json.loads(archive.read("appd.json"))["swImageDescriptor"][0]
    assert filled["checksum"] == {
        "algorithm": "SHA-256",
        "hash": hashlib.sha256(image.read_bytes()).hexdigest(),
    }
    signer = fingerprint(keys["alice"])
    assert cli("sign", "cam.zip", "--key", str(keys["alice"])).stdout.strip() == signer
    trusted = "trusted_keys"
    assert (
        cli("trust", "add", f"{keys['alice']}.pub", "--trusted", trusted).stdout.strip() == signer
    )
    listing = cli("trust", "list", "--trusted", trusted).stdout
    assert listing == f"{signer}\tssh-ed25519\talice@test\n"
    lines = cli("verify", "cam.zip", "--trusted", trusted).stdout.splitlines()
    assert "appDId: cam-1" in lines
    assert "ports: http 8080/TCP" in lines
    assert f"image: images/cam.tar (DOCKER, SHA-256 {filled['checksum']['hash']})" in lines
    assert "artifacts: artifacts/config.yaml" in lines
    assert f"packageSha256: {hashlib.sha256(package.read_bytes()).hexdigest()}" in lines
    assert lines[-1] == f"signedBy: {signer} alice@test"


def test_the_platform_trusted_keys_file_is_the_default(
    cli: Cli, signed: Path, keys: dict[str, Path]
) -> None:
    cli("trust", "add", f"{keys['alice']}.pub")
    assert (cli.folder / "data" / "trusted-package-keys").is_file()
    assert cli("verify", str(signed)).stdout.endswith("alice@test\n")
    chosen = cli.folder / "etc" / "package-keys"
    cli.env["MEC_PACKAGE_TRUSTED_KEYS"] = str(chosen)
    assert "no key is trusted to sign packages here" in cli.refused("verify", str(signed))
    cli("trust", "add", f"{keys['alice']}.pub")
    assert cli("trust", "list").stdout.startswith(fingerprint(keys["alice"]))
    assert chosen.is_file()


def test_a_package_by_an_untrusted_signer_is_refused(
    cli: Cli, signed: Path, keys: dict[str, Path]
) -> None:
    cli("trust", "add", f"{keys['bob']}.pub", "--trusted", "trusted_keys")
    assert cli.refused("verify", str(signed), "--trusted", "trusted_keys") == (
        f"the package is signed by {fingerprint(keys['alice'])}, which is not a trusted "
        "package signing key"
    )
    detail = cli.refused("verify", str(signed), "--trusted", "nobody")
    assert "no key is trusted to sign packages here" in detail


def test_a_tampered_package_is_refused(cli: Cli, signed: Path, keys: dict[str, Path]) -> None:
    cli("trust", "add", f"{keys['alice']}.pub", "--trusted", "trusted_keys")
    with zipfile.ZipFile(signed) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["artifacts/config.yaml"] = b"threshold: 0\n"
    with zipfile.ZipFile(signed, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert cli.refused("verify", str(signed), "--trusted", "trusted_keys") == (
        "member 'artifacts/config.yaml': its SHA-256 differs from the one in MANIFEST.sha256 "
        "(the package was changed after it was built)"
    )


def test_an_unsigned_package_is_refused(cli: Cli, app: Path, image: Path) -> None:
    cli("build", str(app), "-o", "cam.zip", "--image-archive", str(image))
    assert cli.refused("verify", "cam.zip", "--trusted", "trusted_keys") == (
        "the package is not signed: MANIFEST.sha256.sig is missing"
    )


def test_trust_remove_and_its_errors(cli: Cli, keys: dict[str, Path]) -> None:
    signer = fingerprint(keys["alice"])
    cli("trust", "add", f"{keys['alice']}.pub", "--trusted", "trusted_keys")
    cli("trust", "remove", signer, "--trusted", "trusted_keys")
    assert cli("trust", "list", "--trusted", "trusted_keys").stdout == ""
    assert cli.refused("trust", "remove", signer, "--trusted", "trusted_keys") == (
        f"no trusted package signing key has the fingerprint {signer}"
    )
    assert cli.refused("trust", "add", str(keys["alice"]), "--trusted", "trusted_keys") == (
        f"{keys['alice']}: is a private key; give the public one (.pub)"
    )
    assert cli.refused("trust", "add", "nowhere.pub", "--trusted", "trusted_keys") == (
        "nowhere.pub: no public key file there"
    )


def test_a_local_image_is_packaged_by_its_id(cli: Cli, app: Path, keys: dict[str, Path]) -> None:
    document = appd()
    document["swImageDescriptor"][0]["swImage"] = "localhost/cam:1.0"
    (app / "appd.json").write_text(json.dumps(document))
    cli("build", str(app), "-o", "cam.zip", "--image-id", f"sha256:{IMAGE_ID}")
    cli("sign", "cam.zip", "--key", str(keys["alice"]))
    cli("trust", "add", f"{keys['alice']}.pub", "--trusted", "trusted_keys")
    lines = cli("verify", "cam.zip", "--trusted", "trusted_keys").stdout.splitlines()
    assert f"image: localhost/cam:1.0 (DOCKER, SHA-256 {IMAGE_ID})" in lines


def test_build_errors_are_one_clear_line(cli: Cli, app: Path, image: Path) -> None:
    assert cli.refused("build", str(cli.folder), "-o", "x.zip").endswith(
        "appd.json: no AppD (appd.json) in the application folder"
    )
    (app / "appd.json").write_text(json.dumps(appd(appName=None)))
    assert cli.refused("build", str(app), "-o", "x.zip", "--image-archive", str(image)) == (
        "appd.appName: is required"
    )
    (app / "appd.json").write_text(json.dumps(appd()))
    assert cli.refused("build", str(app), "-o", "x.zip") == (
        "appd.swImageDescriptor[0].swImage: 'images/cam.tar' is neither in the application "
        "folder nor given as the image archive"
    )
    assert cli.refused("build", str(app), "-o", "x.zip", "--image-archive", "missing.tar") == (
        "missing.tar: no image archive there"
    )
    both = cli(
        "build", str(app), "-o", "x.zip", "--image-archive", str(image), "--image-id", "1", ok=False
    )
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    assert not (cli.folder / "x.zip").exists()


def test_sign_errors_are_one_clear_line(cli: Cli, app: Path, image: Path) -> None:
    assert cli.refused("sign", "nothing.zip", "--key", "k") == "nothing.zip: no package file there"
    cli("build", str(app), "-o", "cam.zip", "--image-archive", str(image))
    assert cli.refused("sign", "cam.zip", "--key", "no-key").startswith("sshKey: no key file at")


# -- onboarding -------------------------------------------------------------------------------
class FakePlatform(ThreadingHTTPServer):
    """Answers the three onboarding requests the way the AppPkgMgmt API does and records
    them; `states` are the AppPkgInfo bodies returned by successive GETs."""

    def __init__(self, states: list[dict[str, Any]], create_status: int = 201) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.states = states
        self.create_status = create_status
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakePlatform

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.requests.append((self.command, self.path, dict(self.headers), body))

    def _answer(self, status: int, body: Any, kind: str = "application/json") -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self._record()
        if self.server.create_status != 201:
            problem = {"status": self.server.create_status, "detail": "token expired"}
            self._answer(self.server.create_status, problem, "application/problem+json")
            return
        self._answer(201, {"id": "pkg-1", "onboardingState": "CREATED"})

    def do_PUT(self) -> None:
        self._record()
        self._answer(202, None)

    def do_GET(self) -> None:
        self._record()
        states = self.server.states
        self._answer(200, states.pop(0) if len(states) > 1 else states[0])

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the recorded requests instead."""


@pytest.fixture
def platform_states() -> list[dict[str, Any]]:
    return [
        {"id": "pkg-1", "onboardingState": "UPLOADING"},
        {"id": "pkg-1", "onboardingState": "PROCESSING"},
        {
            "id": "pkg-1",
            "appDId": "cam-1",
            "onboardingState": "ONBOARDED",
            "operationalState": "ENABLED",
        },
    ]


@pytest.fixture
def fake(platform_states: list[dict[str, Any]]) -> Iterator[FakePlatform]:
    server = FakePlatform(platform_states)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_onboard_creates_uploads_and_waits(cli: Cli, signed: Path, fake: FakePlatform) -> None:
    cli.env["MEC_TOKEN"] = "token-from-env"
    result = cli("onboard", str(signed), "--url", f"{fake.url}/")
    assert result.stdout == "cam-1\tpkg-1\tENABLED\n"
    (create, upload, *polls) = fake.requests
    method, path, headers, body = create
    assert (method, path) == ("POST", "/app_pkgm/v1/onboarded_app_packages")
    assert headers["Authorization"] == "Bearer token-from-env"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "appPkgName": "cam",
        "appPkgVersion": "1.0",
        "appProvider": "acme",
        "checksum": {
            "algorithm": "SHA-256",
            "hash": hashlib.sha256(signed.read_bytes()).hexdigest(),
        },
        "appPkgPath": "file:cam.zip",
        "userDefinedData": {},
    }
    method, path, headers, body = upload
    assert (method, path) == ("PUT", "/app_pkgm/v1/onboarded_app_packages/pkg-1/package_content")
    assert headers["Content-Type"] == "application/zip"
    assert body == signed.read_bytes()
    assert [(m, p) for m, p, _, _ in polls] == [
        ("GET", "/app_pkgm/v1/onboarded_app_packages/pkg-1")
    ] * 3


def test_onboard_without_waiting_prints_the_package_id(
    cli: Cli, signed: Path, fake: FakePlatform
) -> None:
    result = cli("onboard", str(signed), "--url", fake.url, "--token", "given", "--no-wait")
    assert result.stdout == "pkg-1\n"
    assert [m for m, _, _, _ in fake.requests] == ["POST", "PUT"]
    assert fake.requests[0][2]["Authorization"] == "Bearer given"


@pytest.mark.parametrize(
    "platform_states",
    [
        [
            {
                "id": "pkg-1",
                "onboardingState": "CREATED",
                "onboardingFailureDetails": {
                    "status": 400,
                    "detail": "the package is signed by SHA256:x, which is not trusted",
                },
            }
        ]
    ],
)
def test_onboard_reports_why_the_platform_refused_the_package(
    cli: Cli, signed: Path, fake: FakePlatform
) -> None:
    assert cli.refused("onboard", str(signed), "--url", fake.url) == (
        "onboarding failed: the package is signed by SHA256:x, which is not trusted"
    )


def test_onboard_reports_an_http_error_with_its_problem_detail(cli: Cli, signed: Path) -> None:
    server = FakePlatform([], create_status=401)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        detail = cli.refused("onboard", str(signed), "--url", server.url)
    finally:
        server.shutdown()
        server.server_close()
    assert detail == f"POST {server.url}/app_pkgm/v1/onboarded_app_packages: 401 token expired"


def test_onboard_to_an_unreachable_platform_is_one_clear_line(cli: Cli, signed: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    detail = cli.refused("onboard", str(signed), "--url", url)
    assert detail.startswith(f"{url}/app_pkgm/v1/onboarded_app_packages: cannot reach the platform")


def test_onboard_refuses_what_is_not_a_package(cli: Cli) -> None:
    (cli.folder / "notes.zip").write_text("plain text")
    assert cli.refused("onboard", "notes.zip", "--url", "http://127.0.0.1:9").startswith(
        "the package is not a ZIP file"
    )
    assert cli.refused("onboard", "absent.zip", "--url", "http://127.0.0.1:9") == (
        "absent.zip: no package file there"
    )
