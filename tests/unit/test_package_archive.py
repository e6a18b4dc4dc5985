"""Reading package ZIPs: a well-formed package is extracted and described; each unsafe or
inconsistent one is refused by a real crafted ZIP (path escapes, symbolic links, bombs,
encryption, tampering, missing parts), and leaves the extraction folder as it found it."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import tarfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mec_platform.errors import InvalidInput
from mec_platform.packages.archive import (
    InvalidPackage,
    PackageLimits,
    read_appd,
    read_package,
)

SIGNATURE_TEXT = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"
Entry = tuple[zipfile.ZipInfo | str, bytes]


def image_tar(content: bytes = b"layer") -> bytes:
    """A small but real tar archive standing in for `podman save` output."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


IMAGE = image_tar()


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
                "checksum": {"algorithm": "SHA-256", "hash": hashlib.sha256(IMAGE).hexdigest()},
                "swImage": "images/cam.tar",
            }
        ],
        "appExtCpd": [{}],
    }
    document.update(changes)
    return document


def files(**changes: Any) -> dict[str, bytes]:
    """The members of a good package besides the manifest and signature."""
    return {
        "appd.json": json.dumps(appd(**changes)).encode(),
        "images/cam.tar": IMAGE,
        "artifacts/notes.txt": b"read me",
        "artifacts/config/app.yaml": b"a: 1\n",
    }


def manifest_of(members: dict[str, bytes]) -> bytes:
    lines = [
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(members.items())
    ]
    return "".join(lines).encode()


def write_zip(
    path: Path, entries: list[Entry], after: Callable[[zipfile.ZipFile], None] | None = None
) -> Path:
    """Write the entries as given (duplicates too); `after` may alter the central directory."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names; we want them
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in entries:
                archive.writestr(name, data)
            if after is not None:
                after(archive)
    return path


def package(
    path: Path,
    members: dict[str, bytes] | None = None,
    *,
    manifest: bytes | None = None,
    signed: bool = True,
    extra: list[Entry] | None = None,
    after: Callable[[zipfile.ZipFile], None] | None = None,
) -> Path:
    """A package ZIP: the members, their manifest (or the one given), a signature, extras."""
    members = files() if members is None else members
    entries: list[Entry] = list(members.items())
    entries.append(("MANIFEST.sha256", manifest_of(members) if manifest is None else manifest))
    if signed:
        entries.append(("MANIFEST.sha256.sig", SIGNATURE_TEXT.encode()))
    return write_zip(path, entries + (extra or []), after)


def refused(zip_path: Path, folder: Path, limits: PackageLimits | None = None) -> str:
    """The refusal's detail; the extraction folder is gone again (it did not exist)."""
    with pytest.raises(InvalidPackage) as caught:
        read_package(zip_path, folder, limits or PackageLimits())
    assert isinstance(caught.value, InvalidInput)
    assert not folder.exists()
    return caught.value.detail


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "extracted"


def test_a_good_package_is_extracted_and_described(tmp_path: Path, out: Path) -> None:
    zip_path = package(tmp_path / "p.zip")
    contents = read_package(zip_path, out, PackageLimits())
    assert contents.appd.app_d_id == "cam-1"
    assert json.loads(contents.appd_bytes) == appd()
    assert contents.manifest == manifest_of(files())
    assert contents.signature == SIGNATURE_TEXT
    assert contents.image_file == out / "images" / "cam.tar"
    assert contents.image_file.read_bytes() == IMAGE
    assert contents.artifacts == ("artifacts/config/app.yaml", "artifacts/notes.txt")
    assert (out / "artifacts" / "config" / "app.yaml").read_bytes() == b"a: 1\n"
    assert contents.sha256 == hashlib.sha256(zip_path.read_bytes()).hexdigest()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        [*files(), "MANIFEST.sha256", "MANIFEST.sha256.sig"]
    )


