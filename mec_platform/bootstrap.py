"""Composition root: Settings -> adapters -> services. Nothing here runs at import time."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine

from mec_platform.appsupport.ports import AppSupportUnitOfWork
from mec_platform.appsupport.rules import TrafficRule
from mec_platform.appsupport.rules_service import AppRules
from mec_platform.appsupport.service import AppSupport, AppSupportOptions
from mec_platform.appsupport.subscriptions import TerminationSubscriptions
from mec_platform.appsupport.urls import AppSupportUrls
from mec_platform.auth.audit_file import JsonLinesAuditLog
from mec_platform.auth.credentials import AppCredentials
from mec_platform.auth.jwt_keys import KeyRing
from mec_platform.auth.jwt_tokens import JwtSigner, JwtVerifier
from mec_platform.auth.model import origin_of
from mec_platform.auth.openssh_files import OpenSshFiles
from mec_platform.auth.service import Authenticator, TokenOptions
from mec_platform.auth.sshsig import SshSigVerifier
from mec_platform.auth.users import Users
from mec_platform.config import Settings
from mec_platform.errors import Conflict
from mec_platform.export.model import ExportStatus
from mec_platform.export.status import read_export_status
from mec_platform.iot.model import local_platform
from mec_platform.iot.service import IotRegistry, record_sensor_device
from mec_platform.lifecycle.deferred_runtime import podman_runtime
from mec_platform.lifecycle.notify import LcmNotifier
from mec_platform.lifecycle.ports import LifecycleUnitOfWork
from mec_platform.lifecycle.runtime import ContainerRuntime, ContainerRuntimeError, HostResources
from mec_platform.lifecycle.service import Lifecycle, LifecycleHooks
from mec_platform.lifecycle.urls import LifecycleUrls
from mec_platform.notifications.wakeup import WakeupSender, wakeup_path
from mec_platform.packages.service import PackageCatalog, PackageOptions
from mec_platform.packages.urls import PackageUrls
from mec_platform.packages.verifier import SignedPackageVerifier
from mec_platform.registry.liveness import LivenessPolicy
from mec_platform.registry.ports import Clock, IdGenerator
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.transports import MQTT_ID, platform_transports
from mec_platform.registry.urls import ResourceUrls
from mec_platform.sensors.app_mqtt import AppMqtt
from mec_platform.sensors.ingest import IngestOptions, SensorIngest
from mec_platform.sensors.mqtt_accounts import MqttAccounts
from mec_platform.sensors.service import SensorCatalog
from mec_platform.sensors.streams import ServiceShape
from mec_platform.sensors.urls import SensorUrls
from mec_platform.storage.engine import make_engine
from mec_platform.storage.health import database_problem
from mec_platform.storage.migrate import upgrade
from mec_platform.storage.uow import SqlUnitOfWorkFactory
from mec_platform.storage.version import SqlRegistryVersion
from mec_platform.timing.service import TimingService
from mec_platform.timing.timedatectl import DetectedSource


def new_uuid() -> str:
    """A random UUID as text: the platform's identifier format."""
    return str(uuid.uuid4())


@dataclass
class Auth:
    """Identities, tokens and the audit log of one process."""

    keys: KeyRing
    verifier: JwtVerifier
    authenticator: Authenticator
    users: Users
    credentials: AppCredentials
    audit: JsonLinesAuditLog

    def owner_of(self, uows: SqlUnitOfWorkFactory) -> Callable[[str], tuple[bool, str | None]]:
        """(exists, owner) of an application instance, read from the database."""

        def read(app_instance_id: str) -> tuple[bool, str | None]:
            with uows() as uow:
                return uow.apps.owner_of(app_instance_id)

        return read


def build_auth(settings: Settings, uows: SqlUnitOfWorkFactory, clock: Clock) -> Auth:
    """Signing keys (created on first start), token issuing and checking, users, audit."""
    keys = KeyRing(settings.keys_dir)
    keys.ensure_key()
    audit = JsonLinesAuditLog(settings.audit_log)
    options = TokenOptions(
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl=settings.token_ttl,
        requests_per_window=settings.token_rate[0],
        window=settings.token_rate[1],
        failures_per_window=settings.auth_failure_rate[0],
        login_origins=frozenset(
            origin_of(url) for url in (settings.api_root, *settings.login_origins)
        ),
    )
    authenticator = Authenticator(uows, JwtSigner(keys), SshSigVerifier(), audit, clock, options)
    maintenance = OpenSshFiles(settings.ssh_dir, settings.maintenance_accounts)
    return Auth(
        keys,
        JwtVerifier(keys, settings.token_audience, settings.token_issuer, clock=clock),
        authenticator,
        Users(uows, maintenance, clock),
        AppCredentials(uows, clock),
        audit,
    )


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
    app_urls: AppSupportUrls
    apps: AppSupport
    rules: AppRules
    termination_subscriptions: TerminationSubscriptions
    dataplane_wakeup: WakeupSender
    timing: TimingService
    auth: Auth
    runtime: ContainerRuntime
    packages: PackageCatalog
    lifecycle: Lifecycle
    lifecycle_wakeup: WakeupSender
    lcm_notifier: LcmNotifier
    sensors: SensorCatalog
    sensor_ingest: SensorIngest
    app_mqtt: AppMqtt
    mqtt_accounts: MqttAccounts
    mqtt_wakeup: WakeupSender
    export_status: Callable[[], list[ExportStatus]]
    iot: IotRegistry

    def readiness_problem(self) -> str | None:
        """None when the process can serve requests, else why not."""
        return database_problem(self.engine)

    def close(self) -> None:
        """Release database connections and sockets."""
        self.version.dispose()
        self.wakeup.close()
        self.dataplane_wakeup.close()
        self.lifecycle_wakeup.close()
        self.mqtt_wakeup.close()
        self.engine.dispose()


