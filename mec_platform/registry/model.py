"""Domain model of the service registry: plain dataclasses and the rules of ETSI GS MEC 011."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mec_platform.appsupport.model import AppInfo, AppState, Termination
from mec_platform.errors import InvalidInput

JsonObject = Mapping[str, Any]


class ServiceState(StrEnum):
    """State of a MEC service instance (MEC 011 clause 8.1.6.3)."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    SUSPENDED = "SUSPENDED"


class LocalityType(StrEnum):
    """Scope of locality of a service (MEC 011 clause 8.1.6.5)."""

    MEC_SYSTEM = "MEC_SYSTEM"
    MEC_HOST = "MEC_HOST"
    NFVI_POP = "NFVI_POP"
    ZONE = "ZONE"
    ZONE_GROUP = "ZONE_GROUP"
    NFVI_NODE = "NFVI_NODE"


class ChangeType(StrEnum):
    """Kind of change reported in a service availability notification."""

    ADDED = "ADDED"
    REMOVED = "REMOVED"
    STATE_CHANGED = "STATE_CHANGED"
    ATTRIBUTES_CHANGED = "ATTRIBUTES_CHANGED"


def if_match_allows(header: str, etag: str) -> bool:
    """RFC 9110 clause 13.1.1: `*` or a list of tags, compared strongly (weak never match)."""
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or etag in tags


@dataclass(frozen=True)
class AppInstance:
    """A MEC application instance known to the platform.

    `managed` instances were created by the platform (admin command, lifecycle) and outlive
    their registration; the others exist only while registered through the API. `owner` is
    the app provider (user name) it belongs to; None for instances of the platform's admins.
    """

    app_instance_id: str
    name: str
    state: AppState = AppState.INSTANTIATED
    managed: bool = True
    info: AppInfo | None = None
    termination: Termination | None = None
    revision: int = 1
    owner: str | None = None

    @property
    def ready(self) -> bool:
        """True once the application confirmed it is running, until it is stopped."""
        return self.state is AppState.READY

    @property
    def registered(self) -> bool:
        """True while the application has a registration (POST /registrations)."""
        return self.info is not None


@dataclass(frozen=True)
class Actor:
    """Who performs a use case, as far as owning application instances goes.

    An app instance acts for itself only, an app provider for the instances it owns; with
    neither set the platform itself acts (its admins, operator commands), for every instance.
    """

    app_instance_id: str | None = None
    provider: str | None = None

    def may_act_on(self, app: AppInstance) -> bool:
        """True when this actor may change the given application instance."""
        if self.app_instance_id is not None:
            return app.app_instance_id == self.app_instance_id
        if self.provider is not None:
            return app.owner == self.provider
        return True


PLATFORM = Actor()


@dataclass(frozen=True)
class CategoryRef:
    """A service category; two categories are the same when their ids are equal."""

    href: str
    id: str
    name: str
    version: str


@dataclass(frozen=True)
class TransportInfo:
    """How a service is reached; endpoint and security stay opaque JSON documents."""

    id: str
    name: str
    type: str
    protocol: str
    version: str
    endpoint: JsonObject
    security: JsonObject
    description: str | None = None
    impl_specific_info: JsonObject | None = None


@dataclass(frozen=True)
class ServiceDraft:
    """What a producing application submits when it registers or updates a service."""

    ser_name: str
    version: str
    state: ServiceState
    serializer: str
    ser_category: CategoryRef | None = None
    transport_id: str | None = None
    transport_info: TransportInfo | None = None
    scope_of_locality: LocalityType = LocalityType.MEC_HOST
    consumed_local_only: bool = True
    is_local: bool = True
    liveness_interval: int | None = None
    ser_instance_id: str | None = None


@dataclass(frozen=True)
class Service:
    """A registered MEC service instance; `revision` backs its entity tag."""

    ser_instance_id: str
    app_instance_id: str
    ser_name: str
    version: str
    state: ServiceState
    serializer: str
    transport_info: TransportInfo
    ser_category: CategoryRef | None = None
    scope_of_locality: LocalityType = LocalityType.MEC_HOST
    consumed_local_only: bool = True
    is_local: bool = True
    liveness_interval: int | None = None
    last_heartbeat: float | None = None
    revision: int = 1

    @property
    def etag(self) -> str:
        """Strong entity tag of the current representation."""
        return f'"{self.ser_instance_id}.{self.revision}"'

    def matches_if_match(self, header: str) -> bool:
        """True when an If-Match header lets a change of this service through."""
        return if_match_allows(header, self.etag)

    def changes_from(self, before: Service) -> ChangeType:
        """Classify an update for the availability notification."""
        same_but_state = (
            before.ser_name == self.ser_name
            and before.version == self.version
            and before.serializer == self.serializer
            and before.transport_info == self.transport_info
            and before.ser_category == self.ser_category
            and before.scope_of_locality == self.scope_of_locality
            and before.consumed_local_only == self.consumed_local_only
            and before.is_local == self.is_local
            and before.liveness_interval == self.liveness_interval
        )
        return ChangeType.STATE_CHANGED if same_but_state else ChangeType.ATTRIBUTES_CHANGED


