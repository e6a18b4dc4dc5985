"""The package verifier adapter: archive checks (archive.py) plus the SSH signature against
the operator's trusted keys file, read afresh for every package so edits apply at once."""

from __future__ import annotations

from pathlib import Path

from mec_platform.packages.archive import PackageLimits, read_package
from mec_platform.packages.ports import VerifiedPackage
from mec_platform.packages.signing import read_trusted_keys, verify_package


class SignedPackageVerifier:
    """Checks structure, manifest, AppD and image checksum, then the signature."""

    def __init__(self, trusted_keys: Path, limits: PackageLimits | None = None) -> None:
        self._trusted_keys = trusted_keys
        self._limits = limits or PackageLimits()

    def open(self, archive: Path, workdir: Path) -> VerifiedPackage:
        contents = read_package(archive, workdir, self._limits)
        signer = verify_package(contents, read_trusted_keys(self._trusted_keys))
        return VerifiedPackage(contents, signer.fingerprint)
