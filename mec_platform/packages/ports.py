"""Ports of package management: its repositories and the unit of work that adds them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mec_platform.packages.archive import PackageContents
from mec_platform.packages.model import AppPackage, PackageSubscription
from mec_platform.registry.ports import UnitOfWork


class PackageRepository(Protocol):
    """Application packages (AppPkgInfo)."""

    def add(self, package: AppPackage) -> None: ...

    def get(self, app_pkg_id: str) -> AppPackage | None: ...

    def by_app_d_id(self, app_d_id: str) -> AppPackage | None:
        """The package whose accepted content carries this appDId."""
        ...

    def all(self) -> list[AppPackage]: ...

    def update(self, package: AppPackage) -> None:
        """Store every changed field of an existing package."""
        ...

    def remove(self, app_pkg_id: str) -> None: ...


class PackageSubscriptionRepository(Protocol):
    """AppPkgSubscriptions."""

    def add(self, subscription: PackageSubscription) -> None: ...

    def get(self, subscription_id: str) -> PackageSubscription | None: ...

    def all(self) -> list[PackageSubscription]: ...

    def remove(self, subscription_id: str) -> None: ...


class PackagesUnitOfWork(UnitOfWork, Protocol):
    """The registry's unit of work plus the package repositories."""

    @property
    def packages(self) -> PackageRepository: ...

    @property
    def package_subscriptions(self) -> PackageSubscriptionRepository: ...


class PackagesUnitOfWorkFactory(Protocol):
    """Opens a PackagesUnitOfWork."""

    def __call__(self, *, write: bool = False) -> PackagesUnitOfWork: ...


@dataclass(frozen=True)
class VerifiedPackage:
    """A package whose every check passed, and who signed it (key fingerprint)."""

    contents: PackageContents
    signer: str


class PackageVerifier(Protocol):
    """Opens a package file: structure, manifest, AppD, image checksum and signature."""

    def open(self, archive: Path, workdir: Path) -> VerifiedPackage:
        """The checked contents, unpacked under `workdir`; InvalidInput when anything is off."""
        ...