def test_an_existing_empty_folder_is_used_and_emptied_again_on_failure(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    read_package(package(tmp_path / "good.zip"), good, PackageLimits())
    assert (good / "appd.json").is_file()
    # The tampered member comes last: everything before it was extracted, then removed.
    late = package(tmp_path / "bad.zip", extra=[("artifacts/zz-late.txt", b"added later")])
    with pytest.raises(InvalidPackage):
        read_package(late, bad, PackageLimits())
    assert bad.is_dir() and not any(bad.iterdir())


def test_a_folder_that_is_not_empty_is_a_programming_error(tmp_path: Path) -> None:
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "x").write_text("x")
    with pytest.raises(ValueError, match="must be empty"):
        read_package(package(tmp_path / "p.zip"), folder, PackageLimits())


def test_folder_entries_are_allowed(tmp_path: Path, out: Path) -> None:
    zip_path = package(tmp_path / "p.zip", extra=[("artifacts/", b""), ("images/", b"")])
    assert read_package(zip_path, out, PackageLimits()).artifacts[0] == "artifacts/config/app.yaml"


def test_a_local_image_reference_needs_no_image_member(tmp_path: Path, out: Path) -> None:
    members = files()
    del members["images/cam.tar"]
    document = appd()
    document["swImageDescriptor"][0]["swImage"] = "localhost/cam:1.0"
    members["appd.json"] = json.dumps(document).encode()
    contents = read_package(package(tmp_path / "p.zip", members), out, PackageLimits())
    assert contents.image_file is None
    assert contents.appd.image.reference == "localhost/cam:1.0"


def test_read_appd_reads_only_the_descriptor(tmp_path: Path) -> None:
    zip_path = package(tmp_path / "p.zip", manifest=b"not checked here")
    assert read_appd(zip_path).app_name == "cam"


def test_the_signing_tool_may_read_an_unsigned_package(tmp_path: Path, out: Path) -> None:
    zip_path = package(tmp_path / "p.zip", signed=False)
    assert read_package(zip_path, out, PackageLimits(), require_signature=False).signature == ""


# -- not a package at all ---------------------------------------------------------------------
def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path, out: Path) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(b"PK\x03\x04 but not really a zip" * 10)
    assert refused(path, out).startswith("the package is not a ZIP file")


def test_a_missing_file_is_refused(tmp_path: Path, out: Path) -> None:
    assert "cannot read the package" in refused(tmp_path / "absent.zip", out)


def test_a_package_larger_than_allowed_is_refused_before_it_is_opened(
    tmp_path: Path, out: Path
) -> None:
    detail = refused(package(tmp_path / "p.zip"), out, PackageLimits(max_bytes=100))
    assert detail.startswith("the package is ") and "more than 100" in detail


def test_too_many_members_are_refused(tmp_path: Path, out: Path) -> None:
    detail = refused(package(tmp_path / "p.zip"), out, PackageLimits(max_members=5))
    assert detail == "the package has 6 members, more than 5"


# -- unsafe members ---------------------------------------------------------------------------
def test_a_path_escaping_the_folder_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    extracted = tmp_path / "deep" / "extracted"
    zip_path = package(tmp_path / "p.zip", extra=[("../evil", b"owned")])
    assert refused(zip_path, extracted) == (
        "member '../evil': '..' would place it outside the package folder"
    )
    assert not (tmp_path / "deep" / "evil").exists()
    zip_path = package(tmp_path / "q.zip", extra=[("artifacts/../../evil", b"owned")])
    assert "'..' would place it outside" in refused(zip_path, extracted)


def test_an_absolute_path_is_refused(tmp_path: Path, out: Path) -> None:
    zip_path = package(tmp_path / "p.zip", extra=[("/tmp/evil", b"owned")])
    assert refused(zip_path, out) == "member '/tmp/evil': is an absolute path"
    zip_path = package(tmp_path / "q.zip", extra=[("C:/evil", b"owned")])
    assert refused(zip_path, out) == "member 'C:/evil': is an absolute path"


