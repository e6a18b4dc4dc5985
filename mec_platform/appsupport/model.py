"""Domain model of Application Support: registrations, readiness and graceful termination."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JsonObject = Mapping[str, Any]


class AppState(StrEnum):
    """Whether an application instance confirmed it is running.

    A graceful stop or termination in progress is kept beside the state (`Termination`), so
    a ready application's services stay visible until the operation completes.
    """

    INSTANTIATED = "INSTANTIATED"  # known to the platform, not yet confirmed ready
    READY = "READY"  # the application confirmed it is up and running


class OperationAction(StrEnum):
    """Operation announced in an AppTerminationNotification (MEC 011 clause 7.1.4.2)."""

    STOPPING = "STOPPING"
    TERMINATING = "TERMINATING"


@dataclass(frozen=True)
class ServiceDependency:
    """A service the application needs (or would like) to find on the platform."""

    ser_name: str
    version: str
    ser_category_id: str | None = None
    transport_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeatureDependency:
    """A platform feature the application needs."""

    feature_name: str
    version: str


@dataclass(frozen=True)
class AppInfo:
    """What an application registered about itself (MEC 011 clause 7.1.2.6).

    `document` keeps the whole AppInfo as registered (without `appInstanceId`), so GET
    returns exactly what was sent; the parsed parts are the ones the platform acts on.
    """

    app_name: str
    document: JsonObject = field(default_factory=dict)
    services_required: tuple[ServiceDependency, ...] = ()
    features_required: tuple[FeatureDependency, ...] = ()
    is_ins_by_mec: bool = False


@dataclass(frozen=True)
class Termination:
    """A graceful stop or termination in progress."""

    action: OperationAction
    deadline: float
    max_graceful_timeout: int


@dataclass(frozen=True)
class TerminationSubscription:
    """An AppTerminationNotificationSubscription of one application instance."""

    subscription_id: str
    app_instance_id: str
    callback_reference: str


@dataclass(frozen=True)
class PlatformFeature:
    """A feature this platform offers, matched against `appFeatureRequired`."""

    name: str
    version: str


# What µMEC offers to applications that list `appFeatureRequired` (MEC 011 v3.1.1 APIs and
# the enforcement behind them).
PLATFORM_FEATURES = (
    PlatformFeature("ServiceManagement", "3.1.1"),
    PlatformFeature("ApplicationSupport", "3.1.1"),
    PlatformFeature("ServiceLiveness", "3.1.1"),
    PlatformFeature("DnsRules", "3.1.1"),
    PlatformFeature("TrafficRules", "3.1.1"),
    PlatformFeature("Timing", "3.1.1"),
)
