"""The SQLAlchemy unit of work: one connection and transaction shared by all repositories."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import DataError, DBAPIError, OperationalError

from mec_platform.errors import InvalidInput, StorageUnavailable
from mec_platform.storage.appsupport_repo import (
    SqlDnsRuleRepository,
    SqlTerminationSubscriptionRepository,
    SqlTrafficRuleRepository,
)
from mec_platform.storage.auth_repo import (
    SqlChallengeRepository,
    SqlClientRepository,
    SqlUserRepository,
)
from mec_platform.storage.engine import SQLITE_BEGIN_OPTION, is_sqlite, sqlite_path
from mec_platform.storage.iot_repo import SqlDeviceRepository, SqlIotPlatformRepository
from mec_platform.storage.lifecycle_repo import (
    SqlLcmInstanceRepository,
    SqlLcmSubscriptionRepository,
    SqlOpOccRepository,
)
from mec_platform.storage.outbox_repo import SqlOutboxRepository
from mec_platform.storage.packages_repo import (
    SqlPackageRepository,
    SqlPackageSubscriptionRepository,
)
from mec_platform.storage.registry_repo import (
    SqlAppInstanceRepository,
    SqlServiceRepository,
    SqlSubscriptionRepository,
)
from mec_platform.storage.sensors_repo import (
    SqlMqttAccountRepository,
    SqlReadingRepository,
    SqlSensorCounters,
    SqlSensorStreamRepository,
    SqlSensorSubscriptionRepository,
)
from mec_platform.storage.write_gate import SqliteWriteGate


class SqlUnitOfWork:
    """A transaction over every table of the platform; rolled back unless committed."""

    apps: SqlAppInstanceRepository
    services: SqlServiceRepository
    subscriptions: SqlSubscriptionRepository
    outbox: SqlOutboxRepository
    termination_subscriptions: SqlTerminationSubscriptionRepository
    dns_rules: SqlDnsRuleRepository
    traffic_rules: SqlTrafficRuleRepository
    users: SqlUserRepository
    clients: SqlClientRepository
    challenges: SqlChallengeRepository
    packages: SqlPackageRepository
    package_subscriptions: SqlPackageSubscriptionRepository
    lcm_instances: SqlLcmInstanceRepository
    op_occs: SqlOpOccRepository
    lcm_subscriptions: SqlLcmSubscriptionRepository
    sensor_streams: SqlSensorStreamRepository
    sensor_readings: SqlReadingRepository
    sensor_subscriptions: SqlSensorSubscriptionRepository
    mqtt_accounts: SqlMqttAccountRepository
    sensor_counters: SqlSensorCounters
    iot_devices: SqlDeviceRepository
    iot_platforms: SqlIotPlatformRepository

    def __init__(
        self,
        engine: Engine,
        write: bool,
        clock: Callable[[], float],
        gate: SqliteWriteGate | None = None,
    ) -> None:
        self._engine = engine
        self._write = write
        self._clock = clock
        self._gate = gate if write else None
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None

    def __enter__(self) -> Self:
        if self._gate is not None:
            self._gate.acquire()
        try:
            conn = self._engine.connect()
            if self._write and is_sqlite(self._engine):
                conn = conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            self._conn = conn
            self._tx = conn.begin()
        except (OperationalError, DBAPIError) as exc:
            self._close()
            raise StorageUnavailable("the platform database is not available") from exc
        except BaseException:
            self._close()
            raise
        now = self._clock()
        self.apps = SqlAppInstanceRepository(conn, now)
        self.services = SqlServiceRepository(conn, now)
        self.subscriptions = SqlSubscriptionRepository(conn, now)
        self.outbox = SqlOutboxRepository(conn)
        self.termination_subscriptions = SqlTerminationSubscriptionRepository(conn, now)
        self.dns_rules = SqlDnsRuleRepository(conn, now)
        self.traffic_rules = SqlTrafficRuleRepository(conn, now)
        self.users = SqlUserRepository(conn, now)
        self.clients = SqlClientRepository(conn, now)
        self.challenges = SqlChallengeRepository(conn, now)
        self.packages = SqlPackageRepository(conn, now)
        self.package_subscriptions = SqlPackageSubscriptionRepository(conn, now)
        self.lcm_instances = SqlLcmInstanceRepository(conn, now)
        self.op_occs = SqlOpOccRepository(conn, now)
        self.lcm_subscriptions = SqlLcmSubscriptionRepository(conn, now)
        self.sensor_streams = SqlSensorStreamRepository(conn)
        self.sensor_readings = SqlReadingRepository(conn)
        self.sensor_subscriptions = SqlSensorSubscriptionRepository(conn, now)
        self.mqtt_accounts = SqlMqttAccountRepository(conn)
        self.sensor_counters = SqlSensorCounters(conn)
        self.iot_devices = SqlDeviceRepository(conn)
        self.iot_platforms = SqlIotPlatformRepository(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        finally:
            self._close()
        if isinstance(exc, OperationalError):
            raise StorageUnavailable("the platform database is busy or unavailable") from exc
        if isinstance(exc, DataError | OverflowError):
            # A value the request carried that the database cannot hold (validation is the
            # first line; this keeps a gap in it a 400, never a 500).
            raise InvalidInput("a value in the request is out of the range the platform stores")

    def commit(self) -> None:
        assert self._tx is not None
        self._tx.commit()

    def _close(self) -> None:
        try:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        finally:
            if self._gate is not None:
                self._gate.release()
                self._gate = None


class SqlUnitOfWorkFactory:
    """Opens SqlUnitOfWork instances on one engine."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock
        path = sqlite_path(engine)
        self._gate = SqliteWriteGate(path) if path is not None else None

    def __call__(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write, self._clock, self._gate)
