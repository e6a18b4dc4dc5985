"""SQLAlchemy repositories of the sensors context: streams, readings, threshold
subscriptions and MQTT accounts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mec_platform.sensors.model import (
    Reading,
    SensorState,
    SensorStream,
    SensorSubscription,
    ThresholdCriteria,
)
from mec_platform.sensors.ports import Latest, StoredAccount
from mec_platform.storage.counters import bump
from mec_platform.storage.tables import (
    counters,
    mqtt_accounts,
    sensor_readings,
    sensor_streams,
    sensor_subscriptions,
)


def _stream_of(row: Row[Any]) -> SensorStream:
    return SensorStream(
        sensor_id=row.sensor_id,
        quantity=row.quantity,
        unit=row.unit,
        value=row.value,
        time=row.time,
        state=SensorState(row.state),
        ser_instance_id=row.ser_instance_id,
        silence_interval=row.silence_interval,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


def _stream_key(sensor_id: str, quantity: str) -> Any:
    return and_(sensor_streams.c.sensor_id == sensor_id, sensor_streams.c.quantity == quantity)


class SqlSensorStreamRepository:
    """Streams in `sensor_streams`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, sensor_id: str, quantity: str) -> SensorStream | None:
        row = self._conn.execute(
            select(sensor_streams).where(_stream_key(sensor_id, quantity))
        ).first()
        return None if row is None else _stream_of(row)

    def query(
        self, sensor_id: str | None, quantity: str | None, state: SensorState | None
    ) -> list[SensorStream]:
        statement = select(sensor_streams).order_by(
            sensor_streams.c.sensor_id, sensor_streams.c.quantity
        )
        if sensor_id is not None:
            statement = statement.where(sensor_streams.c.sensor_id == sensor_id)
        if quantity is not None:
            statement = statement.where(sensor_streams.c.quantity == quantity)
        if state is not None:
            statement = statement.where(sensor_streams.c.state == state.value)
        return [_stream_of(row) for row in self._conn.execute(statement)]

    def add(self, stream: SensorStream) -> None:
        self._conn.execute(
            insert(sensor_streams).values(
                sensor_id=stream.sensor_id,
                quantity=stream.quantity,
                unit=stream.unit,
                value=stream.value,
                time=stream.time,
                state=stream.state.value,
                ser_instance_id=stream.ser_instance_id,
                silence_interval=stream.silence_interval,
                first_seen=stream.first_seen,
                last_seen=stream.last_seen,
            )
        )

    def record_latest(self, rows: Sequence[Latest]) -> int:
        if not rows:
            return 0
        statement = (
            update(sensor_streams)
            .where(
                sensor_streams.c.sensor_id == bindparam("k_sensor"),
                sensor_streams.c.quantity == bindparam("k_quantity"),
            )
            .values(
                value=bindparam("v_value"),
                unit=bindparam("v_unit"),
                time=bindparam("v_time"),
                last_seen=bindparam("v_seen"),
            )
        )
        result = self._conn.execute(
            statement,
            [
                {
                    "k_sensor": row.sensor_id,
                    "k_quantity": row.quantity,
                    "v_value": row.value,
                    "v_unit": row.unit,
                    "v_time": row.time,
                    "v_seen": row.last_seen,
                }
                for row in rows
            ],
        )
        return int(result.rowcount)

    def set_state(self, sensor_id: str, quantity: str, state: SensorState) -> None:
        self._conn.execute(
            update(sensor_streams).where(_stream_key(sensor_id, quantity)).values(state=state.value)
        )

    def remove(self, sensor_id: str, quantity: str) -> None:
        self._conn.execute(delete(sensor_streams).where(_stream_key(sensor_id, quantity)))

    def silent(self, now: float) -> list[SensorStream]:
        statement = select(sensor_streams).where(
            sensor_streams.c.state == SensorState.ACTIVE.value,
            sensor_streams.c.last_seen + sensor_streams.c.silence_interval < now,
        )
        return [_stream_of(row) for row in self._conn.execute(statement)]


def _reading_of(row: Row[Any]) -> Reading:
    return Reading(quantity=row.quantity, value=row.value, unit=row.unit, time=row.time)


def _readings_key(sensor_id: str, quantity: str) -> Any:
    return and_(sensor_readings.c.sensor_id == sensor_id, sensor_readings.c.quantity == quantity)