@dataclass(frozen=True)
class ServiceQuery:
    """Discovery filters: attributes are ANDed, values within one list are ORed."""

    ser_instance_ids: tuple[str, ...] = ()
    ser_names: tuple[str, ...] = ()
    ser_category_id: str | None = None
    scope_of_locality: LocalityType | None = None
    consumed_local_only: bool | None = None
    is_local: bool | None = None
    app_instance_id: str | None = None
    # Hide services of applications that have not confirmed they are ready (a platform option).
    ready_apps_only: bool = False

    def __post_init__(self) -> None:
        # MEC 011 clause 8.2.3.3.1: the three service selectors are mutually exclusive.
        given = [
            name
            for name, present in (
                ("ser_instance_id", bool(self.ser_instance_ids)),
                ("ser_name", bool(self.ser_names)),
                ("ser_category_id", self.ser_category_id is not None),
            )
            if present
        ]
        if len(given) > 1:
            raise InvalidInput(
                f"query parameters {' and '.join(given)} are mutually exclusive; give only one"
            )

    def matches(self, service: Service) -> bool:
        """The same predicate the repository applies in SQL, for in-memory use."""
        category_id = service.ser_category.id if service.ser_category else None
        checks = (
            not self.ser_instance_ids or service.ser_instance_id in self.ser_instance_ids,
            not self.ser_names or service.ser_name in self.ser_names,
            self.ser_category_id is None or category_id == self.ser_category_id,
            self.scope_of_locality is None or service.scope_of_locality == self.scope_of_locality,
            self.consumed_local_only is None
            or service.consumed_local_only == self.consumed_local_only,
            self.is_local is None or service.is_local == self.is_local,
            self.app_instance_id is None or service.app_instance_id == self.app_instance_id,
        )
        return all(checks)


@dataclass(frozen=True)
class FilteringCriteria:
    """Which services a subscription reports on; an empty criteria matches all services."""

    ser_instance_ids: tuple[str, ...] = ()
    ser_names: tuple[str, ...] = ()
    ser_categories: tuple[CategoryRef, ...] = ()
    states: tuple[ServiceState, ...] = ()
    is_local: bool | None = None

    def __post_init__(self) -> None:
        # MEC 011 clause 8.1.3.2 NOTE: serInstanceIds, serNames, serCategories are alternatives.
        given = [
            name
            for name, values in (
                ("serInstanceIds", self.ser_instance_ids),
                ("serNames", self.ser_names),
                ("serCategories", self.ser_categories),
            )
            if values
        ]
        if len(given) > 1:
            raise InvalidInput(
                f"filteringCriteria: {' and '.join(given)} are mutually exclusive; give only one"
            )

    def matches(self, service: Service) -> bool:
        """True when the service (its state after the change) is selected by these criteria."""
        category_ids = {category.id for category in self.ser_categories}
        service_category = service.ser_category.id if service.ser_category else None
        checks = (
            not self.ser_instance_ids or service.ser_instance_id in self.ser_instance_ids,
            not self.ser_names or service.ser_name in self.ser_names,
            not category_ids or service_category in category_ids,
            not self.states or service.state in self.states,
            self.is_local is None or service.is_local == self.is_local,
        )
        return all(checks)


@dataclass(frozen=True)
class Subscription:
    """A service availability subscription owned by one application instance."""

    subscription_id: str
    app_instance_id: str
    callback_reference: str
    criteria: FilteringCriteria = field(default_factory=FilteringCriteria)
    expiry_deadline: float | None = None

    def expired(self, now: float) -> bool:
        """True once the expiry deadline has passed."""
        return self.expiry_deadline is not None and now >= self.expiry_deadline


@dataclass(frozen=True)
class LivenessInfo:
    """What the liveness resource of a service reports."""

    state: ServiceState
    last_heartbeat: float
    interval: int
