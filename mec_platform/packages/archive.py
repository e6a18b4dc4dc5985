"""Reading an application package: a ZIP file holding `appd.json`, optional `images/` and
`artifacts/`, `MANIFEST.sha256` (the SHA-256 of every other member) and its SSH signature
`MANIFEST.sha256.sig`. Every member is checked before a byte is written (names, types,
encryption, declared sizes and compression ratios), then extracted into a fresh folder
while its real size is counted and its hash computed; the hashes must be exactly those of the
manifest, and a packaged image must carry the checksum the AppD gives it. Any refusal is an
`InvalidPackage` naming the member, and leaves the extraction folder as empty as it was.
The signature itself is checked by `packages.signing`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mec_platform.errors import InvalidInput
from mec_platform.packages.appd import AppDescriptor, parse_appd

APPD = "appd.json"
MANIFEST = "MANIFEST.sha256"
SIGNATURE = "MANIFEST.sha256.sig"
FOLDERS = ("images/", "artifacts/")
GIB = 1024**3
MIB = 1024**2
# The fixed members are small; their own caps keep a hostile one from filling memory.
SMALL_LIMITS = {APPD: MIB, MANIFEST: MIB, SIGNATURE: 32 * 1024}
# Below this many bytes any compression ratio is harmless; a bomb needs volume.
RATIO_FLOOR = MIB
MAX_NAME = 1024
MAX_NAME_PART = 255
_CHUNK = MIB
_LAYOUT = f"a package holds only {APPD}, {MANIFEST}, {SIGNATURE}, images/... and artifacts/..."
_MANIFEST_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")


class InvalidPackage(InvalidInput):
    """The package file is malformed, unsafe, incomplete or altered."""


@dataclass(frozen=True)
class PackageLimits:
    """How large a package may be, packed and unpacked."""

    max_bytes: int = 2 * GIB
    max_members: int = 1000
    max_unpacked_bytes: int = 2 * GIB
    # Unpacked size / packed size, for a member and for the whole archive (above RATIO_FLOOR).
    max_ratio: int = 100


@dataclass(frozen=True)
class PackageContents:
    """A package that passed every check but the signature; its files are in the folder it
    was extracted to (`image_file` is the packaged image there, None for a local image)."""

    appd: AppDescriptor
    appd_bytes: bytes
    manifest: bytes
    signature: str
    image_file: Path | None
    artifacts: tuple[str, ...]
    sha256: str


def read_package(
    zip_path: Path, extract_to: Path, limits: PackageLimits, *, require_signature: bool = True
) -> PackageContents:
    """Check the package at `zip_path` and extract it into `extract_to` (created, or empty).

    `require_signature=False` is for the signing tool: an unsigned package then reads with
    an empty `signature`."""
    created = not extract_to.exists()
    extract_to.mkdir(parents=True, exist_ok=True)
    if any(extract_to.iterdir()):
        raise ValueError(f"{extract_to}: the extraction folder must be empty")
    try:
        return _read(zip_path, extract_to, limits, require_signature)
    except BaseException:
        _clear(extract_to, remove=created)
        raise


def read_appd(zip_path: Path) -> AppDescriptor:
    """Only the AppD of a package, without checking the rest (the platform does that)."""
    size = _size(zip_path, PackageLimits())
    with _open_zip(zip_path) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        if APPD not in infos:
            raise InvalidPackage(f"{APPD}: is missing")
        _check_sizes([infos[APPD]], size, PackageLimits())
        with archive.open(infos[APPD]) as source:
            data = source.read(SMALL_LIMITS[APPD] + 1)
    return _parse_appd(data)


def _read(zip_path: Path, folder: Path, limits: PackageLimits, signed: bool) -> PackageContents:
    size = _size(zip_path, limits)
    with _open_zip(zip_path) as archive:
        files = _check_members(archive.infolist(), limits, signed)
        _check_sizes(files, size, limits)
        hashes = _extract(archive, files, folder, limits)
    manifest = (folder / MANIFEST).read_bytes()
    _check_manifest(_parse_manifest(manifest), hashes)
    appd_bytes = (folder / APPD).read_bytes()
    appd = _parse_appd(appd_bytes)
    return PackageContents(
        appd=appd,
        appd_bytes=appd_bytes,
        manifest=manifest,
        signature=_signature_text(folder / SIGNATURE),
        image_file=_image_file(appd, hashes, folder),
        artifacts=tuple(sorted(name for name in hashes if name.startswith("artifacts/"))),
        sha256=sha256_of_file(zip_path),
    )


def sha256_of_file(path: Path) -> str:
    """The SHA-256 of a file in lower-case hex, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _size(zip_path: Path, limits: PackageLimits) -> int:
    try:
        size = zip_path.stat().st_size
    except OSError as exc:
        raise InvalidPackage(f"{zip_path}: cannot read the package ({exc.strerror})") from None
    if size > limits.max_bytes:
        raise InvalidPackage(f"the package is {size} bytes, more than {limits.max_bytes}")
    return size


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise InvalidPackage(f"the package is not a ZIP file ({exc})") from None
    except OSError as exc:
        raise InvalidPackage(f"{zip_path}: cannot read the package ({exc.strerror})") from None