def traffic_rule_check(settings: Settings) -> Callable[[Sequence[TrafficRule]], None]:
    """Refuses ACTIVE traffic rules when this host runs no packet filter."""

    def check(rules: Sequence[TrafficRule]) -> None:
        if rules and not (settings.dataplane and settings.traffic_rules_enabled):
            raise Conflict(
                "state: traffic rules cannot take effect on this MEC host because its packet "
                "filter is switched off (MEC_DATAPLANE / MEC_TRAFFIC_RULES); keep it INACTIVE"
            )

    return check


class CachedHost:
    """The runtime's host resources, asked once; None while the runtime does not answer."""

    def __init__(self, runtime: ContainerRuntime) -> None:
        self._runtime = runtime
        self._known: HostResources | None = None

    def __call__(self) -> HostResources | None:
        if self._known is None:
            try:
                self._known = self._runtime.host_resources()
            except ContainerRuntimeError:
                return None
        return self._known


def sensor_parts(
    settings: Settings,
    uows: SqlUnitOfWorkFactory,
    registry: ServiceRegistry,
    clock: Clock,
    new_id: IdGenerator,
) -> tuple[
    SensorCatalog,
    SensorIngest,
    AppMqtt,
    MqttAccounts,
    WakeupSender,
    Callable[[], list[ExportStatus]],
]:
    """The sensors context: API use cases, the bridge's ingest, MQTT accounts, export status."""
    mqtt_wakeup = WakeupSender(wakeup_path(settings.database_url, "mqtt"))
    urls = SensorUrls(settings.api_root)
    mqtt = next(t for t in registry.list_transports() if t.id == MQTT_ID)
    ingest = SensorIngest(
        uows,
        registry,
        ServiceShape(mqtt, urls),
        urls,
        clock,
        IngestOptions(settings.sensors.silence_interval, settings.sensors.history),
        record_device=record_sensor_device,
    )
    data_dir = settings.data_dir
    return (
        SensorCatalog(uows, registry, clock, new_id, on_forget=mqtt_wakeup),
        ingest,
        AppMqtt(uows, clock, (settings.mqtt_host, settings.mqtt_port), on_change=mqtt_wakeup),
        MqttAccounts(uows, clock, on_change=mqtt_wakeup),
        mqtt_wakeup,
        lambda: read_export_status(data_dir),
    )


def _is_lifecycle_instance(uow: AppSupportUnitOfWork, app_instance_id: str) -> bool:
    # The SQL unit of work holds every repository; the lifecycle's instances among them.
    return cast(LifecycleUnitOfWork, uow).lcm_instances.get(app_instance_id) is not None


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
        require_ready=settings.require_ready,
    )
    app_urls = AppSupportUrls(settings.api_root)
    dataplane_wakeup = WakeupSender(wakeup_path(settings.database_url, "dataplane"))
    check = traffic_rule_check(settings)
    auth = build_auth(settings, uows, clock)
    apps = AppSupport(
        uows,
        registry,
        app_urls,
        clock,
        new_id,
        AppSupportOptions(default_graceful_timeout=settings.graceful_timeout),
        notify_dataplane=dataplane_wakeup,
        check_rules=check,
        credentials=auth.credentials,
        keeps_record=_is_lifecycle_instance,
    )
    rules = AppRules(uows, notify_dataplane=dataplane_wakeup, check_rules=check)
    subscriptions = TerminationSubscriptions(uows, clock, new_id)
    runtime = podman_runtime(settings.podman_api_url)
    lifecycle_wakeup = WakeupSender(wakeup_path(settings.database_url, "lifecycle"))
    packages = PackageCatalog(
        uows,
        runtime,
        SignedPackageVerifier(settings.package_trusted_keys),
        PackageUrls(settings.api_root),
        PackageOptions(store=settings.packages_dir, max_upload_bytes=settings.max_package_bytes),
        clock,
        new_id,
        notify_worker=wakeup,
    )
    notifier = LcmNotifier(LifecycleUrls(settings.api_root), clock, new_id)
    lifecycle = Lifecycle(
        uows,
        registry,
        auth.credentials,
        notifier,
        clock,
        new_id,
        LifecycleHooks(lifecycle=lifecycle_wakeup, worker=wakeup, dataplane=dataplane_wakeup),
        host=CachedHost(runtime),
        traffic_rules_enforced=settings.dataplane and settings.traffic_rules_enabled,
    )
    return Platform(
        settings,
        engine,
        uows,
        urls,
        registry,
        clock,
        version,
        wakeup,
        app_urls,
        apps,
        rules,
        subscriptions,
        dataplane_wakeup,
        TimingService(DetectedSource(settings.chrony_socket)),
        auth,
        runtime,
        packages,
        lifecycle,
        lifecycle_wakeup,
        notifier,
        *sensor_parts(settings, uows, registry, clock, new_id),
        IotRegistry(uows, clock, local_platform(settings.mqtt_host, settings.mqtt_port)),
    )
