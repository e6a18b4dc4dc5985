"""End to end on real Podman: a signed package is onboarded, instantiated as a container that
registers through MEC 011, operated, terminated gracefully and deleted; bad packages and state
conflicts are refused; containers killed behind the platform's back are noticed; a restart of
the platform loses nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mec_platform.lifecycle.podman_service import PodmanService
from mec_platform.packages.builder import build_package, sign_package
from tests.support.lifecycle import (
    LCM,
    PKGM,
    SAMPLE_APP,
    LifecycleStack,
    Signer,
    lifecycle_stack,
    new_signer,
    sample_image_archive,
    sample_package,
    trust,
    wait_for,
)
from tests.support.podman import inspect_container, podman_cli, require_podman
from tests.support.processes import PlatformProcess, admin
from tests.support.receiver import CallbackReceiver


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lcm")


@pytest.fixture(scope="module")
def image_archive(folder: Path) -> Path:
    require_podman()
    return sample_image_archive(folder)


@pytest.fixture(scope="module")
def signer(folder: Path) -> Signer:
    return new_signer(folder / "keys")


@pytest.fixture(scope="module")
def stack(folder: Path, podman_service: PodmanService, signer: Signer) -> Iterator[LifecycleStack]:
    with lifecycle_stack(folder / "platform", podman_service.url, MEC_RESTART_LIMIT="1") as s:
        trust(s, signer)
        yield s


@pytest.fixture(scope="module")
def onboarded(stack: LifecycleStack, folder: Path, image_archive: Path, signer: Signer) -> str:
    """The appDId of the onboarded sample app."""
    info = stack.onboard(sample_package(folder, image_archive, signer))
    assert info["upload"].status_code == 202, info["upload"].text
    assert info["onboardingState"] == "ONBOARDED"
    assert info["operationalState"] == "ENABLED"
    return str(info["appDId"])


def _services(stack: LifecycleStack, name: str) -> list[dict[str, Any]]:
    answer = stack.http.get(f"{stack.root}/mec_service_mgmt/v1/services", params={"ser_name": name})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_onboard_instantiate_discover_operate_terminate_delete(
    stack: LifecycleStack, onboarded: str, receiver: CallbackReceiver
) -> None:
    subscribed = stack.http.post(
        f"{stack.root}{LCM}/subscriptions",
        json={
            "subscriptionType": "AppLcmOpOccStateChangeSubscription",
            "callbackUri": receiver.url(),
        },
    )
    assert subscribed.status_code == 201, subscribed.text
    appd = stack.http.get(f"{stack.root}{PKGM}/onboarded_app_packages/{onboarded}/appd")
    assert appd.status_code == 200 and appd.json()["appDId"] == onboarded

    app_id = stack.new_instance(onboarded, name=f"sample-{uuid.uuid4().hex[:6]}")
    assert stack.instance(app_id)["instantiationState"] == "NOT_INSTANTIATED"
    occ = stack.instantiate(app_id)
    assert occ["operationState"] == "COMPLETED", occ
    instance = stack.instance(app_id)
    assert instance["instantiatedAppState"]["operationalState"] == "STARTED"
    container = inspect_container(f"umec-{app_id}")
    assert container["State"]["Running"] is True  # type: ignore[index]
    env = dict(e.split("=", 1) for e in container["Config"]["Env"])  # type: ignore[index]
    assert env["MEC_APP_INSTANCE_ID"] == app_id
    assert env["MEC_OAUTH2_CLIENT_ID"] == app_id and env["MEC_OAUTH2_CLIENT_SECRET"]
    assert container["HostConfig"]["Memory"] == 64 * 2**20  # type: ignore[index]

    # The app registers itself through MEC 011 and offers its service.
    services = wait_for(lambda: _services(stack, "sample-echo"), 60, "sample-echo never appeared")
    assert any(s["serInstanceId"] for s in services)

    stopped = stack.wait_op(stack.start_operation(app_id, "operate", {"changeStateTo": "STOPPED"}))
    assert stopped["operationState"] == "COMPLETED", stopped
    assert inspect_container(f"umec-{app_id}")["State"]["Running"] is False  # type: ignore[index]
    started = stack.wait_op(stack.start_operation(app_id, "operate", {"changeStateTo": "STARTED"}))
    assert started["operationState"] == "COMPLETED", started
    assert inspect_container(f"umec-{app_id}")["State"]["Running"] is True  # type: ignore[index]

    wait_for(lambda: _services(stack, "sample-echo"), 60, "sample-echo did not come back")
    app_log = podman_cli("logs", f"umec-{app_id}", check=False)
    began = time.monotonic()
    terminated = stack.wait_op(
        stack.start_operation(
            app_id,
            "terminate",
            {"terminationType": "GRACEFUL", "gracefulTerminationTimeout": 30},
        )
    )
    assert terminated["operationState"] == "COMPLETED", terminated
    # The app confirmed termination: the platform did not wait for the 30 s timeout.
    assert time.monotonic() - began < 25, app_log.stdout + app_log.stderr
    assert podman_cli("container", "exists", f"umec-{app_id}", check=False).returncode == 1
    assert stack.instance(app_id)["instantiationState"] == "NOT_INSTANTIATED"

    deleted = stack.http.delete(f"{stack.root}{LCM}/app_instances/{app_id}")
    assert deleted.status_code == 204, deleted.text
    wanted = {"STARTING", "PROCESSING", "COMPLETED"}
    wait_for(
        lambda: wanted <= {n.get("operationState") for n in receiver.bodies()},
        30,
        "operation occurrence notifications missing",
    )


def test_unsigned_and_tampered_packages_leave_nothing(
    stack: LifecycleStack, folder: Path, image_archive: Path
) -> None:
    unsigned = stack.onboard(sample_package(folder, image_archive, None))
    assert unsigned["upload"].status_code == 400
    assert unsigned["upload"].headers["Content-Type"] == "application/problem+json"
    assert "not signed" in unsigned["upload"].json()["detail"]
    assert unsigned["onboardingState"] == "CREATED"
    assert "onboardingFailureDetails" in unsigned

    stranger = new_signer(folder / "stranger")
    untrusted = stack.onboard(sample_package(folder, image_archive, stranger))
    assert untrusted["upload"].status_code == 400, untrusted["upload"].text

    package = sample_package(folder, image_archive, new_signer(folder / "other"))
    tampered = folder / "tampered.zip"
    with zipfile.ZipFile(package) as original, zipfile.ZipFile(tampered, "w") as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "appd.json":
                document = json.loads(data)
                document["appName"] = "evil"
                data = json.dumps(document).encode()
            copy.writestr(item, data)
    answer = stack.onboard(tampered)
    assert answer["upload"].status_code == 400, answer["upload"].text
    store = Path(stack.env["MEC_DATA_DIR"]) / "packages"
    for info in (unsigned, untrusted, answer):
        assert not (store / info["id"]).exists()


def test_state_conflicts_are_409(stack: LifecycleStack, onboarded: str) -> None:
    app_id = stack.new_instance(onboarded)
    url = f"{stack.root}{LCM}/app_instances/{app_id}"
    operate = stack.http.post(f"{url}/operate", json={"changeStateTo": "STOPPED"})
    assert operate.status_code == 409, operate.text
    terminate = stack.http.post(f"{url}/terminate", json={"terminationType": "FORCEFUL"})
    assert terminate.status_code == 409
    first = stack.http.post(f"{url}/instantiate", json={"selectedMECHostInfo": [{"hostId": {}}]})
    assert first.status_code == 202, first.text
    second = stack.http.post(f"{url}/instantiate", json={"selectedMECHostInfo": [{"hostId": {}}]})
    assert second.status_code == 409
    assert second.headers["Content-Type"] == "application/problem+json"
    stack.wait_op(first.headers["Location"].rsplit("/", 1)[-1])
    assert stack.http.delete(url).status_code == 409  # INSTANTIATED
    in_use = stack.http.delete(f"{stack.root}{PKGM}/onboarded_app_packages/{onboarded}")
    assert in_use.status_code == 409
    forceful = stack.wait_op(
        stack.start_operation(app_id, "terminate", {"terminationType": "FORCEFUL"})
    )
    assert forceful["operationState"] == "COMPLETED"
    assert stack.http.delete(url).status_code == 204


def test_disabled_package_and_oversized_requests_are_refused(
    stack: LifecycleStack, folder: Path, image_archive: Path, signer: Signer
) -> None:
    package = sample_package(folder, image_archive, signer)
    # A second package of the same app: its appDId is taken.
    again = stack.onboard(package)
    assert again["upload"].status_code == 409, again["upload"].text
    info = stack.http.get(f"{stack.root}{PKGM}/onboarded_app_packages").json()
    app_d_id = next(p["appDId"] for p in info if p["onboardingState"] == "ONBOARDED")
    app_id = stack.new_instance(app_d_id)
    huge = stack.http.post(
        f"{stack.root}{LCM}/app_instances/{app_id}/instantiate",
        json={
            "selectedMECHostInfo": [{"hostId": {}}],
            "virtualComputeDescriptor": {
                "virtualComputeDescId": "too-much",
                "virtualCpu": {"numVirtualCpu": 4096},
                "virtualMemory": {"virtualMemSize": 1},
            },
        },
    )
    assert huge.status_code == 400, huge.text
    assert "CPU" in huge.json()["detail"]
    url = f"{stack.root}{PKGM}/onboarded_app_packages/{app_d_id}"
    disabled = stack.http.patch(
        url,
        json={"operationalState": "DISABLED"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert disabled.status_code == 200, disabled.text
    try:
        refused = stack.http.post(f"{stack.root}{LCM}/app_instances", json={"appDId": app_d_id})
        assert refused.status_code == 409, refused.text
        blocked = stack.http.post(
            f"{stack.root}{LCM}/app_instances/{app_id}/instantiate",
            json={"selectedMECHostInfo": [{"hostId": {}}]},
        )
        assert blocked.status_code == 409, blocked.text
    finally:
        stack.http.patch(
            url,
            json={"operationalState": "ENABLED"},
            headers={"Content-Type": "application/merge-patch+json"},
        )
    assert stack.http.delete(f"{stack.root}{LCM}/app_instances/{app_id}").status_code == 204


def test_killed_container_is_noticed_and_restarted(stack: LifecycleStack, onboarded: str) -> None:
    app_id = stack.new_instance(onboarded)
    assert stack.instantiate(app_id)["operationState"] == "COMPLETED"
    name = f"umec-{app_id}"
    podman_cli("kill", name)

    def restarted() -> bool:
        info = stack.instance(app_id)["instantiatedAppState"]
        detail = info.get("mcioInfo", [{}])[0].get("additionalInfo", "")
        return "restarted" in detail and inspect_container(name)["State"]["Running"] is True  # type: ignore[index]

    wait_for(restarted, 30, "the killed container was not restarted")
    # The restart budget (1) is spent: the next death is reported, not repaired.
    podman_cli("kill", name)
    wait_for(
        lambda: stack.instance(app_id)["instantiatedAppState"]["operationalState"] == "STOPPED",
        30,
        "the second death was not reported",
    )
    assert (
        stack.wait_op(stack.start_operation(app_id, "terminate", {"terminationType": "FORCEFUL"}))[
            "operationState"
        ]
        == "COMPLETED"
    )


def test_unknown_container_is_reported_not_killed(
    stack: LifecycleStack, busybox_image: str
) -> None:
    name = f"stranger-{uuid.uuid4().hex[:8]}"
    podman_cli(
        "run",
        "-d",
        "--name",
        name,
        "--label",
        "io.umec.managed-by=mec-platform",
        "--label",
        "io.umec.app-instance-id=nobody",
        busybox_image,
    )
    try:
        log = stack.server.log
        wait_for(lambda: name in log.read_text(), 30, "the unknown container was not reported")
        assert inspect_container(name)["State"]["Running"] is True  # type: ignore[index]
    finally:
        podman_cli("rm", "-f", "-t", "0", name, check=False)


def test_platform_restart_loses_nothing(stack: LifecycleStack, onboarded: str) -> None:
    app_id = stack.new_instance(onboarded)
    occ = stack.instantiate(app_id)
    assert occ["operationState"] == "COMPLETED"
    stack.server.stop()
    stack.server = PlatformProcess(stack.env, with_worker=True).start()
    stack.env["MEC_API_ROOT"] = stack.server.root
    after = stack.instance(app_id)
    assert after["instantiationState"] == "INSTANTIATED"
    assert after["instantiatedAppState"]["operationalState"] == "STARTED"
    assert stack.op_occ(occ["id"])["operationState"] == "COMPLETED"
    assert inspect_container(f"umec-{app_id}")["State"]["Running"] is True  # type: ignore[index]
    done = stack.wait_op(
        stack.start_operation(app_id, "terminate", {"terminationType": "FORCEFUL"})
    )
    assert done["operationState"] == "COMPLETED"


def test_cli_onboards_and_the_api_disables_and_deletes(
    stack: LifecycleStack, folder: Path, image_archive: Path, signer: Signer
) -> None:
    app_dir = folder / f"app-{uuid.uuid4().hex[:6]}"
    shutil.copytree(SAMPLE_APP, app_dir)
    appd = json.loads((app_dir / "appd.json").read_text())
    appd["appDId"] = str(uuid.uuid4())
    (app_dir / "appd.json").write_text(json.dumps(appd))
    package = folder / f"{app_dir.name}.zip"
    build_package(app_dir, package, image_archive=image_archive)
    sign_package(package, signer.private)
    token = stack.http.headers["Authorization"].split(" ", 1)[1]
    onboarded = admin(
        stack.env, "package", "onboard", str(package), "--url", stack.root, "--token", token
    )
    assert onboarded.returncode == 0, onboarded.stderr
    app_d_id, _pkg_id, state = onboarded.stdout.split()
    assert (app_d_id, state) == (appd["appDId"], "ENABLED")

    url = f"{stack.root}{PKGM}/onboarded_app_packages/{app_d_id}"
    content = stack.http.get(f"{url}/package_content")
    assert content.status_code == 200 and content.content == package.read_bytes()
    assert stack.http.delete(url).status_code == 409  # ENABLED
    patch = {"Content-Type": "application/merge-patch+json"}
    disabled = stack.http.patch(url, json={"operationalState": "DISABLED"}, headers=patch)
    assert disabled.status_code == 200, disabled.text
    assert stack.http.delete(url).status_code == 204
    assert stack.http.get(url).status_code == 404


def test_garbage_and_unknown_images_are_refused_at_onboarding(
    stack: LifecycleStack, folder: Path, signer: Signer
) -> None:
    created = stack.http.post(
        f"{stack.root}{PKGM}/onboarded_app_packages",
        json={
            "appPkgName": "garbage",
            "appPkgVersion": "1",
            "checksum": {"algorithm": "SHA-256", "hash": hashlib.sha256(b"not a zip").hexdigest()},
            "appPkgPath": "file:garbage.zip",
        },
    )
    assert created.status_code == 201, created.text
    url = f"{stack.root}{PKGM}/onboarded_app_packages/{created.json()['id']}"
    garbage = stack.http.put(
        f"{url}/package_content", content=b"not a zip", headers={"Content-Type": "application/zip"}
    )
    assert garbage.status_code == 400, garbage.text
    assert garbage.headers["Content-Type"] == "application/problem+json"
    assert stack.http.get(url).json()["onboardingState"] == "CREATED"

    # A package naming a local image this host does not hold.
    app_dir = folder / f"ghost-{uuid.uuid4().hex[:6]}"
    shutil.copytree(SAMPLE_APP, app_dir)
    appd = json.loads((app_dir / "appd.json").read_text())
    appd["appDId"] = str(uuid.uuid4())
    appd["swImageDescriptor"][0]["swImage"] = "localhost/no-such-image:1"
    (app_dir / "appd.json").write_text(json.dumps(appd))
    package = folder / f"{app_dir.name}.zip"
    build_package(app_dir, package, image_id="ab" * 32)
    sign_package(package, signer.private)
    ghost = stack.onboard(package)
    assert ghost["upload"].status_code == 400, ghost["upload"].text
    assert "no-such-image" in ghost["upload"].json()["detail"]
    assert ghost["onboardingState"] == "CREATED"


def test_instances_survive_a_restart_of_the_podman_service(
    stack: LifecycleStack, onboarded: str, podman_service: PodmanService
) -> None:
    app_id = stack.new_instance(onboarded)
    assert stack.instantiate(app_id)["operationState"] == "COMPLETED"
    podman_service.stop()
    podman_service.start()
    assert inspect_container(f"umec-{app_id}")["State"]["Running"] is True  # type: ignore[index]
    instance = stack.instance(app_id)
    assert instance["instantiatedAppState"]["operationalState"] == "STARTED"
    # The platform talks to the restarted service as before.
    done = stack.wait_op(
        stack.start_operation(app_id, "terminate", {"terminationType": "FORCEFUL"})
    )
    assert done["operationState"] == "COMPLETED", done
