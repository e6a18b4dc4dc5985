"""Use cases of the sensors API: streams, their history and threshold subscriptions."""

from __future__ import annotations

from collections.abc import Callable

from mec_platform.errors import InvalidInput, NotFound
from mec_platform.registry.ports import Clock, IdGenerator
from mec_platform.registry.service import ServiceRegistry
from mec_platform.sensors.model import (
    Reading,
    SensorState,
    SensorStream,
    SensorSubscription,
    ThresholdCriteria,
)
from mec_platform.sensors.ports import SensorsUnitOfWork, SensorsUnitOfWorkFactory

MAX_LIMIT = 10_000


class SensorCatalog:
    """What the REST API offers over the streams the bridge maintains."""

    def __init__(
        self,
        uows: SensorsUnitOfWorkFactory,
        registry: ServiceRegistry,
        clock: Clock,
        new_id: IdGenerator,
        on_forget: Callable[[], None] = lambda: None,
    ) -> None:
        self._uows = uows
        self._registry = registry
        self._clock = clock
        self._new_id = new_id
        # Told after a stream was forgotten (the broker's ACLs name sensor topics).
        self._on_forget = on_forget

    # -- streams ---------------------------------------------------------------------------
    def list_sensors(
        self, sensor_id: str | None, quantity: str | None, state: SensorState | None
    ) -> list[SensorStream]:
        """Every stream matching the given attributes (all when none given)."""
        with self._uows() as uow:
            return uow.sensor_streams.query(sensor_id, quantity, state)

    def get_sensor(self, sensor_id: str, quantity: str) -> SensorStream:
        """One stream with its latest value."""
        with self._uows() as uow:
            return _stream(uow, sensor_id, quantity)

    def readings(
        self,
        sensor_id: str,
        quantity: str,
        since: float | None,
        until: float | None,
        limit: int,
    ) -> list[Reading]:
        """A stream's stored readings within [since, until], newest first."""
        if since is not None and until is not None and since > until:
            raise InvalidInput("since: lies after until")
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit: must lie between 1 and {MAX_LIMIT}")
        with self._uows() as uow:
            _stream(uow, sensor_id, quantity)
            return uow.sensor_readings.window(sensor_id, quantity, since, until, limit)

    def forget_sensor(self, sensor_id: str, quantity: str) -> None:
        """Drop a stream, its history and its service (it returns if the sensor talks again)."""
        now = self._clock()
        with self._uows(write=True) as uow:
            stream = _stream(uow, sensor_id, quantity)
            queued = False
            if stream.ser_instance_id is not None:
                service = uow.services.get(stream.ser_instance_id)
                if service is not None:
                    queued = self._registry.withdraw_service(uow, service, now)
            uow.sensor_readings.remove_stream(sensor_id, quantity)
            uow.sensor_streams.remove(sensor_id, quantity)
            uow.commit()
        self._registry.after_commit(queued)
        self._on_forget()

    # -- threshold subscriptions -----------------------------------------------------------
    def subscribe(
        self,
        owner: str,
        callback_reference: str,
        criteria: ThresholdCriteria,
        expiry_deadline: float | None,
    ) -> SensorSubscription:
        """Watch streams for threshold crossings."""
        if criteria.above is None and criteria.below is None:
            raise InvalidInput("criteria: give above, below or both")
        if expiry_deadline is not None and expiry_deadline <= self._clock():
            raise InvalidInput("expiryDeadline: lies in the past")
        subscription = SensorSubscription(
            subscription_id=self._new_id(),
            owner=owner,
            callback_reference=callback_reference,
            criteria=criteria,
            expiry_deadline=expiry_deadline,
        )
        with self._uows(write=True) as uow:
            uow.sensor_subscriptions.add(subscription)
            uow.commit()
        return subscription

    def list_subscriptions(self, owner: str | None) -> list[SensorSubscription]:
        """The subscriptions of one owner, or all of them."""
        with self._uows() as uow:
            return uow.sensor_subscriptions.of_owner(owner)

    def get_subscription(self, owner: str | None, subscription_id: str) -> SensorSubscription:
        """One subscription of the owner (any owner's when None)."""
        with self._uows() as uow:
            return _subscription(uow, owner, subscription_id)

    def unsubscribe(self, owner: str | None, subscription_id: str) -> None:
        """Delete a subscription and what it still had to send."""
        now = self._clock()
        with self._uows(write=True) as uow:
            _subscription(uow, owner, subscription_id)
            uow.sensor_subscriptions.remove(subscription_id)
            uow.outbox.drop_for_subscription(subscription_id, now)
            uow.commit()


def _stream(uow: SensorsUnitOfWork, sensor_id: str, quantity: str) -> SensorStream:
    stream = uow.sensor_streams.get(sensor_id, quantity)
    if stream is None:
        raise NotFound(f"sensor: no quantity '{quantity}' of sensor '{sensor_id}'")
    return stream


def _subscription(
    uow: SensorsUnitOfWork, owner: str | None, subscription_id: str
) -> SensorSubscription:
    subscription = uow.sensor_subscriptions.get(subscription_id)
    if subscription is None or owner not in (None, subscription.owner):
        raise NotFound(f"subscriptionId: no subscription '{subscription_id}'")
    return subscription
