"""Who may publish applications: a package's `MANIFEST.sha256` is signed with
`ssh-keygen -Y sign -n umec-app-package`, and the platform accepts it only when the signature
verifies and the signing key is one the operator trusts. The trusted keys live in one
`authorized_keys`-style file (`type base64 [comment]` per line, `#` comments kept), changed
under a lock shared by every platform process and replaced atomically, so a reader always
sees a whole file. A missing file trusts nobody."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from mec_platform.atomic_files import write_atomically
from mec_platform.auth.file_lock import exclusive_lock
from mec_platform.auth.model import SshKey
from mec_platform.auth.ssh_keys import parse_public_key
from mec_platform.auth.sshsig import SshSigVerifier
from mec_platform.errors import Conflict, InvalidInput, NotFound, PlatformError, Unauthorized
from mec_platform.packages.archive import SIGNATURE, PackageContents

SIGNATURE_NAMESPACE = "umec-app-package"
LOCK_TIMEOUT = 30.0
_HEADER = (
    "# SSH keys trusted to sign application packages (ETSI MEC 010-2 onboarding).\n"
    "# Change with `mec-platform package trust add|remove`.\n"
)
_Line = tuple[str, SshKey | None]


class UntrustedPackage(InvalidInput):
    """The package signature is missing, broken, or made by a key the operator does not trust."""


def verify_package(contents: PackageContents, trusted: Sequence[SshKey]) -> SshKey:
    """The trusted key that signed the package's manifest, or UntrustedPackage."""
    try:
        signer = SshSigVerifier().verify(contents.signature, contents.manifest, SIGNATURE_NAMESPACE)
    except Unauthorized as exc:
        raise UntrustedPackage(f"{SIGNATURE}: {exc.detail.removeprefix('signature: ')}") from None
    if not trusted:
        raise UntrustedPackage(
            f"the package is signed by {signer.fingerprint}, but no key is trusted to sign "
            "packages here (add one with `mec-platform package trust add KEYFILE`)"
        )
    for key in trusted:
        if key.blob == signer.blob:
            return key
    raise UntrustedPackage(
        f"the package is signed by {signer.fingerprint}, which is not a trusted package signing key"
    )


def read_trusted_keys(path: Path) -> list[SshKey]:
    """The keys listed in the trusted keys file; none when it does not exist."""
    return [key for _, key in _read_lines(path) if key is not None]


def add_trusted_key(path: Path, key_text: str) -> SshKey:
    """Trust one more key (given as an `authorized_keys` line); no change if it is trusted."""
    key = parse_public_key(key_text.strip())
    with _locked(path):
        lines = _read_lines(path)
        if not any(known is not None and known.blob == key.blob for _, known in lines):
            kept = "".join(f"{line}\n" for line, _ in lines) or _HEADER
            write_atomically(path, f"{kept}{key.openssh}\n")
    return key


def remove_trusted_key(path: Path, fingerprint: str) -> SshKey:
    """Stop trusting the key with this fingerprint (`SHA256:...`, the prefix optional)."""
    wanted = fingerprint if fingerprint.startswith("SHA256:") else f"SHA256:{fingerprint}"
    with _locked(path):
        lines = _read_lines(path)
        removed = [key for _, key in lines if key is not None and key.fingerprint == wanted]
        if not removed:
            raise NotFound(f"no trusted package signing key has the fingerprint {fingerprint}")
        kept = [line for line, key in lines if key is None or key.fingerprint != wanted]
        write_atomically(path, "".join(f"{line}\n" for line in kept))
    return removed[0]


def _read_lines(path: Path) -> list[_Line]:
    """Every line of the file with its key (None for blank and comment lines)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise PlatformError(f"{path}: cannot read the trusted package keys ({exc})") from None
    return [_line(path, number, line) for number, line in enumerate(text.splitlines(), 1)]


def _line(path: Path, number: int, line: str) -> _Line:
    text = line.strip()
    if not text or text.startswith("#"):
        return line, None
    try:
        return line, parse_public_key(text)
    except InvalidInput as exc:
        # A broken line must not be skipped silently: the operator meant to trust someone.
        raise PlatformError(f"{path}, line {number}: {exc.detail}") from None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """The lock every process takes before it reads and rewrites the file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with exclusive_lock(path.with_name(f".{path.name}.lock"), LOCK_TIMEOUT):
            yield
    except TimeoutError:
        raise Conflict(f"{path}: another process is changing the trusted keys") from None
    except OSError as exc:
        raise PlatformError(f"{path}: cannot change the trusted package keys ({exc})") from None
