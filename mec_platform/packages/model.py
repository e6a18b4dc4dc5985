"""Application packages as the platform keeps them (ETSI GS MEC 010-2 clause 6.2.3): states,
the onboarding request, package subscriptions and the notifications they receive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from mec_platform.registry.model import JsonObject


class OnboardingState(StrEnum):
    """Where the package is on its way to being usable (AppPkgInfo.onboardingState)."""

    CREATED = "CREATED"
    UPLOADING = "UPLOADING"
    PROCESSING = "PROCESSING"
    ONBOARDED = "ONBOARDED"


class PackageOperationalState(StrEnum):
    """Whether new instances may be created from the package."""

    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class UsageState(StrEnum):
    """Whether app instances created from the package exist."""

    IN_USE = "IN_USE"
    NOT_IN_USE = "NOT_IN_USE"


class PackageNotificationType(StrEnum):
    """AppPkgNotification.notificationType."""

    ONBOARDED = "AppPackageOnBoarded"
    ENABLED = "AppPackageEnabled"
    DISABLED = "AppPackageDisabled"
    DELETED = "AppPackageDeleted"


class PackageSubscriptionType(StrEnum):
    """AppPkgSubscription.subscriptionType and the notifications each one receives."""

    ONBOARDING = "AppPackageOnBoardingSubscription"
    CHANGE = "AppPackageChangeSubscription"
    DELETION = "AppPackageDeletionSubscription"


NOTIFIED_BY: dict[PackageNotificationType, PackageSubscriptionType] = {
    PackageNotificationType.ONBOARDED: PackageSubscriptionType.ONBOARDING,
    PackageNotificationType.ENABLED: PackageSubscriptionType.CHANGE,
    PackageNotificationType.DISABLED: PackageSubscriptionType.CHANGE,
    PackageNotificationType.DELETED: PackageSubscriptionType.DELETION,
}


@dataclass(frozen=True)
class PackageRequest:
    """CreateAppPkg: what the provider says about the package before its content arrives."""

    name: str
    version: str
    provider: str | None
    checksum_algorithm: str
    checksum_hash: str
    path: str
    user_defined_data: JsonObject = field(default_factory=dict)


@dataclass(frozen=True)
class OnboardedContent:
    """What onboarding learned from the package content (None until it was accepted)."""

    app_d_id: str
    app_name: str
    app_provider: str
    app_soft_version: str
    app_d_version: str
    appd: JsonObject
    content_sha256: str
    signer: str
    image_reference: str | None
    image_id: str | None = None
    artifacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppPackage:
    """One application package resource (AppPkgInfo)."""

    app_pkg_id: str
    request: PackageRequest
    onboarding_state: OnboardingState
    operational_state: PackageOperationalState
    usage_state: UsageState
    created_at: float
    owner: str | None
    content: OnboardedContent | None = None
    failure: JsonObject | None = None

    @property
    def app_d_id(self) -> str | None:
        """The AppD identifier once content was accepted."""
        return self.content.app_d_id if self.content else None


@dataclass(frozen=True)
class PackageSubscription:
    """AppPkgSubscriptionInfo: a callback and the packages it wants to hear about."""

    subscription_id: str
    subscription_type: PackageSubscriptionType
    callback_uri: str
    filters: tuple[JsonObject, ...]
    owner: str | None
    created_at: float

    def wants(self, package: AppPackage) -> bool:
        """True when no filter is given or one of the AppPkgFilter entries matches."""
        return not self.filters or any(_matches(f, package) for f in self.filters)


def _matches(criteria: JsonObject, package: AppPackage) -> bool:
    content = package.content
    values = {
        "appPkgInfoId": package.app_pkg_id,
        "appDId": content.app_d_id if content else None,
        "appProvider": content.app_provider if content else package.request.provider,
        "appName": content.app_name if content else None,
        "appSoftwareVersion": content.app_soft_version if content else None,
        "appDVersion": content.app_d_version if content else None,
        "operationalState": package.operational_state.value,
        "usageState": package.usage_state.value,
    }
    return all(values.get(key) == wanted for key, wanted in criteria.items())


def matching(
    subscriptions: Sequence[PackageSubscription],
    package: AppPackage,
    notification: PackageNotificationType,
) -> list[PackageSubscription]:
    """Subscriptions that receive this notification about this package."""
    kind = NOTIFIED_BY[notification]
    return [s for s in subscriptions if s.subscription_type is kind and s.wants(package)]