@pytest.mark.parametrize(
    "name", ["artifacts//x", "artifacts/./x", "artifacts\\..\\x", "artifacts/x\x07"]
)
def test_odd_member_names_are_refused(tmp_path: Path, out: Path, name: str) -> None:
    assert refused(package(tmp_path / "p.zip", extra=[(name, b"x")]), out).startswith("member '")


def test_a_symbolic_link_member_is_refused(tmp_path: Path, out: Path) -> None:
    link = zipfile.ZipInfo("artifacts/passwd")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    zip_path = package(tmp_path / "p.zip", extra=[(link, b"/etc/passwd")])
    assert refused(zip_path, out) == (
        "member 'artifacts/passwd': is a symbolic link; a package holds plain files only"
    )


def test_a_device_or_fifo_member_is_refused(tmp_path: Path, out: Path) -> None:
    fifo = zipfile.ZipInfo("artifacts/pipe")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    zip_path = package(tmp_path / "p.zip", extra=[(fifo, b"")])
    assert refused(zip_path, out) == "member 'artifacts/pipe': is not a plain file or folder"


def test_an_encrypted_member_is_refused(tmp_path: Path, out: Path) -> None:
    def encrypt(archive: zipfile.ZipFile) -> None:
        archive.getinfo("artifacts/notes.txt").flag_bits |= 0x1

    zip_path = package(tmp_path / "p.zip", after=encrypt)
    assert refused(zip_path, out) == (
        "member 'artifacts/notes.txt': is encrypted; packages are signed, not encrypted"
    )


def test_a_member_compressed_with_another_method_is_refused(tmp_path: Path, out: Path) -> None:
    squeezed = zipfile.ZipInfo("artifacts/big.txt")
    squeezed.compress_type = zipfile.ZIP_BZIP2
    zip_path = package(tmp_path / "p.zip", extra=[(squeezed, b"x")])
    assert "uses compression method 12" in refused(zip_path, out)


def test_duplicate_names_are_refused(tmp_path: Path, out: Path) -> None:
    zip_path = package(tmp_path / "p.zip", extra=[("artifacts/notes.txt", b"other notes")])
    assert refused(zip_path, out) == "member 'artifacts/notes.txt': appears twice"


def test_a_name_used_as_file_and_folder_is_refused(tmp_path: Path, out: Path) -> None:
    zip_path = package(tmp_path / "p.zip", extra=[("artifacts/notes.txt/inner", b"x")])
    assert refused(zip_path, out) == "member 'artifacts/notes.txt': is also a folder name"


def test_members_outside_the_layout_are_refused(tmp_path: Path, out: Path) -> None:
    zip_path = package(tmp_path / "p.zip", extra=[("install.sh", b"rm -rf /")])
    assert refused(zip_path, out).startswith("member 'install.sh': a package holds only appd.json")


# -- bombs ------------------------------------------------------------------------------------
def test_a_zip_bomb_is_refused_by_its_declared_ratio(tmp_path: Path, out: Path) -> None:
    zip_path = package(tmp_path / "p.zip", extra=[("artifacts/zeros", bytes(64 * 1024 * 1024))])
    assert zip_path.stat().st_size < 1024 * 1024
    assert refused(zip_path, out) == (
        "member 'artifacts/zeros': would expand more than 100 times (a ZIP bomb?)"
    )


def test_many_entries_sharing_compressed_data_are_refused_by_the_total_ratio(
    tmp_path: Path, out: Path
) -> None:
    """Entries each within the ratio but, together, far larger than the archive (as in
    overlapping-entry bombs)."""
    limits = PackageLimits(max_ratio=3)
    chunk = bytes(range(256)) * 2 * 1024  # 512 KiB, compresses about 100x
    extra: list[Entry] = [(f"artifacts/part{i}", chunk) for i in range(4)]
    zip_path = package(tmp_path / "p.zip", extra=extra)
    assert refused(zip_path, out, limits) == (
        "the package would expand more than 3 times (a ZIP bomb?)"
    )


