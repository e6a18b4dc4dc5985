"""Package signatures with the real `ssh-keygen`: packages built and signed by our tools verify
against the trusted key that signed them and against no other; a signature of the wrong
namespace, of another manifest or by an unaccepted key is refused; and the trusted keys file
is edited safely (atomically, under a lock, comments kept)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mec_platform.auth.ssh_keys import parse_public_key
from mec_platform.errors import InvalidInput, NotFound, PlatformError
from mec_platform.packages.archive import (
    InvalidPackage,
    PackageContents,
    PackageLimits,
    read_package,
)
from mec_platform.packages.builder import build_package, sign_package
from mec_platform.packages.signing import (
    SIGNATURE_NAMESPACE,
    UntrustedPackage,
    add_trusted_key,
    read_trusted_keys,
    remove_trusted_key,
    verify_package,
)


def keygen(folder: Path, name: str, kind: str = "ed25519", bits: str | None = None) -> Path:
    path = folder / name
    command = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{name}@test", "-f", str(path)]
    subprocess.run([*command, *(["-b", bits] if bits else [])], check=True)
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("package-keys")
    return {
        "alice": keygen(folder, "alice"),
        "bob": keygen(folder, "bob"),
        "ecdsa": keygen(folder, "ecdsa", "ecdsa", "256"),
        "weak": keygen(folder, "weak", "rsa", "2048"),
    }


def public(keys: dict[str, Path], name: str) -> str:
    return keys[name].with_suffix(".pub").read_text()


def make_app(folder: Path, note: bytes = b"hello") -> tuple[Path, Path]:
    """An application folder and an image tar next to it."""
    app = folder / "app"
    (app / "artifacts").mkdir(parents=True)
    (app / "artifacts" / "notes.txt").write_bytes(note)
    document: dict[str, Any] = {
        "appDId": "cam-1",
        "appName": "cam",
        "appProvider": "acme",
        "appSoftVersion": "1.0",
        "appDVersion": "1",
        "mecVersion": "3.1.1",
        "appDescription": "Counts cars.",
        "swImageDescriptor": [
            {"id": "img", "name": "cam", "version": "1.0", "containerFormat": "DOCKER"}
        ],
        "appExtCpd": [{}],
    }
    (app / "appd.json").write_text(json.dumps(document))
    image = folder / "cam.tar"
    with tarfile.open(image, "w") as archive:
        info = tarfile.TarInfo("manifest.json")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"[]"))
    return app, image


def built(folder: Path, note: bytes = b"hello") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    app, image = make_app(folder, note)
    return build_package(app, folder / "cam.zip", image)


def contents_of(package: Path) -> PackageContents:
    folder = package.with_name(
        f"{package.stem}-{hashlib.sha256(package.read_bytes()).hexdigest()[:8]}"
    )
    return read_package(package, folder, PackageLimits())


def untrusted(contents: PackageContents, trusted: list[Any]) -> str:
    with pytest.raises(UntrustedPackage) as caught:
        verify_package(contents, trusted)
    assert isinstance(caught.value, InvalidInput)
    return caught.value.detail


def replace_member(package: Path, name: str, data: bytes) -> None:
    """Rewrite the ZIP with one member's bytes replaced (or added)."""
    with zipfile.ZipFile(package) as original:
        members = {info.filename: original.read(info) for info in original.infolist()}
    members[name] = data
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in members.items():
            archive.writestr(member, content)


def test_a_package_signed_by_a_trusted_key_verifies(tmp_path: Path, keys: dict[str, Path]) -> None:
    package = built(tmp_path)
    alice = parse_public_key(public(keys, "alice"))
    assert sign_package(package, keys["alice"]).fingerprint == alice.fingerprint
    signer = verify_package(contents_of(package), [parse_public_key(public(keys, "bob")), alice])
    assert signer == alice
    assert signer.comment == "alice@test"


def test_an_ecdsa_signature_verifies_too(tmp_path: Path, keys: dict[str, Path]) -> None:
    package = built(tmp_path)
    sign_package(package, keys["ecdsa"])
    ecdsa = parse_public_key(public(keys, "ecdsa"))
    assert verify_package(contents_of(package), [ecdsa]) == ecdsa


