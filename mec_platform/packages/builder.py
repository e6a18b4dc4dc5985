"""Making application packages, as an app provider does on their own machine: `build_package`
turns a folder (`appd.json`, optional `images/` and `artifacts/`) into a ZIP with the
manifest, filling in the image checksum (and path) from the image archive or the local image
id; `sign_package` adds the signature with `ssh-keygen -Y sign`, so the private key never
leaves ssh-keygen. The ZIP is deterministic: members sorted, fixed timestamps and modes, so
the same folder always gives the same bytes and the same package checksum."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from mec_platform.auth.model import SshKey
from mec_platform.auth.ssh_signing import sign_with_ssh_keygen
from mec_platform.auth.sshsig import SshSigVerifier
from mec_platform.errors import InvalidInput, Unauthorized
from mec_platform.packages.appd import IMAGE_PATH, SHA256_HEX, AppDescriptor, parse_appd
from mec_platform.packages.archive import (
    APPD,
    FOLDERS,
    MANIFEST,
    SIGNATURE,
    PackageLimits,
    check_member_name,
    read_package,
    sha256_of_file,
)
from mec_platform.packages.signing import SIGNATURE_NAMESPACE

# The earliest time a ZIP can record: any fixed value makes the output reproducible.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_CHUNK = 1024 * 1024
_Source = bytes | Path | tuple[zipfile.ZipFile, zipfile.ZipInfo]


def build_package(
    app_dir: Path, out: Path, image_archive: Path | None = None, image_id: str | None = None
) -> Path:
    """Write the (unsigned) package of `app_dir` to `out`; returns `out`."""
    if image_archive is not None and image_id is not None:
        raise InvalidInput("give the image as an archive or as a local image id, not both")
    if not out.parent.is_dir():
        raise InvalidInput(f"{out}: the folder {out.parent} does not exist")
    document = _load_appd(app_dir / APPD)
    files: dict[str, _Source] = dict(_collect(app_dir))
    _place_image(document, files, app_dir, image_archive, image_id)
    appd = parse_appd(document)
    if image_id is not None and appd.image.path is not None:
        raise InvalidInput(
            "appd.swImageDescriptor[0].swImage: an image id goes with a local image reference "
            f"(such as localhost/name:tag), not with the packaged path '{appd.image.path}'"
        )
    _check_image(appd, files)
    files[APPD] = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    files[MANIFEST] = _manifest(files)
    _check_limits(files)
    _write_zip(out, files)
    return out


def sign_package(package: Path, key: Path) -> SshKey:
    """Check the package, then add (or replace) its signature made with the private `key`;
    returns the signing key."""
    with tempfile.TemporaryDirectory(dir=package.parent, prefix=".mec-sign-") as folder:
        contents = read_package(package, Path(folder), PackageLimits(), require_signature=False)
    signature = sign_with_ssh_keygen(key, contents.manifest, SIGNATURE_NAMESPACE)
    try:
        # The platform will run this same check; a key it would refuse is reported now.
        signer = SshSigVerifier().verify(signature, contents.manifest, SIGNATURE_NAMESPACE)
    except Unauthorized as exc:
        raise InvalidInput(f"{key}: {exc.detail}") from None
    with zipfile.ZipFile(package) as original:
        members: dict[str, _Source] = {
            info.filename: (original, info)
            for info in original.infolist()
            if not info.is_dir() and info.filename != SIGNATURE
        }
        members[SIGNATURE] = signature.encode("ascii")
        _write_zip(package, members)
    return signer


def _place_image(
    document: dict[str, Any],
    files: dict[str, _Source],
    app_dir: Path,
    image_archive: Path | None,
    image_id: str | None,
) -> None:
    """Add the image archive to the members and fill in the AppD's checksum (and path)."""
    if image_archive is not None:
        member = _image_member(document, image_archive)
        files[member] = image_archive
        _fill_image(document, member, image_archive)
    elif image_id is not None:
        _image_descriptor(document)["checksum"] = {"algorithm": "SHA-256", "hash": _id(image_id)}
    elif (path := _declared_image(document)) in files:
        assert path is not None
        _fill_image(document, path, app_dir / path)
    elif path is not None and path.startswith("images/"):
        raise InvalidInput(
            f"appd.swImageDescriptor[0].swImage: '{path}' is neither in the application folder "
            "nor given as the image archive"
        )