def test_more_unpacked_bytes_than_allowed_are_refused(tmp_path: Path, out: Path) -> None:
    noise = hashlib.shake_256(b"noise").digest(2 * 1024 * 1024)  # does not compress
    zip_path = package(tmp_path / "p.zip", extra=[("artifacts/noise", noise)])
    detail = refused(zip_path, out, PackageLimits(max_unpacked_bytes=1024 * 1024))
    assert detail.startswith("the package would unpack to ") and "more than 1048576" in detail


def test_a_member_whose_real_size_differs_from_its_declared_size_is_refused(
    tmp_path: Path, out: Path
) -> None:
    """The central directory understates the size: extraction stops at the declared size and
    the data no longer matches its CRC."""

    def understate(archive: zipfile.ZipFile) -> None:
        archive.getinfo("artifacts/notes.txt").file_size = 3

    zip_path = package(tmp_path / "p.zip", after=understate)
    detail = refused(zip_path, out)
    assert detail.startswith("member 'artifacts/notes.txt': ")
    assert "is damaged" in detail or "larger than it declares" in detail


def test_a_member_claiming_more_than_it_holds_is_refused(tmp_path: Path, out: Path) -> None:
    def overstate(archive: zipfile.ZipFile) -> None:
        archive.getinfo("artifacts/notes.txt").file_size = 1000

    detail = refused(package(tmp_path / "p.zip", after=overstate), out)
    assert detail.startswith("member 'artifacts/notes.txt': is damaged")


def test_oversized_fixed_members_are_refused(tmp_path: Path, out: Path) -> None:
    members = files()
    members["appd.json"] = json.dumps({**appd(), "pad": "x" * 2 * 1024 * 1024}).encode()
    detail = refused(package(tmp_path / "p.zip", members), out)
    assert detail.startswith("member 'appd.json': is ") and "more than 1048576" in detail


# -- missing parts ----------------------------------------------------------------------------
def test_an_unsigned_package_is_refused(tmp_path: Path, out: Path) -> None:
    zip_path = package(tmp_path / "p.zip", signed=False)
    assert refused(zip_path, out) == "the package is not signed: MANIFEST.sha256.sig is missing"


def test_a_package_without_manifest_is_refused(tmp_path: Path, out: Path) -> None:
    entries: list[Entry] = [*files().items(), ("MANIFEST.sha256.sig", b"sig")]
    zip_path = write_zip(tmp_path / "p.zip", entries)
    assert refused(zip_path, out) == "MANIFEST.sha256: is missing from the package"


def test_a_package_without_appd_is_refused(tmp_path: Path, out: Path) -> None:
    members = files()
    del members["appd.json"]
    assert refused(package(tmp_path / "p.zip", members), out) == (
        "appd.json: is missing from the package"
    )


# -- manifest and tampering -------------------------------------------------------------------
def test_a_member_missing_from_the_manifest_is_refused(tmp_path: Path, out: Path) -> None:
    zip_path = package(tmp_path / "p.zip", extra=[("artifacts/late.txt", b"added later")])
    assert refused(zip_path, out) == (
        "member 'artifacts/late.txt': is not listed in MANIFEST.sha256 (added after signing?)"
    )


def test_a_listed_member_that_is_absent_is_refused(tmp_path: Path, out: Path) -> None:
    members = files()
    manifest = manifest_of(members)
    del members["artifacts/notes.txt"]
    zip_path = package(tmp_path / "p.zip", members, manifest=manifest)
    assert refused(zip_path, out) == (
        "MANIFEST.sha256: lists 'artifacts/notes.txt', which is not in the package"
    )


def test_a_tampered_member_is_refused(tmp_path: Path, out: Path) -> None:
    members = files()
    manifest = manifest_of(members)
    members["artifacts/config/app.yaml"] = b"a: 2\n"
    zip_path = package(tmp_path / "p.zip", members, manifest=manifest)
    assert refused(zip_path, out) == (
        "member 'artifacts/config/app.yaml': its SHA-256 differs from the one in "
        "MANIFEST.sha256 (the package was changed after it was built)"
    )


