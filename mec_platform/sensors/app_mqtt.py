"""MQTT access of applications: credentials issued per app instance, topics derived from the
sensor services the app declared as required, revoked with the app.

An app may read and write under `apps/<appInstanceId>/#` and read the sensor topics it
requires: each required service whose serName is a sensor topic (`sensors/<id>/<quantity>`,
MQTT wildcards `+` and a final `#` allowed) grants reading that topic filter. The broker's
password and ACL files are rendered from these records by the broker process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from mec_platform.errors import InvalidInput, NotFound
from mec_platform.mqtt.accounts import app_tree, hash_password, new_password
from mec_platform.registry.model import AppInstance
from mec_platform.registry.ports import Clock
from mec_platform.sensors.model import MqttConfiguration
from mec_platform.sensors.ports import SensorsUnitOfWorkFactory, StoredAccount
from mec_platform.sensors.topics import valid_id

log = logging.getLogger("mec_platform.sensors")

APP_KIND = "app"
DEVICE_KIND = "device"
OPERATOR_KIND = "operator"


def usable_username(app_instance_id: str) -> str:
    """An app instance id that can name an MQTT account and a topic level."""
    if any(c in app_instance_id for c in "+#/\0") or app_instance_id.startswith("$"):
        raise InvalidInput(
            f"appInstanceId: '{app_instance_id[:80]}' cannot be an MQTT topic level "
            "(it holds '+', '#', '/' or starts with '$'); no MQTT access can be issued"
        )
    return app_instance_id


def sensor_filter(ser_name: str) -> str | None:
    """The topic filter a required serName grants, or None when it names no sensor topic."""
    levels = ser_name.split("/")
    if len(levels) != 3 or levels[0] != "sensors":
        return None
    sensor, quantity = levels[1], levels[2]
    if sensor != "+" and not valid_id(sensor):
        return None
    if quantity not in ("+", "#") and not valid_id(quantity):
        return None
    return ser_name


def required_topics(ser_names: Iterable[str]) -> tuple[str, ...]:
    """The sensor topic filters among required serNames, sorted, without repeats."""
    return tuple(sorted({t for t in (sensor_filter(name) for name in ser_names) if t}))


def app_read_topics(app: AppInstance | None, account: StoredAccount) -> tuple[str, ...]:
    """What the app declared (registration or AppD at instantiation), as sensor topics."""
    declared = [d.ser_name for d in app.info.services_required] if app and app.info else []
    return required_topics([*declared, *account.read_topics])


class AppMqtt:
    """Issues, shows and revokes applications' MQTT credentials."""

    def __init__(
        self,
        uows: SensorsUnitOfWorkFactory,
        clock: Clock,
        endpoint: tuple[str, int],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._uows = uows
        self._clock = clock
        self._endpoint = endpoint
        # Told after every change: the broker process renders its files anew.
        self._on_change = on_change

    def issue_credentials(
        self,
        app_instance_id: str,
        declared: Sequence[str] = (),
        host: str | None = None,
    ) -> MqttConfiguration:
        """A fresh password (the previous one stops working) and the topics it opens."""
        username = usable_username(app_instance_id)
        password = new_password()
        with self._uows(write=True) as uow:
            if uow.apps.get(username) is None:
                raise NotFound(f"appInstanceId: no application instance '{app_instance_id}'")
            # A new password keeps what the AppD declared at instantiation unless told anew.
            previous = uow.mqtt_accounts.get(username)
            kept = previous.read_topics if previous and previous.kind == APP_KIND else ()
            topics = required_topics(declared) if declared else kept
            account = StoredAccount(username, APP_KIND, hash_password(password), topics)
            uow.mqtt_accounts.put(account, self._clock())
            read = app_read_topics(uow.apps.get(username), account)
            uow.commit()
        self._on_change()
        return self._configuration(username, password, read, host)

    def configuration(self, app_instance_id: str) -> MqttConfiguration:
        """The app's MQTT endpoint, user name and topics (never the password)."""
        with self._uows() as uow:
            account = uow.mqtt_accounts.get(app_instance_id)
            if account is None or account.kind != APP_KIND:
                raise NotFound(
                    f"appInstanceId: no MQTT credentials were issued to '{app_instance_id}'"
                )
            read = app_read_topics(uow.apps.get(app_instance_id), account)
        return self._configuration(app_instance_id, None, read, None)

    def revoke(self, app_instance_id: str) -> None:
        """Withdraw the app's MQTT access; the broker drops it at once."""
        with self._uows(write=True) as uow:
            account = uow.mqtt_accounts.get(app_instance_id)
            if account is None or account.kind != APP_KIND:
                raise NotFound(
                    f"appInstanceId: no MQTT credentials were issued to '{app_instance_id}'"
                )
            uow.mqtt_accounts.remove(app_instance_id)
            uow.commit()
        self._on_change()

    def _configuration(
        self, username: str, password: str | None, read: tuple[str, ...], host: str | None
    ) -> MqttConfiguration:
        return MqttConfiguration(
            host=host or self._endpoint[0],
            port=self._endpoint[1],
            username=username,
            password=password,
            read_topics=read,
            read_write_topics=(app_tree(username),),
        )


def declared_in_appd(appd: Mapping[str, Any]) -> list[str]:
    """The serNames an AppD lists under appServiceRequired."""
    required = appd.get("appServiceRequired")
    if not isinstance(required, list):
        return []
    return [
        str(item["serName"])
        for item in required
        if isinstance(item, dict) and isinstance(item.get("serName"), str)
    ]


def container_environment(
    app_mqtt: AppMqtt, host: str
) -> Callable[[str, Mapping[str, Any]], dict[str, str]]:
    """What an app container is told about its MQTT access at instantiation."""

    def environment(app_instance_id: str, appd: Mapping[str, Any]) -> dict[str, str]:
        try:
            config = app_mqtt.issue_credentials(app_instance_id, declared_in_appd(appd), host)
        except InvalidInput as exc:
            log.warning("no MQTT access for app", extra={"detail": exc.detail})
            return {}
        return {
            "MEC_MQTT_HOST": config.host,
            "MEC_MQTT_PORT": str(config.port),
            "MEC_MQTT_USERNAME": config.username,
            "MEC_MQTT_PASSWORD": config.password or "",
            "MEC_MQTT_TOPIC_PREFIX": f"apps/{config.username}/",
            "MEC_MQTT_READ_TOPICS": ",".join(config.read_topics),
        }

    return environment