def _load_appd(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no AppD (appd.json) in the application folder") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from None
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise InvalidInput(f"{path}: the AppD must be a JSON object")
    return document


def _collect(app_dir: Path) -> Iterator[tuple[str, Path]]:
    """The files under images/ and artifacts/ (anything else in the folder is not packaged)."""
    for folder in FOLDERS:
        top = app_dir / folder.rstrip("/")
        if top.is_symlink() or (top.exists() and not top.is_dir()):
            raise InvalidInput(f"{top}: must be a plain folder")
        for root, folders, names in os.walk(top):
            for name in sorted(folders + names):
                path = Path(root) / name
                member = path.relative_to(app_dir).as_posix()
                if path.is_symlink():
                    raise InvalidInput(f"{path}: symbolic links are not packaged; copy the file")
                if path.is_file():
                    check_member_name(member, str(path))
                    yield member, path
                elif not path.is_dir():
                    raise InvalidInput(f"{path}: only plain files are packaged")


def _image_descriptor(document: dict[str, Any]) -> dict[str, Any]:
    descriptors = document.get("swImageDescriptor")
    if (
        not isinstance(descriptors, list)
        or len(descriptors) != 1
        or not isinstance(descriptors[0], dict)
    ):
        raise InvalidInput("appd.swImageDescriptor: must list exactly one image (an object)")
    return descriptors[0]


def _declared_image(document: dict[str, Any]) -> str | None:
    """The AppD's swImage when the descriptor has the expected shape (else parse_appd says)."""
    descriptors = document.get("swImageDescriptor")
    if isinstance(descriptors, list) and len(descriptors) == 1 and isinstance(descriptors[0], dict):
        given = descriptors[0].get("swImage")
        return given if isinstance(given, str) else None
    return None


def _image_member(document: dict[str, Any], archive: Path) -> str:
    """Where the archive goes: the AppD's images/ path, else images/<file name>."""
    given = _image_descriptor(document).get("swImage")
    if isinstance(given, str) and given.startswith("images/"):
        return given
    candidate = f"images/{archive.name}"
    return candidate if IMAGE_PATH.fullmatch(candidate) else "images/app.tar"


def _fill_image(document: dict[str, Any], member: str, source: Path) -> None:
    if not source.is_file():
        raise InvalidInput(f"{source}: no image archive there")
    if not tarfile.is_tarfile(source):
        raise InvalidInput(f"{source}: is not a tar archive (make it with `podman save`)")
    image = _image_descriptor(document)
    image["swImage"] = member
    image["checksum"] = {"algorithm": "SHA-256", "hash": sha256_of_file(source)}
    image["size"] = source.stat().st_size


def _id(image_id: str) -> str:
    """An image id as `podman image inspect --format {{.Id}}` prints it (or sha256:...)."""
    digest = image_id.strip().removeprefix("sha256:")
    if not SHA256_HEX.fullmatch(digest):
        raise InvalidInput("image id: must be 64 hex digits (podman image inspect -f '{{.Id}}')")
    return digest.lower()


def _check_image(appd: AppDescriptor, files: Mapping[str, _Source]) -> None:
    path = appd.image.path
    for name in files:
        if name.startswith("images/") and name != path:
            raise InvalidInput(f"{name}: a package carries one image, the one the AppD names")


def _manifest(files: Mapping[str, _Source]) -> bytes:
    """`<sha256>  <path>` for every member, sorted by path (sha256sum's format)."""
    lines = [f"{_sha256(files[name])}  {name}\n" for name in sorted(files)]
    return "".join(lines).encode()


def _sha256(source: _Source) -> str:
    if isinstance(source, Path):
        return sha256_of_file(source)
    assert isinstance(source, bytes)
    return hashlib.sha256(source).hexdigest()


def _check_limits(files: Mapping[str, _Source]) -> None:
    """A package the platform would refuse for its size is refused here already."""
    limits = PackageLimits()
    total = sum(_size(source) for source in files.values())
    if len(files) + 1 > limits.max_members:
        raise InvalidInput(f"the package would have more than {limits.max_members} members")
    if total > limits.max_unpacked_bytes:
        raise InvalidInput(f"the package would hold {total} bytes, more than the platform takes")


def _size(source: _Source) -> int:
    if isinstance(source, bytes):
        return len(source)
    if isinstance(source, Path):
        return source.stat().st_size
    return source[1].file_size


def _write_zip(out: Path, members: Mapping[str, _Source]) -> None:
    """Write the members, sorted, to a new file that then replaces `out`."""
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for name in sorted(members):
                _add(archive, name, members[name])
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _add(archive: zipfile.ZipFile, name: str, source: _Source) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, wherever the package is built
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.file_size = _size(source)  # lets zipfile choose ZIP64 for a large image up front
    with _open(source) as data, archive.open(info, "w") as target:
        shutil.copyfileobj(data, target, _CHUNK)


def _open(source: _Source) -> IO[bytes]:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    if isinstance(source, Path):
        return source.open("rb")
    original, info = source
    return original.open(info)