def test_a_tampered_appd_is_refused(tmp_path: Path, out: Path) -> None:
    members = files()
    manifest = manifest_of(members)
    members["appd.json"] = json.dumps(appd(appName="evil")).encode()
    zip_path = package(tmp_path / "p.zip", members, manifest=manifest)
    assert refused(zip_path, out).startswith("member 'appd.json': its SHA-256 differs")


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (b"not a manifest\n", "MANIFEST.sha256: line 1 is not '<sha256 hex>  <path>'"),
        (b"\xff\xfe\n", "MANIFEST.sha256: is not UTF-8 text"),
    ],
)
def test_a_malformed_manifest_is_refused(
    tmp_path: Path, out: Path, manifest: bytes, expected: str
) -> None:
    assert refused(package(tmp_path / "p.zip", manifest=manifest), out) == expected


def test_a_manifest_listing_itself_or_a_member_twice_is_refused(tmp_path: Path, out: Path) -> None:
    manifest = manifest_of(files()) + f"{'0' * 64}  MANIFEST.sha256\n".encode()
    assert refused(package(tmp_path / "p.zip", manifest=manifest), out) == (
        "MANIFEST.sha256: must not list MANIFEST.sha256"
    )
    manifest = manifest_of(files()) + manifest_of({"appd.json": b"{}"})
    assert refused(package(tmp_path / "q.zip", manifest=manifest), out) == (
        "MANIFEST.sha256: lists 'appd.json' twice"
    )


def test_a_binary_mode_manifest_in_any_order_is_accepted(tmp_path: Path, out: Path) -> None:
    lines = manifest_of(files()).decode().splitlines()
    manifest = "\n".join(line.replace("  ", " *", 1) for line in reversed(lines)).encode()
    read_package(package(tmp_path / "p.zip", manifest=manifest), out, PackageLimits())


# -- the AppD and its image -------------------------------------------------------------------
def test_an_appd_that_is_not_json_is_refused(tmp_path: Path, out: Path) -> None:
    members = {**files(), "appd.json": b"{appDId: cam"}
    assert refused(package(tmp_path / "p.zip", members), out).startswith(
        "appd.json: is not valid JSON"
    )


def test_an_invalid_appd_is_refused_naming_the_field(tmp_path: Path, out: Path) -> None:
    members = files(appName=None)
    assert refused(package(tmp_path / "p.zip", members), out) == "appd.appName: is required"


def test_an_image_whose_hash_differs_from_the_appd_checksum_is_refused(
    tmp_path: Path, out: Path
) -> None:
    members = {**files(), "images/cam.tar": image_tar(b"another layer")}
    detail = refused(package(tmp_path / "p.zip", members), out)
    assert detail.startswith("images/cam.tar: its SHA-256 is ")
    assert "not the checksum the AppD gives" in detail


def test_an_image_path_that_is_not_in_the_package_is_refused(tmp_path: Path, out: Path) -> None:
    members = files()
    del members["images/cam.tar"]
    assert refused(package(tmp_path / "p.zip", members), out) == (
        "appd.swImageDescriptor[0].swImage: 'images/cam.tar' is not in the package"
    )


def test_a_second_image_is_refused(tmp_path: Path, out: Path) -> None:
    members = {**files(), "images/other.tar": image_tar(b"other")}
    assert refused(package(tmp_path / "p.zip", members), out).startswith(
        "member 'images/other.tar': the package carries one image"
    )


def test_an_image_that_is_not_a_tar_is_refused(tmp_path: Path, out: Path) -> None:
    junk = b"\x00junk" * 300
    document = appd()
    document["swImageDescriptor"][0]["checksum"]["hash"] = hashlib.sha256(junk).hexdigest()
    members = {**files(), "images/cam.tar": junk, "appd.json": json.dumps(document).encode()}
    assert refused(package(tmp_path / "p.zip", members), out) == (
        "images/cam.tar: is not a tar archive (make it with `podman save`)"
    )
