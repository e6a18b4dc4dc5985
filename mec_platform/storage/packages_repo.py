"""SQLAlchemy repositories of package management: application packages (the AppD and what
onboarding learned kept as JSON beside the columns queries filter on) and their subscriptions."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Insert, Row, Update, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from mec_platform.errors import Conflict
from mec_platform.packages.model import (
    AppPackage,
    OnboardedContent,
    OnboardingState,
    PackageOperationalState,
    PackageRequest,
    PackageSubscription,
    PackageSubscriptionType,
    UsageState,
)
from mec_platform.storage.json_columns import dumps, maybe_dumps, maybe_loads
from mec_platform.storage.tables import app_packages, package_subscriptions

_CONTENT_COLUMNS = (
    "app_d_id",
    "app_name",
    "app_provider",
    "app_soft_version",
    "app_d_version",
    "appd",
    "content_sha256",
    "signer",
    "image_reference",
    "image_id",
    "artifacts",
)


def _content_values(content: OnboardedContent | None) -> dict[str, Any]:
    # Every content column is written, so a package without content has them all NULL.
    if content is None:
        return dict.fromkeys(_CONTENT_COLUMNS)
    return {
        "app_d_id": content.app_d_id,
        "app_name": content.app_name,
        "app_provider": content.app_provider,
        "app_soft_version": content.app_soft_version,
        "app_d_version": content.app_d_version,
        "appd": dumps(content.appd),
        "content_sha256": content.content_sha256,
        "signer": content.signer,
        "image_reference": content.image_reference,
        "image_id": content.image_id,
        "artifacts": dumps(list(content.artifacts)),
    }


def _package_values(package: AppPackage) -> dict[str, Any]:
    request = package.request
    return {
        "name": request.name,
        "version": request.version,
        "provider": request.provider,
        "checksum_algorithm": request.checksum_algorithm,
        "checksum_hash": request.checksum_hash,
        "path": request.path,
        "user_defined_data": dumps(request.user_defined_data),
        "onboarding_state": package.onboarding_state.value,
        "operational_state": package.operational_state.value,
        "usage_state": package.usage_state.value,
        **_content_values(package.content),
        "failure": maybe_dumps(package.failure),
        "owner": package.owner,
    }


def _content_of(row: Row[Any]) -> OnboardedContent | None:
    if row.app_d_id is None:
        return None
    return OnboardedContent(
        app_d_id=row.app_d_id,
        app_name=row.app_name,
        app_provider=row.app_provider,
        app_soft_version=row.app_soft_version,
        app_d_version=row.app_d_version,
        appd=json.loads(row.appd),
        content_sha256=row.content_sha256,
        signer=row.signer,
        image_reference=row.image_reference,
        image_id=row.image_id,
        artifacts=tuple(json.loads(row.artifacts)),
    )


def _package_of(row: Row[Any]) -> AppPackage:
    request = PackageRequest(
        name=row.name,
        version=row.version,
        provider=row.provider,
        checksum_algorithm=row.checksum_algorithm,
        checksum_hash=row.checksum_hash,
        path=row.path,
        user_defined_data=json.loads(row.user_defined_data),
    )
    return AppPackage(
        app_pkg_id=row.app_pkg_id,
        request=request,
        onboarding_state=OnboardingState(row.onboarding_state),
        operational_state=PackageOperationalState(row.operational_state),
        usage_state=UsageState(row.usage_state),
        created_at=row.created_at,
        owner=row.owner,
        content=_content_of(row),
        failure=maybe_loads(row.failure),
    )


class SqlPackageRepository:
    """Application packages in `app_packages`; an appDId belongs to one package at most."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, package: AppPackage) -> None:
        values = _package_values(package)
        statement = insert(app_packages).values(
            app_pkg_id=package.app_pkg_id, created_at=package.created_at, **values
        )
        self._write(statement, package)

    def get(self, app_pkg_id: str) -> AppPackage | None:
        row = self._conn.execute(
            select(app_packages).where(app_packages.c.app_pkg_id == app_pkg_id)
        ).first()
        return _package_of(row) if row else None

    def by_app_d_id(self, app_d_id: str) -> AppPackage | None:
        row = self._conn.execute(
            select(app_packages).where(app_packages.c.app_d_id == app_d_id)
        ).first()
        return _package_of(row) if row else None

    def all(self) -> list[AppPackage]:
        c = app_packages.c
        rows = self._conn.execute(select(app_packages).order_by(c.created_at, c.app_pkg_id))
        return [_package_of(row) for row in rows]

    def update(self, package: AppPackage) -> None:
        statement = (
            update(app_packages)
            .where(app_packages.c.app_pkg_id == package.app_pkg_id)
            .values(**_package_values(package))
        )
        self._write(statement, package)

    def remove(self, app_pkg_id: str) -> None:
        self._conn.execute(delete(app_packages).where(app_packages.c.app_pkg_id == app_pkg_id))

    def _write(self, statement: Insert | Update, package: AppPackage) -> None:
        app_d_id = package.app_d_id
        if app_d_id is not None:
            self._refuse_taken(app_d_id, package.app_pkg_id)
        try:
            # A savepoint keeps the transaction usable on PostgreSQL after the violation.
            with self._conn.begin_nested():
                self._conn.execute(statement)
        except IntegrityError:
            # Taken by a transaction that committed after the check above (PostgreSQL).
            if app_d_id is not None:
                self._refuse_taken(app_d_id, package.app_pkg_id)
            raise

    def _refuse_taken(self, app_d_id: str, app_pkg_id: str) -> None:
        c = app_packages.c
        taken = select(c.app_pkg_id).where(c.app_d_id == app_d_id, c.app_pkg_id != app_pkg_id)
        if self._conn.execute(taken).first() is not None:
            raise Conflict(
                f"appDId: an onboarded package with appDId '{app_d_id[:200]}' exists already"
            )


def _package_subscription_of(row: Row[Any]) -> PackageSubscription:
    return PackageSubscription(
        subscription_id=row.subscription_id,
        subscription_type=PackageSubscriptionType(row.subscription_type),
        callback_uri=row.callback_uri,
        filters=tuple(json.loads(row.filters)),
        owner=row.owner,
        created_at=row.created_at,
    )


class SqlPackageSubscriptionRepository:
    """AppPkgSubscriptions in `package_subscriptions`."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, subscription: PackageSubscription) -> None:
        self._conn.execute(
            insert(package_subscriptions).values(
                subscription_id=subscription.subscription_id,
                subscription_type=subscription.subscription_type.value,
                callback_uri=subscription.callback_uri,
                filters=dumps(list(subscription.filters)),
                owner=subscription.owner,
                created_at=subscription.created_at,
            )
        )

    def get(self, subscription_id: str) -> PackageSubscription | None:
        t = package_subscriptions
        row = self._conn.execute(select(t).where(t.c.subscription_id == subscription_id)).first()
        return _package_subscription_of(row) if row else None

    def all(self) -> list[PackageSubscription]:
        t = package_subscriptions
        rows = self._conn.execute(select(t).order_by(t.c.created_at, t.c.subscription_id))
        return [_package_subscription_of(row) for row in rows]

    def remove(self, subscription_id: str) -> None:
        t = package_subscriptions
        self._conn.execute(delete(t).where(t.c.subscription_id == subscription_id))


# -- instances ------------------------------------------------------------------------------
