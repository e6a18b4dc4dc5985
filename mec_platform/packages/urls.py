"""The one place resource URIs of the package management API are built."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

APP_PKGM_BASE = "/app_pkgm/v1"


def _seg(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class PackageUrls:
    """Absolute URIs under the platform's API root."""

    api_root: str

    @property
    def root(self) -> str:
        """The package management API root."""
        return f"{self.api_root.rstrip('/')}{APP_PKGM_BASE}"

    def package(self, key: str) -> str:
        """One package; `key` is its appDId once onboarded, else its id."""
        return f"{self.root}/onboarded_app_packages/{_seg(key)}"

    def appd(self, key: str) -> str:
        """The AppD of an onboarded package."""
        return f"{self.package(key)}/appd"

    def content(self, key: str) -> str:
        """The package file."""
        return f"{self.package(key)}/package_content"

    def subscription(self, subscription_id: str) -> str:
        """One package subscription."""
        return f"{self.root}/subscriptions/{_seg(subscription_id)}"
