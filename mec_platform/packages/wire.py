"""AppPkgInfo, AppPkgSubscriptionInfo and AppPkgNotification as JSON (MEC 010-2 clause 6.2.3)."""

from __future__ import annotations

from typing import Any

from mec_platform.packages.model import (
    AppPackage,
    PackageNotificationType,
    PackageSubscription,
)
from mec_platform.packages.urls import PackageUrls
from mec_platform.registry.wire import timestamp


def package_key(package: AppPackage) -> str:
    """The path segment that addresses a package: appDId once onboarded, else its id."""
    return package.app_d_id or package.app_pkg_id


def package_to_wire(package: AppPackage, urls: PackageUrls) -> dict[str, Any]:
    """AppPkgInfo."""
    content = package.content
    key = package_key(package)
    body: dict[str, Any] = {
        "id": package.app_pkg_id,
        "checksum": {
            "algorithm": package.request.checksum_algorithm,
            "hash": package.request.checksum_hash,
        },
        "onboardingState": package.onboarding_state.value,
        "operationalState": package.operational_state.value,
        "usageState": package.usage_state.value,
        "userDefinedData": dict(package.request.user_defined_data),
        "_links": {
            "self": {"href": urls.package(key)},
            "appD": {"href": urls.appd(key)},
            "appPkgContent": {"href": urls.content(key)},
        },
    }
    if content is not None:
        # What the AppD says is known only once the content was onboarded.
        body.update(
            {
                "appDId": content.app_d_id,
                "appName": content.app_name,
                "appSoftwareVersion": content.app_soft_version,
                "appDVersion": content.app_d_version,
                "softwareImages": _software_images(package),
                "mecInfo": _mec_versions(package),
            }
        )
    provider = content.app_provider if content else package.request.provider
    if provider:
        body["appProvider"] = provider
    if content is not None:
        body["signingCertificate"] = content.signer
        body["additionalArtifacts"] = [
            {"artifactPath": path, "checksum": {"algorithm": "SHA-256", "hash": digest}}
            for path, digest in _artifact_pairs(content.artifacts)
        ]
    if package.failure is not None:
        body["onboardingFailureDetails"] = dict(package.failure)
    return body


def _software_images(package: AppPackage) -> list[dict[str, Any]]:
    content = package.content
    if content is None:
        return []
    images = content.appd.get("swImageDescriptor")
    if not isinstance(images, list):
        return []
    described = [dict(image) for image in images if isinstance(image, dict)]
    for image in described:
        if content.image_id:
            image["imageId"] = content.image_id
    return described


def _mec_versions(package: AppPackage) -> list[str]:
    if package.content is None:
        return []
    versions = package.content.appd.get("mecVersion")
    if isinstance(versions, list):
        return [str(v) for v in versions]
    return [str(versions)] if versions else []


def _artifact_pairs(artifacts: tuple[str, ...]) -> list[tuple[str, str]]:
    # Stored as "sha256  path" lines of the package manifest.
    pairs = []
    for line in artifacts:
        digest, _, path = line.partition("  ")
        pairs.append((path, digest))
    return pairs


def subscription_to_wire(subscription: PackageSubscription, urls: PackageUrls) -> dict[str, Any]:
    """AppPkgSubscriptionInfo."""
    body: dict[str, Any] = {
        "id": subscription.subscription_id,
        "subscriptionType": subscription.subscription_type.value,
        "callbackUri": subscription.callback_uri,
        "_links": {"self": {"href": urls.subscription(subscription.subscription_id)}},
    }
    if subscription.filters:
        body["appPkgFilter"] = [dict(f) for f in subscription.filters]
    return body


def notification_to_wire(
    notification_id: str,
    kind: PackageNotificationType,
    subscription: PackageSubscription,
    package: AppPackage,
    now: float,
    urls: PackageUrls,
) -> dict[str, Any]:
    """AppPkgNotification."""
    return {
        "id": notification_id,
        "notificationType": kind.value,
        "subscriptionId": subscription.subscription_id,
        "timeStamp": timestamp(now),
        "appPkgId": package.app_pkg_id,
        "appDId": package.app_d_id or package.app_pkg_id,
        "operationalState": package.operational_state.value,
        "_links": {
            "subscription": {"href": urls.subscription(subscription.subscription_id)},
        },
    }