def _check_members(
    infos: list[zipfile.ZipInfo], limits: PackageLimits, signed: bool
) -> list[zipfile.ZipInfo]:
    """The file members, once names, types and layout are all acceptable."""
    if len(infos) > limits.max_members:
        raise InvalidPackage(
            f"the package has {len(infos)} members, more than {limits.max_members}"
        )
    seen: set[str] = set()
    for info in infos:
        _check_member(info)
        if info.filename in seen:
            raise InvalidPackage(f"member '{_shown(info.filename)}': appears twice")
        seen.add(info.filename)
    files = [info for info in infos if not info.is_dir()]
    _check_no_clash(files, seen)
    missing = [name for name in (APPD, MANIFEST, SIGNATURE) if name not in seen]
    if SIGNATURE in missing and signed:
        raise InvalidPackage(f"the package is not signed: {SIGNATURE} is missing")
    missing = [name for name in missing if name != SIGNATURE]
    if missing:
        raise InvalidPackage(f"{missing[0]}: is missing from the package")
    return files


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.orig_filename
    where = f"member '{_shown(name)}'"
    check_member_name(name, where)
    kind = stat.S_IFMT(info.external_attr >> 16)
    if stat.S_ISLNK(kind):
        raise InvalidPackage(f"{where}: is a symbolic link; a package holds plain files only")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR) or (kind == stat.S_IFDIR and not info.is_dir()):
        raise InvalidPackage(f"{where}: is not a plain file or folder")
    if info.flag_bits & 0x41:  # traditional (bit 0) or strong (bit 6) encryption
        raise InvalidPackage(f"{where}: is encrypted; packages are signed, not encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InvalidPackage(f"{where}: uses compression method {info.compress_type}; use deflate")
    top_level = (APPD, MANIFEST, SIGNATURE)
    if not (name.startswith(FOLDERS) or (name in top_level and not info.is_dir())):
        raise InvalidPackage(f"{where}: {_LAYOUT}")
    if info.is_dir() and info.file_size:
        raise InvalidPackage(f"{where}: a folder entry with content")


def check_member_name(name: str, where: str) -> None:
    """Refuse a member name that is unsafe to extract or to list in the manifest."""
    if not name or len(name) > MAX_NAME:
        raise InvalidPackage(f"{where}: the name must have 1 to {MAX_NAME} characters")
    if "\\" in name or any(not ch.isprintable() for ch in name):
        raise InvalidPackage(f"{where}: the name holds a backslash or a control character")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        raise InvalidPackage(f"{where}: is an absolute path")
    parts = name.removesuffix("/").split("/")
    if ".." in parts:
        raise InvalidPackage(f"{where}: '..' would place it outside the package folder")
    if any(part in ("", ".") or len(part.encode()) > MAX_NAME_PART for part in parts):
        raise InvalidPackage(f"{where}: has an empty, '.' or overlong part in its path")


def _check_no_clash(files: list[zipfile.ZipInfo], names: set[str]) -> None:
    """A name used both as a file and as a folder could not be extracted."""
    folders = {name.removesuffix("/") for name in names if name.endswith("/")}
    for info in files:
        parts = info.filename.split("/")
        folders.update("/".join(parts[:end]) for end in range(1, len(parts)))
    for info in files:
        if info.filename in folders:
            raise InvalidPackage(f"member '{_shown(info.filename)}': is also a folder name")


def _check_sizes(files: Iterable[zipfile.ZipInfo], size: int, limits: PackageLimits) -> None:
    """Refuse by declared sizes what would unpack too large (extraction counts again)."""
    total = 0
    for info in files:
        where = f"member '{_shown(info.filename)}'"
        cap = SMALL_LIMITS.get(info.filename)
        if cap is not None and info.file_size > cap:
            raise InvalidPackage(f"{where}: is {info.file_size} bytes, more than {cap}")
        if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise InvalidPackage(
                f"{where}: would expand more than {limits.max_ratio} times (a ZIP bomb?)"
            )
        total += info.file_size
    if total > limits.max_unpacked_bytes:
        raise InvalidPackage(
            f"the package would unpack to {total} bytes, more than {limits.max_unpacked_bytes}"
        )
    if total > RATIO_FLOOR and total > limits.max_ratio * max(size, 1):
        raise InvalidPackage(
            f"the package would expand more than {limits.max_ratio} times (a ZIP bomb?)"
        )


def _extract(
    archive: zipfile.ZipFile, files: list[zipfile.ZipInfo], folder: Path, limits: PackageLimits
) -> dict[str, str]:
    """Write every file member under `folder`; returns name -> SHA-256 of what was written."""
    budget = limits.max_unpacked_bytes
    hashes: dict[str, str] = {}
    for info in files:
        target = folder.joinpath(*info.filename.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        written, hashes[info.filename] = _extract_one(archive, info, target, budget)
        budget -= written
    return hashes


def _extract_one(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int
) -> tuple[int, str]:
    where = f"member '{_shown(info.filename)}'"
    digest, written = hashlib.sha256(), 0
    # O_EXCL | O_NOFOLLOW: never write through anything that is already there.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        with os.fdopen(os.open(target, flags, 0o644), "wb") as out, archive.open(info) as source:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > info.file_size or written > budget:
                    raise InvalidPackage(f"{where}: unpacks larger than it declares (a ZIP bomb?)")
                digest.update(chunk)
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise InvalidPackage(f"{where}: is damaged ({exc})") from None
    if written != info.file_size:
        raise InvalidPackage(
            f"{where}: is damaged (holds {written} bytes, declares {info.file_size})"
        )
    return written, digest.hexdigest()


def _parse_manifest(data: bytes) -> dict[str, str]:
    """`<sha256 hex>  <path>` per line (sha256sum's format) -> {path: hex}."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidPackage(f"{MANIFEST}: is not UTF-8 text") from None
    entries: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        match = _MANIFEST_LINE.fullmatch(line)
        if match is None:
            raise InvalidPackage(f"{MANIFEST}: line {number} is not '<sha256 hex>  <path>'")
        digest, name = match.groups()
        if name in entries:
            raise InvalidPackage(f"{MANIFEST}: lists '{_shown(name)}' twice")
        entries[name] = digest.lower()
    return entries


def _check_manifest(listed: dict[str, str], hashes: dict[str, str]) -> None:
    for name in (MANIFEST, SIGNATURE):
        if name in listed:
            raise InvalidPackage(f"{MANIFEST}: must not list {name}")
    for name, digest in sorted(hashes.items()):
        if name in (MANIFEST, SIGNATURE):
            continue
        if name not in listed:
            raise InvalidPackage(
                f"member '{_shown(name)}': is not listed in {MANIFEST} (added after signing?)"
            )
        if listed[name] != digest:
            raise InvalidPackage(
                f"member '{_shown(name)}': its SHA-256 differs from the one in {MANIFEST} "
                "(the package was changed after it was built)"
            )
    absent = sorted(set(listed) - set(hashes))
    if absent:
        raise InvalidPackage(
            f"{MANIFEST}: lists '{_shown(absent[0])}', which is not in the package"
        )


def _parse_appd(data: bytes) -> AppDescriptor:
    if len(data) > SMALL_LIMITS[APPD]:
        raise InvalidPackage(f"{APPD}: is larger than {SMALL_LIMITS[APPD]} bytes")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidPackage(f"{APPD}: is not valid JSON ({exc})") from None
    try:
        return parse_appd(document)
    except InvalidInput as exc:
        raise InvalidPackage(exc.detail) from None


def _signature_text(path: Path) -> str:
    if not path.exists():
        return ""
    try:
        return path.read_bytes().decode("ascii")
    except UnicodeDecodeError:
        raise InvalidPackage(f"{SIGNATURE}: is not an armored SSH signature") from None


def _image_file(appd: AppDescriptor, hashes: dict[str, str], folder: Path) -> Path | None:
    """The packaged image, present and with the AppD's checksum; no image besides it."""
    path = appd.image.path
    for name in hashes:
        if name.startswith("images/") and name != path:
            raise InvalidPackage(
                f"member '{_shown(name)}': the package carries one image, the one "
                "appd.swImageDescriptor[0].swImage names"
            )
    if path is None:
        return None
    if path not in hashes:
        raise InvalidPackage(f"appd.swImageDescriptor[0].swImage: '{path}' is not in the package")
    if hashes[path] != appd.image.checksum_hash:
        raise InvalidPackage(
            f"{path}: its SHA-256 is {hashes[path]}, not the checksum the AppD gives "
            f"(appd.swImageDescriptor[0].checksum.hash {appd.image.checksum_hash})"
        )
    image_file = folder.joinpath(*path.split("/"))
    if not tarfile.is_tarfile(image_file):
        raise InvalidPackage(f"{path}: is not a tar archive (make it with `podman save`)")
    return image_file


def _clear(folder: Path, remove: bool) -> None:
    """Delete what extraction left in `folder` (and the folder itself when it made it)."""
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    if remove:
        folder.rmdir()


def _shown(name: str) -> str:
    """A member name made printable and short for an error detail."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in name[:120])
    return cleaned + ("..." if len(name) > 120 else "")
