"""Package management use cases: create, upload (verify, load the image, onboard), enable or
disable, delete, and package subscriptions with their notifications.

Onboarding happens inside the upload request: the archive, its signature, the AppD and the
image checksum are checked before anything is kept, so a bad package is refused with a 4xx
and leaves neither files, images nor a changed record behind.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from mec_platform.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, PlatformError
from mec_platform.lifecycle.ports import LifecycleUnitOfWork, LifecycleUnitOfWorkFactory
from mec_platform.lifecycle.runtime import ContainerRuntime, ContainerRuntimeError, ImageNotFound
from mec_platform.notifications.model import NewMessage
from mec_platform.packages.archive import PackageContents
from mec_platform.packages.model import (
    AppPackage,
    OnboardedContent,
    OnboardingState,
    PackageNotificationType,
    PackageOperationalState,
    PackageRequest,
    PackageSubscription,
    PackageSubscriptionType,
    UsageState,
    matching,
)
from mec_platform.packages.ports import PackageVerifier
from mec_platform.packages.urls import PackageUrls
from mec_platform.packages.wire import notification_to_wire
from mec_platform.registry.access import check_callback_uri
from mec_platform.registry.model import JsonObject
from mec_platform.registry.ports import Clock, IdGenerator

log = logging.getLogger("mec_platform.packages")

SHA256_NAMES = frozenset({"sha-256", "sha256"})


@dataclass(frozen=True)
class PackageOptions:
    """Where packages live and what is accepted."""

    store: Path
    max_upload_bytes: int


def find_package(uow: LifecycleUnitOfWork, key: str) -> AppPackage:
    """The package addressed by appDId (onboarded) or by its id, or NotFound."""
    package = uow.packages.by_app_d_id(key) or uow.packages.get(key)
    if package is None:
        raise NotFound(f"appDId: no application package '{key[:200]}'")
    return package


class PackageCatalog:
    """The onboarded application packages of this MEC host."""

    def __init__(
        self,
        uows: LifecycleUnitOfWorkFactory,
        runtime: ContainerRuntime,
        verifier: PackageVerifier,
        urls: PackageUrls,
        options: PackageOptions,
        clock: Clock,
        new_id: IdGenerator,
        notify_worker: Callable[[], None] = lambda: None,
    ) -> None:
        self._uows = uows
        self._runtime = runtime
        self._verifier = verifier
        self._urls = urls
        self._options = options
        self._clock = clock
        self._new_id = new_id
        self._notify_worker = notify_worker

    # -- packages ---------------------------------------------------------------------------
    def create(self, request: PackageRequest, owner: str | None) -> AppPackage:
        """A new package resource in state CREATED, waiting for its content."""
        if request.checksum_algorithm.lower() not in SHA256_NAMES:
            raise InvalidInput("checksum.algorithm: only SHA-256 is supported")
        _check_hex(request.checksum_hash, "checksum.hash")
        package = AppPackage(
            app_pkg_id=self._new_id(),
            request=request,
            onboarding_state=OnboardingState.CREATED,
            operational_state=PackageOperationalState.DISABLED,
            usage_state=UsageState.NOT_IN_USE,
            created_at=self._clock(),
            owner=owner,
        )
        with self._uows(write=True) as uow:
            uow.packages.add(package)
            uow.commit()
        return package

    def get(self, key: str) -> AppPackage:
        """One package by appDId or id."""
        with self._uows() as uow:
            return find_package(uow, key)

    def all(self) -> list[AppPackage]:
        """Every package, oldest first."""
        with self._uows() as uow:
            return sorted(uow.packages.all(), key=lambda p: p.created_at)

    def appd(self, key: str) -> JsonObject:
        """The AppD of an onboarded package."""
        return _content_of(self.get(key)).appd

    def content_file(self, key: str) -> Path:
        """The stored package file of an onboarded package."""
        package = self.get(key)
        _content_of(package)
        path = self._package_dir(package.app_pkg_id) / "package.zip"
        if not path.is_file():
            raise NotFound(f"appDId: the content of package '{key[:200]}' is not stored")
        return path

    def upload(self, key: str, body: bytes) -> AppPackage:
        """Take the package content, check everything and onboard it (ONBOARDED, ENABLED)."""
        if len(body) > self._options.max_upload_bytes:
            raise PayloadTooLarge(
                f"package_content: {len(body)} bytes is more than the "
                f"{self._options.max_upload_bytes} bytes this platform accepts"
            )
        package = self._start_upload(key)
        workdir = self._package_dir(package.app_pkg_id)
        try:
            onboarded = self._onboard(package, body, workdir)
        except BaseException as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            self._fail_upload(package, exc)
            raise
        return onboarded

    def _start_upload(self, key: str) -> AppPackage:
        with self._uows(write=True) as uow:
            package = find_package(uow, key)
            if package.onboarding_state is not OnboardingState.CREATED:
                raise Conflict(
                    f"onboardingState: package '{package.app_pkg_id}' is "
                    f"{package.onboarding_state.value}; content is accepted only once, in CREATED"
                )
            package = replace(package, onboarding_state=OnboardingState.UPLOADING, failure=None)
            uow.packages.update(package)
            uow.commit()
        return package

    def _onboard(self, package: AppPackage, body: bytes, workdir: Path) -> AppPackage:
        digest = hashlib.sha256(body).hexdigest()
        if digest != package.request.checksum_hash.lower():
            raise InvalidInput(
                f"checksum: the uploaded content has SHA-256 {digest}, not the "
                f"{package.request.checksum_hash} given when the package was created"
            )
        workdir.mkdir(parents=True, exist_ok=True)
        archive = workdir / "package.zip"
        archive.write_bytes(body)
        verified = self._verifier.open(archive, workdir / "unpacked")
        contents = verified.contents
        with self._uows() as uow:
            _check_app_d_id_free(uow, contents.appd.app_d_id, package.app_pkg_id)
        image_id = self._image_of(contents)
        content = OnboardedContent(
            app_d_id=contents.appd.app_d_id,
            app_name=contents.appd.app_name,
            app_provider=contents.appd.app_provider,
            app_soft_version=contents.appd.app_soft_version,
            app_d_version=contents.appd.app_d_version,
            appd=contents.appd.document,
            content_sha256=contents.sha256,
            signer=verified.signer,
            image_reference=contents.appd.image.reference or image_id,
            image_id=image_id,
            artifacts=_manifest_lines(contents.manifest, contents.artifacts),
        )
        onboarded = replace(
            package,
            onboarding_state=OnboardingState.ONBOARDED,
            operational_state=PackageOperationalState.ENABLED,
            content=content,
            failure=None,
        )
        with self._uows(write=True) as uow:
            _check_app_d_id_free(uow, content.app_d_id, package.app_pkg_id)
            uow.packages.update(onboarded)
            queued = self._notify(uow, onboarded, PackageNotificationType.ONBOARDED)
            uow.commit()
        if queued:
            self._notify_worker()
        shutil.rmtree(workdir / "unpacked", ignore_errors=True)
        log.info(
            "package onboarded",
            extra={"app_pkg_id": package.app_pkg_id, "app_d_id": content.app_d_id},
        )
        return onboarded

    def _image_of(self, contents: PackageContents) -> str:
        image = contents.appd.image
        if contents.image_file is not None:
            return self._runtime.load_image(contents.image_file).image_id
        assert image.reference is not None
        try:
            found = self._runtime.image(image.reference)
        except ImageNotFound as exc:
            raise InvalidInput(
                f"swImageDescriptor.swImage: image '{image.reference}' is not in this host's "
                "Podman image store and the package holds no image archive"
            ) from exc
        if found.image_id.removeprefix("sha256:") != image.checksum_hash.lower():
            raise InvalidInput(
                f"swImageDescriptor.checksum: local image '{image.reference}' has id "
                f"{found.image_id}, not {image.checksum_hash}"
            )
        return found.image_id

    def _fail_upload(self, package: AppPackage, exc: BaseException) -> None:
        detail = exc.detail if isinstance(exc, PlatformError) else "onboarding failed unexpectedly"
        status = 400 if isinstance(exc, InvalidInput) else 500
        if isinstance(exc, ContainerRuntimeError):
            status = 503
        failure: JsonObject = {"title": "Onboarding failed", "status": status, "detail": detail}
        try:
            with self._uows(write=True) as uow:
                current = uow.packages.get(package.app_pkg_id)
                if current is not None:
                    uow.packages.update(
                        replace(current, onboarding_state=OnboardingState.CREATED, failure=failure)
                    )
                    uow.commit()
        except PlatformError:
            log.exception("could not record an onboarding failure")

    def change_state(self, key: str, state: PackageOperationalState) -> AppPackage:
        """PATCH operationalState: ENABLED or DISABLED (onboarded packages only)."""
        with self._uows(write=True) as uow:
            package = find_package(uow, key)
            _content_of(package)
            if package.operational_state is state:
                raise Conflict(f"operationalState: package '{key[:200]}' is {state.value} already")
            package = replace(package, operational_state=state)
            uow.packages.update(package)
            kind = (
                PackageNotificationType.ENABLED
                if state is PackageOperationalState.ENABLED
                else PackageNotificationType.DISABLED
            )
            queued = self._notify(uow, package, kind)
            uow.commit()
        if queued:
            self._notify_worker()
        return package

    def delete(self, key: str) -> None:
        """Remove a package that no app instance uses (an onboarded one must be DISABLED)."""
        with self._uows(write=True) as uow:
            package = find_package(uow, key)
            users = uow.lcm_instances.count_for_package(package.app_pkg_id)
            if users:
                raise Conflict(
                    f"usageState: package '{key[:200]}' is IN_USE by {users} app instance(s); "
                    "delete them first"
                )
            if package.operational_state is PackageOperationalState.ENABLED:
                raise Conflict(
                    f"operationalState: package '{key[:200]}' is ENABLED; disable it first "
                    "(PATCH operationalState DISABLED)"
                )
            uow.packages.remove(package.app_pkg_id)
            queued = self._notify(uow, package, PackageNotificationType.DELETED)
            image_shared = _image_used_by_others(uow, package)
            uow.commit()
        if queued:
            self._notify_worker()
        shutil.rmtree(self._package_dir(package.app_pkg_id), ignore_errors=True)
        if not image_shared:
            self._forget_image(package)

    def _forget_image(self, package: AppPackage) -> None:
        content = package.content
        if (
            content is None
            or content.image_id is None
            or content.image_reference != content.image_id
        ):
            return  # a local reference belongs to whoever put it there
        try:
            self._runtime.remove_image(content.image_id)
        except ContainerRuntimeError as exc:
            log.warning("image of a deleted package kept", extra={"detail": exc.detail})

    def _package_dir(self, app_pkg_id: str) -> Path:
        return self._options.store / app_pkg_id

    # -- subscriptions ----------------------------------------------------------------------
    def subscribe(
        self,
        subscription_type: PackageSubscriptionType,
        callback_uri: str,
        filters: Sequence[JsonObject],
        owner: str | None,
    ) -> PackageSubscription:
        """A new AppPkgSubscription."""
        subscription = PackageSubscription(
            subscription_id=self._new_id(),
            subscription_type=subscription_type,
            callback_uri=check_callback_uri(callback_uri),
            filters=tuple(filters),
            owner=owner,
            created_at=self._clock(),
        )
        with self._uows(write=True) as uow:
            uow.package_subscriptions.add(subscription)
            uow.commit()
        return subscription

    def subscriptions(self) -> list[PackageSubscription]:
        """Every package subscription."""
        with self._uows() as uow:
            return uow.package_subscriptions.all()

    def subscription(self, subscription_id: str) -> PackageSubscription:
        """One package subscription."""
        with self._uows() as uow:
            found = uow.package_subscriptions.get(subscription_id)
        if found is None:
            raise NotFound(f"subscriptionId: no subscription '{subscription_id[:200]}'")
        return found

    def unsubscribe(self, subscription_id: str) -> None:
        """End a subscription; undelivered notifications go with it."""
        with self._uows(write=True) as uow:
            if uow.package_subscriptions.get(subscription_id) is None:
                raise NotFound(f"subscriptionId: no subscription '{subscription_id[:200]}'")
            uow.package_subscriptions.remove(subscription_id)
            uow.outbox.drop_for_subscription(subscription_id, self._clock())
            uow.commit()

    def _notify(
        self, uow: LifecycleUnitOfWork, package: AppPackage, kind: PackageNotificationType
    ) -> bool:
        now = self._clock()
        event = self._new_id()  # copies of one notification share its id
        messages = [
            NewMessage(
                sub.subscription_id,
                sub.callback_uri,
                notification_to_wire(event, kind, sub, package, now, self._urls),
            )
            for sub in matching(uow.package_subscriptions.all(), package, kind)
        ]
        if messages:
            uow.outbox.enqueue(messages, now)
        return bool(messages)


def _manifest_lines(manifest: bytes, paths: tuple[str, ...]) -> tuple[str, ...]:
    # The artifacts as their manifest lines ("sha256  path"): AppPkgInfo reports each one's
    # checksum beside its path.
    wanted = set(paths)
    lines = manifest.decode("utf-8").splitlines()
    return tuple(line for line in lines if line.partition("  ")[2] in wanted)


def _image_used_by_others(uow: LifecycleUnitOfWork, package: AppPackage) -> bool:
    # Two packages may carry the same image (another version of the AppD, say): it stays
    # until the last of them goes.
    image = package.content.image_id if package.content else None
    return image is not None and any(
        other.content is not None and other.content.image_id == image
        for other in uow.packages.all()
        if other.app_pkg_id != package.app_pkg_id
    )


def _content_of(package: AppPackage) -> OnboardedContent:
    if package.content is None or package.onboarding_state is not OnboardingState.ONBOARDED:
        raise Conflict(
            f"onboardingState: package '{package.app_pkg_id}' is "
            f"{package.onboarding_state.value}, not ONBOARDED"
        )
    return package.content


def _check_app_d_id_free(uow: LifecycleUnitOfWork, app_d_id: str, app_pkg_id: str) -> None:
    other = uow.packages.by_app_d_id(app_d_id)
    if other is not None and other.app_pkg_id != app_pkg_id:
        raise Conflict(f"appDId: package '{other.app_pkg_id}' is onboarded with appDId {app_d_id}")
    if uow.packages.get(app_d_id) is not None and app_d_id != app_pkg_id:
        raise Conflict(f"appDId: '{app_d_id}' is the id of another package")


def _check_hex(value: str, field: str) -> None:
    if len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise InvalidInput(f"{field}: must be a SHA-256 digest (64 hex digits)")
