"""The accounts of the box's MQTT broker as the database holds them, turned into what the
broker enforces; and the operator's commands for device and operator accounts.

App accounts count only while their app instance exists and holds OAuth2 client credentials:
every way an app loses its platform access (removal, deregistration, termination) thereby
closes its MQTT access too, at the broker's next rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mec_platform.errors import Conflict, InvalidInput, NotFound
from mec_platform.mqtt.accounts import (
    AclRule,
    MqttAccount,
    app_account,
    check_topic_filter,
    device_account,
    hash_password,
    new_password,
)
from mec_platform.mqtt.system_credentials import SYSTEM_USERS
from mec_platform.registry.ports import Clock
from mec_platform.sensors.app_mqtt import (
    APP_KIND,
    DEVICE_KIND,
    OPERATOR_KIND,
    app_read_topics,
)
from mec_platform.sensors.ports import SensorsUnitOfWork, SensorsUnitOfWorkFactory, StoredAccount
from mec_platform.sensors.topics import valid_id

SYSTEM_NAMES = frozenset(SYSTEM_USERS)


def enforced_accounts(uow: SensorsUnitOfWork) -> list[MqttAccount]:
    """The stored accounts the broker should accept now, with their topic rights."""
    accounts: list[MqttAccount] = []
    for stored in uow.mqtt_accounts.all():
        if stored.kind == APP_KIND:
            app = uow.apps.get(stored.username)
            if app is None or uow.clients.for_app(stored.username) is None:
                continue
            read = app_read_topics(app, stored)
            accounts.append(app_account(stored.username, stored.password_hash, read))
        elif stored.kind == DEVICE_KIND:
            accounts.append(device_account(stored.username, stored.password_hash))
        elif stored.kind == OPERATOR_KIND:
            accounts.append(operator_account(stored))
    return accounts


def operator_account(stored: StoredAccount) -> MqttAccount:
    """An operator's account: exactly the filters it was given, read and write apart."""
    rules = (
        *(AclRule("read", topic) for topic in stored.read_topics),
        *(AclRule("write", topic) for topic in stored.write_topics),
    )
    return MqttAccount(stored.username, stored.password_hash, rules)


def _check_filter(topic: str, option: str) -> str:
    try:
        return check_topic_filter(topic)
    except InvalidInput:
        raise InvalidInput(f"{option}: '{topic[:80]}' is not an MQTT topic filter") from None


class MqttAccounts:
    """Device and operator accounts, managed by the platform's operator."""

    def __init__(
        self, uows: SensorsUnitOfWorkFactory, clock: Clock, on_change: Callable[[], None]
    ) -> None:
        self._uows = uows
        self._clock = clock
        self._on_change = on_change

    def add_device(self, sensor_id: str) -> str:
        """An account a sensor publishes with (to `sensors/<id>/#` only); its password."""
        if not valid_id(sensor_id):
            raise InvalidInput(f"sensorId: '{sensor_id[:80]}' is not a valid sensor id")
        return self._add(StoredAccount(sensor_id, DEVICE_KIND, "", ()))

    def add_operator(
        self, name: str, read_topics: Sequence[str], write_topics: Sequence[str] = ()
    ) -> str:
        """An account with the topic filters it is given (dashboards, diagnostics, gateways
        publishing for many sensors); its password."""
        if not valid_id(name):
            raise InvalidInput(f"name: '{name[:80]}' is not a valid account name")
        if not read_topics and not write_topics:
            raise InvalidInput("--read/--write: give at least one topic filter")
        read = tuple(_check_filter(topic, "--read") for topic in read_topics)
        write = tuple(_check_filter(topic, "--write") for topic in write_topics)
        return self._add(StoredAccount(name, OPERATOR_KIND, "", read, write))

    def _add(self, account: StoredAccount) -> str:
        if account.username in SYSTEM_NAMES:
            raise Conflict(f"name: '{account.username}' is reserved for the platform")
        password = new_password()
        with self._uows(write=True) as uow:
            existing = uow.mqtt_accounts.get(account.username)
            if existing is not None and existing.kind != account.kind:
                raise Conflict(
                    f"name: '{account.username}' is already an account of kind {existing.kind}"
                )
            stored = StoredAccount(
                account.username,
                account.kind,
                hash_password(password),
                account.read_topics,
                account.write_topics,
            )
            uow.mqtt_accounts.put(stored, self._clock())
            uow.commit()
        self._on_change()
        return password

    def remove(self, name: str) -> None:
        """Delete a device or operator account; the broker drops it at once."""
        with self._uows(write=True) as uow:
            existing = uow.mqtt_accounts.get(name)
            if existing is None or existing.kind == APP_KIND:
                raise NotFound(f"name: no device or operator account '{name}'")
            uow.mqtt_accounts.remove(name)
            uow.commit()
        self._on_change()

    def list(self) -> list[StoredAccount]:
        """Every stored account (hashes included; callers show names and kinds)."""
        with self._uows() as uow:
            return uow.mqtt_accounts.all()
