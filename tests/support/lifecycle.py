"""Test support for the app lifecycle: the sample app packaged and signed, a platform with
the lifecycle switched on (on the test's Podman service), and polling helpers."""

from __future__ import annotations

import hashlib
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mec_platform.packages.builder import build_package, sign_package
from mec_platform.packages.signing import add_trusted_key
from tests.support.podman import podman_cli, podman_env, remove_containers, remove_network
from tests.support.processes import PlatformProcess, admin_token, platform_env
from tests.support.sshd import keygen

REPO = Path(__file__).resolve().parents[2]
SAMPLE_APP = REPO / "examples" / "sample-app"
SAMPLE_IMAGE = "localhost/umec-sample-app:1.0"
PKGM = "/app_pkgm/v1"
LCM = "/app_lcm/v1"
HOST_INFO = {"selectedMECHostInfo": [{"hostName": "umec-test", "hostId": {"id": "umec-test"}}]}


def sample_image_archive(folder: Path) -> Path:
    """The sample app image as a docker-archive (built once per machine, saved per call)."""
    archive = folder / "sample-image.tar"
    subprocess.run(
        [str(SAMPLE_APP / "build-image.sh"), "--save", str(archive)],
        env=podman_env(),
        check=True,
        capture_output=True,
    )
    return archive


@dataclass(frozen=True)
class Signer:
    """A package signing key pair."""

    private: Path

    @property
    def public(self) -> str:
        return self.private.with_suffix(".pub").read_text()


def new_signer(folder: Path) -> Signer:
    """A fresh ed25519 key pair."""
    folder.mkdir(parents=True, exist_ok=True)
    return Signer(keygen(folder / f"signer-{uuid.uuid4().hex[:8]}"))


def sample_package(folder: Path, image_archive: Path, signer: Signer | None) -> Path:
    """The sample app as a package (signed unless `signer` is None)."""
    out = folder / f"sample-{uuid.uuid4().hex[:8]}.zip"
    build_package(SAMPLE_APP, out, image_archive=image_archive)
    if signer is not None:
        sign_package(out, signer.private)
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class LifecycleStack:
    """A platform (server, worker, lifecycle process) using the test's Podman service."""

    env: dict[str, str]
    server: PlatformProcess
    http: httpx.Client
    network: str

    @property
    def root(self) -> str:
        return self.server.root

    def onboard(self, package: Path) -> dict[str, Any]:
        """POST + PUT a package; the AppPkgInfo after the upload (any outcome)."""
        created = self.http.post(
            f"{self.root}{PKGM}/onboarded_app_packages",
            json={
                "appPkgName": package.stem,
                "appPkgVersion": "1.0",
                "checksum": {"algorithm": "SHA-256", "hash": sha256(package)},
                "appPkgPath": f"file:{package.name}",
                "userDefinedData": {},
            },
        )
        assert created.status_code == 201, created.text
        info = created.json()
        upload = self.http.put(
            f"{self.root}{PKGM}/onboarded_app_packages/{info['id']}/package_content",
            content=package.read_bytes(),
            headers={"Content-Type": "application/zip"},
        )
        current = self.http.get(f"{self.root}{PKGM}/onboarded_app_packages/{info['id']}").json()
        return {"upload": upload, **current}

    def new_instance(self, app_d_id: str, name: str | None = None) -> str:
        body: dict[str, Any] = {"appDId": app_d_id}
        if name:
            body["appInstanceName"] = name
        created = self.http.post(f"{self.root}{LCM}/app_instances", json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    def start_operation(self, app_instance_id: str, task: str, body: dict[str, Any]) -> str:
        """POST instantiate/operate/terminate; the occurrence id from Location."""
        answer = self.http.post(
            f"{self.root}{LCM}/app_instances/{app_instance_id}/{task}", json=body
        )
        assert answer.status_code == 202, answer.text
        return answer.headers["Location"].rsplit("/", 1)[-1]

    def op_occ(self, op_occ_id: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.root}{LCM}/app_lcm_op_occs/{op_occ_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def wait_op(self, op_occ_id: str, timeout: float = 60) -> dict[str, Any]:
        """The occurrence once it is COMPLETED, FAILED or FAILED_TEMP."""
        return wait_for(
            lambda: (
                (occ := self.op_occ(op_occ_id))["operationState"]
                in {"COMPLETED", "FAILED", "FAILED_TEMP"}
                and occ
            ),
            timeout,
            f"operation {op_occ_id} did not finish",
        )

    def instance(self, app_instance_id: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.root}{LCM}/app_instances/{app_instance_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def instantiate(self, app_instance_id: str, **extra: Any) -> dict[str, Any]:
        occ = self.start_operation(app_instance_id, "instantiate", {**HOST_INFO, **extra})
        return self.wait_op(occ)


def wait_for(check: Callable[[], Any], timeout: float, message: str) -> Any:
    """Poll `check` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.1)


@contextmanager
def lifecycle_stack(folder: Path, podman_url: str, **settings: str) -> Iterator[LifecycleStack]:
    """Server + worker + lifecycle process on a network of the test's own; cleaned up after."""
    network = f"mec-test-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    keys = folder / "trusted-package-keys"
    env = platform_env(
        folder,
        None,
        MEC_LIFECYCLE="true",
        MEC_PODMAN_URL=podman_url,
        MEC_APP_NETWORK=network,
        MEC_PACKAGE_TRUSTED_KEYS=str(keys),
        MEC_RECONCILE_INTERVAL="0.5",
        **settings,
    )
    server = PlatformProcess(env, with_worker=True)
    stack: LifecycleStack | None = None
    try:
        server.start()
        env["MEC_API_ROOT"] = server.root
        token = admin_token(env)
        client = httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"})
        stack = LifecycleStack(env, server, client, network)
        yield stack
    finally:
        if stack is not None:
            stack.http.close()
            server = stack.server  # a test may have restarted it
        server.stop()
        labelled = podman_cli(
            "ps",
            "-a",
            "-q",
            "--filter",
            "label=io.umec.managed-by=mec-platform",
            "--filter",
            f"network={network}",
            check=False,
        ).stdout.split()
        remove_containers(*labelled)
        remove_network(network)


def trust(stack: LifecycleStack, signer: Signer) -> None:
    """Make the platform trust packages signed by `signer`."""
    add_trusted_key(Path(stack.env["MEC_PACKAGE_TRUSTED_KEYS"]), signer.public)
