"""Composition root: Settings -> adapters -> services. Nothing here runs at import time."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine

from mec_platform.config import Settings
from mec_platform.notifications.wakeup import WakeupSender, wakeup_path
from mec_platform.registry.liveness import LivenessPolicy
from mec_platform.registry.ports import Clock, IdGenerator
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.transports import platform_transports
from mec_platform.registry.urls import ResourceUrls
from mec_platform.storage.engine import make_engine
from mec_platform.storage.health import database_problem
from mec_platform.storage.migrate import upgrade
from mec_platform.storage.uow import SqlUnitOfWorkFactory
from mec_platform.storage.version import SqlRegistryVersion


def new_uuid() -> str:
    """A random UUID as text: the platform's identifier format."""
    return str(uuid.uuid4())


@dataclass
class Platform:
    """The wired platform of one process."""

    settings: Settings
    engine: Engine
    uows: SqlUnitOfWorkFactory
    urls: ResourceUrls
    registry: ServiceRegistry
    clock: Clock
    version: SqlRegistryVersion
    wakeup: WakeupSender

    def readiness_problem(self) -> str | None:
        """None when the process can serve requests, else why not."""
        return database_problem(self.engine)

    def close(self) -> None:
        """Release database connections and sockets."""
        self.version.dispose()
        self.wakeup.close()
        self.engine.dispose()


def bootstrap(
    settings: Settings,
    *,
    migrate: bool = True,
    clock: Clock = time.time,
    new_id: IdGenerator = new_uuid,
) -> Platform:
    """Build every adapter and service from settings; run migrations unless told not to."""
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    uows = SqlUnitOfWorkFactory(engine, clock)
    urls = ResourceUrls(settings.api_root)
    version = SqlRegistryVersion(engine)
    wakeup = WakeupSender(wakeup_path(settings.database_url))
    registry = ServiceRegistry(
        uows,
        urls,
        platform_transports(settings.api_root, settings.mqtt_host, settings.mqtt_port),
        clock,
        new_id,
        LivenessPolicy(settings.liveness_default_interval, settings.liveness_min_interval),
        notify_worker=wakeup,
        read_version=version,
    )
    return Platform(settings, engine, uows, urls, registry, clock, version, wakeup)