class SqlReadingRepository:
    """Readings in `sensor_readings`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        dialect = conn.dialect.name
        base = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # RETURNING counts the rows really inserted (executemany rowcounts are not reliable
        # across drivers); a reading already stored returns nothing.
        self._insert = (
            base(sensor_readings).on_conflict_do_nothing().returning(sensor_readings.c.id)
        )

    def add_many(self, rows: Sequence[tuple[str, Reading]]) -> int:
        if not rows:
            return 0
        result = self._conn.execute(
            self._insert.execution_options(),
            [
                {
                    "sensor_id": sensor_id,
                    "quantity": reading.quantity,
                    "value": reading.value,
                    "unit": reading.unit,
                    "time": reading.time,
                }
                for sensor_id, reading in rows
            ],
        )
        return len(result.all())

    def window(
        self, sensor_id: str, quantity: str, since: float | None, until: float | None, limit: int
    ) -> list[Reading]:
        statement = select(sensor_readings).where(_readings_key(sensor_id, quantity))
        if since is not None:
            statement = statement.where(sensor_readings.c.time >= since)
        if until is not None:
            statement = statement.where(sensor_readings.c.time <= until)
        statement = statement.order_by(sensor_readings.c.time.desc()).limit(limit)
        return [_reading_of(row) for row in self._conn.execute(statement)]

    def prune(self, sensor_id: str, quantity: str, keep: int) -> int:
        cutoff = self._conn.execute(
            select(sensor_readings.c.time)
            .where(_readings_key(sensor_id, quantity))
            .order_by(sensor_readings.c.time.desc())
            .offset(keep)
            .limit(1)
        ).scalar()
        if cutoff is None:
            return 0
        result = self._conn.execute(
            delete(sensor_readings).where(
                _readings_key(sensor_id, quantity), sensor_readings.c.time <= cutoff
            )
        )
        return int(result.rowcount)

    def remove_stream(self, sensor_id: str, quantity: str) -> None:
        self._conn.execute(delete(sensor_readings).where(_readings_key(sensor_id, quantity)))


def _subscription_of(row: Row[Any]) -> SensorSubscription:
    return SensorSubscription(
        subscription_id=row.subscription_id,
        owner=row.owner,
        callback_reference=row.callback_uri,
        criteria=ThresholdCriteria(
            sensor_id=row.sensor_id, quantity=row.quantity, above=row.above, below=row.below
        ),
        expiry_deadline=row.expiry_deadline,
    )


class SqlSensorSubscriptionRepository:
    """Threshold subscriptions in `sensor_subscriptions`."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, subscription: SensorSubscription) -> None:
        criteria = subscription.criteria
        self._conn.execute(
            insert(sensor_subscriptions).values(
                subscription_id=subscription.subscription_id,
                owner=subscription.owner,
                callback_uri=subscription.callback_reference,
                sensor_id=criteria.sensor_id,
                quantity=criteria.quantity,
                above=criteria.above,
                below=criteria.below,
                expiry_deadline=subscription.expiry_deadline,
                created_at=self._now,
            )
        )

    def get(self, subscription_id: str) -> SensorSubscription | None:
        row = self._conn.execute(
            select(sensor_subscriptions).where(
                sensor_subscriptions.c.subscription_id == subscription_id
            )
        ).first()
        return None if row is None else _subscription_of(row)

    def of_owner(self, owner: str | None) -> list[SensorSubscription]:
        statement = select(sensor_subscriptions).order_by(sensor_subscriptions.c.created_at)
        if owner is not None:
            statement = statement.where(sensor_subscriptions.c.owner == owner)
        return [_subscription_of(row) for row in self._conn.execute(statement)]

    def list_live(self, now: float) -> list[SensorSubscription]:
        deadline = sensor_subscriptions.c.expiry_deadline
        statement = select(sensor_subscriptions).where(deadline.is_(None) | (deadline > now))
        return [_subscription_of(row) for row in self._conn.execute(statement)]

    def list_expired(self, now: float) -> list[SensorSubscription]:
        deadline = sensor_subscriptions.c.expiry_deadline
        statement = select(sensor_subscriptions).where(deadline.is_not(None), deadline <= now)
        return [_subscription_of(row) for row in self._conn.execute(statement)]

    def remove(self, subscription_id: str) -> None:
        self._conn.execute(
            delete(sensor_subscriptions).where(
                sensor_subscriptions.c.subscription_id == subscription_id
            )
        )


def _account_of(row: Row[Any]) -> StoredAccount:
    return StoredAccount(
        username=row.username,
        kind=row.kind,
        password_hash=row.password_hash,
        read_topics=tuple(json.loads(row.read_topics)),
        write_topics=tuple(json.loads(row.write_topics)),
    )


class SqlMqttAccountRepository:
    """MQTT accounts in `mqtt_accounts`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, username: str) -> StoredAccount | None:
        row = self._conn.execute(
            select(mqtt_accounts).where(mqtt_accounts.c.username == username)
        ).first()
        return None if row is None else _account_of(row)

    def put(self, account: StoredAccount, now: float) -> None:
        self.remove(account.username)
        self._conn.execute(
            insert(mqtt_accounts).values(
                username=account.username,
                kind=account.kind,
                password_hash=account.password_hash,
                read_topics=json.dumps(list(account.read_topics)),
                write_topics=json.dumps(list(account.write_topics)),
                created_at=now,
            )
        )

    def remove(self, username: str) -> bool:
        result = self._conn.execute(
            delete(mqtt_accounts).where(mqtt_accounts.c.username == username)
        )
        return bool(result.rowcount)

    def all(self) -> list[StoredAccount]:
        statement = select(mqtt_accounts).order_by(mqtt_accounts.c.username)
        return [_account_of(row) for row in self._conn.execute(statement)]


SENSOR_COUNTER_PREFIX = "sensor_messages_"


class SqlSensorCounters:
    """The bridge's message totals as `sensor_messages_<outcome>` rows of `counters`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, counts: Mapping[str, int]) -> None:
        for outcome, count in sorted(counts.items()):
            if count:
                bump(self._conn, SENSOR_COUNTER_PREFIX + outcome, count)

    def all(self) -> dict[str, int]:
        rows = self._conn.execute(
            select(counters.c.name, counters.c.value).where(
                counters.c.name.startswith(SENSOR_COUNTER_PREFIX)
            )
        )
        return {name.removeprefix(SENSOR_COUNTER_PREFIX): int(value) for name, value in rows}