def test_a_package_signed_by_another_key_is_refused_naming_the_signer(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    package = built(tmp_path)
    sign_package(package, keys["alice"])
    alice = parse_public_key(public(keys, "alice"))
    detail = untrusted(contents_of(package), [parse_public_key(public(keys, "bob"))])
    assert detail == (
        f"the package is signed by {alice.fingerprint}, which is not a trusted package signing key"
    )


def test_no_trusted_key_means_no_package_is_accepted(tmp_path: Path, keys: dict[str, Path]) -> None:
    package = built(tmp_path)
    sign_package(package, keys["alice"])
    detail = untrusted(contents_of(package), [])
    assert detail.startswith(
        f"the package is signed by {parse_public_key(public(keys, 'alice')).fingerprint}, but no "
        "key is trusted to sign packages here"
    )


def test_an_unsigned_package_is_refused(tmp_path: Path) -> None:
    package = built(tmp_path)
    with pytest.raises(InvalidPackage, match="the package is not signed"):
        read_package(package, tmp_path / "out", PackageLimits())


def test_a_signature_of_another_manifest_is_refused(tmp_path: Path, keys: dict[str, Path]) -> None:
    first = built(tmp_path / "first")
    sign_package(first, keys["alice"])
    second = built(tmp_path / "second", note=b"changed notes")
    with zipfile.ZipFile(first) as archive:
        signature = archive.read("MANIFEST.sha256.sig")
    replace_member(second, "MANIFEST.sha256.sig", signature)
    alice = parse_public_key(public(keys, "alice"))
    assert untrusted(contents_of(second), [alice]) == "MANIFEST.sha256.sig: does not verify"


def test_a_tampered_member_with_a_rewritten_manifest_breaks_the_signature(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    """An attacker who changes a file and fixes up the manifest still cannot re-sign it."""
    package = built(tmp_path)
    sign_package(package, keys["alice"])
    with zipfile.ZipFile(package) as archive:
        manifest = archive.read("MANIFEST.sha256").decode()
    evil = b"evil notes"
    original = hashlib.sha256(b"hello").hexdigest()
    replace_member(package, "artifacts/notes.txt", evil)
    replace_member(
        package,
        "MANIFEST.sha256",
        manifest.replace(original, hashlib.sha256(evil).hexdigest()).encode(),
    )
    alice = parse_public_key(public(keys, "alice"))
    assert untrusted(contents_of(package), [alice]) == "MANIFEST.sha256.sig: does not verify"


def test_a_signature_made_for_another_namespace_is_refused(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    package = built(tmp_path)
    with zipfile.ZipFile(package) as archive:
        manifest = archive.read("MANIFEST.sha256")
    command = ["ssh-keygen", "-Y", "sign", "-f", str(keys["alice"]), "-n", "file"]
    signature = subprocess.run(command, input=manifest, capture_output=True, check=True).stdout
    replace_member(package, "MANIFEST.sha256.sig", signature)
    alice = parse_public_key(public(keys, "alice"))
    assert untrusted(contents_of(package), [alice]) == (
        f"MANIFEST.sha256.sig: made for namespace 'file', expected '{SIGNATURE_NAMESPACE}'"
    )


def test_a_signature_that_is_not_one_is_refused(tmp_path: Path, keys: dict[str, Path]) -> None:
    package = built(tmp_path)
    replace_member(package, "MANIFEST.sha256.sig", b"trust me")
    alice = parse_public_key(public(keys, "alice"))
    assert untrusted(contents_of(package), [alice]) == "MANIFEST.sha256.sig: not an SSH signature"


def test_signing_again_replaces_the_signature(tmp_path: Path, keys: dict[str, Path]) -> None:
    package = built(tmp_path)
    sign_package(package, keys["alice"])
    sign_package(package, keys["bob"])
    with zipfile.ZipFile(package) as archive:
        assert archive.namelist().count("MANIFEST.sha256.sig") == 1
    bob = parse_public_key(public(keys, "bob"))
    assert verify_package(contents_of(package), [bob]) == bob


def test_signing_refuses_a_tampered_package(tmp_path: Path, keys: dict[str, Path]) -> None:
    package = built(tmp_path)
    replace_member(package, "artifacts/notes.txt", b"evil notes")
    with pytest.raises(InvalidPackage, match="its SHA-256 differs"):
        sign_package(package, keys["alice"])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_signing_with_a_key_the_platform_refuses_says_so(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    package = built(tmp_path)
    before = package.read_bytes()
    with pytest.raises(InvalidInput, match="RSA keys need at least 3072 bits"):
        sign_package(package, keys["weak"])
    assert package.read_bytes() == before


def test_signing_with_a_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    package = built(tmp_path)
    with pytest.raises(InvalidInput, match="no key file at"):
        sign_package(package, tmp_path / "nope")


def test_signing_is_reproducible_for_ed25519(tmp_path: Path, keys: dict[str, Path]) -> None:
    first, second = built(tmp_path / "a"), built(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    sign_package(first, keys["alice"])
    sign_package(second, keys["alice"])
    assert first.read_bytes() == second.read_bytes()


# -- the trusted keys file --------------------------------------------------------------------
def test_a_missing_trusted_keys_file_trusts_nobody(tmp_path: Path) -> None:
    assert read_trusted_keys(tmp_path / "absent") == []


def test_keys_are_added_once_listed_and_removed(tmp_path: Path, keys: dict[str, Path]) -> None:
    path = tmp_path / "etc" / "trusted_keys"
    alice = add_trusted_key(path, public(keys, "alice"))
    assert add_trusted_key(path, public(keys, "alice")) == alice
    bob = add_trusted_key(path, public(keys, "bob"))
    assert read_trusted_keys(path) == [alice, bob]
    assert path.stat().st_mode & 0o777 == 0o644
    assert remove_trusted_key(path, alice.fingerprint) == alice
    assert read_trusted_keys(path) == [bob]
    # The fingerprint may be given without its `SHA256:` prefix.
    remove_trusted_key(path, bob.fingerprint.removeprefix("SHA256:"))
    assert read_trusted_keys(path) == []
    assert path.read_text().startswith("# SSH keys trusted to sign application packages")


def test_comments_and_blank_lines_written_by_hand_are_kept(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    path = tmp_path / "trusted_keys"
    path.write_text(f"# release team\n\n{public(keys, 'alice')}")
    bob = add_trusted_key(path, public(keys, "bob"))
    alice = parse_public_key(public(keys, "alice"))
    remove_trusted_key(path, alice.fingerprint)
    assert path.read_text() == f"# release team\n\n{bob.openssh}\n"


def test_removing_an_unknown_key_is_not_found(tmp_path: Path, keys: dict[str, Path]) -> None:
    path = tmp_path / "trusted_keys"
    add_trusted_key(path, public(keys, "alice"))
    with pytest.raises(NotFound, match="no trusted package signing key has the fingerprint"):
        remove_trusted_key(path, "SHA256:nothing")


def test_a_key_that_is_not_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="sshKey: "):
        add_trusted_key(tmp_path / "trusted_keys", "ssh-ed25519 not-base64!")
    assert not (tmp_path / "trusted_keys").exists()


def test_a_broken_line_in_the_file_is_reported_not_skipped(tmp_path: Path) -> None:
    path = tmp_path / "trusted_keys"
    path.write_text("# keys\nssh-dss AAAA old-key\n")
    with pytest.raises(PlatformError, match=r"trusted_keys, line 2: sshKey: key type 'ssh-dss'"):
        read_trusted_keys(path)


def test_concurrent_additions_all_land(tmp_path: Path) -> None:
    path = tmp_path / "trusted_keys"
    lines = [
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
        .decode()
        for _ in range(12)
    ]
    with ThreadPoolExecutor(max_workers=12) as pool:
        added = list(pool.map(lambda line: add_trusted_key(path, line), lines))
    assert sorted(k.fingerprint for k in read_trusted_keys(path)) == sorted(
        k.fingerprint for k in added
    )
