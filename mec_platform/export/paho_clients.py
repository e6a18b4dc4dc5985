"""The exporter's two MQTT sessions (paho-mqtt), built but not yet connected.

Local session (the box's broker): MQTT 5 so that the exporter can announce a Receive Maximum.
Under 3.1.1 Mosquitto keeps at most `max_inflight_messages` (20 by default) unacknowledged
messages in flight to a client, and the exporter acknowledges only after a disk commit, so
every commit would carry at most 20 messages. A never-expiring session without clean start is
the 5.0 spelling of clean_session=False: while the exporter is down or its queue is full, the
broker keeps the messages. Subscriptions ask for the original retain flag (retain as
published) and for retained messages only when the subscription is new, so a reconnect does
not resend every retained announcement.

Upstream session: MQTT 3.1.1, which every broker speaks, clean_session=False, at most
`window` QoS 1 messages in flight; paho resends the unacknowledged ones, in order, after a
reconnect. TLS (mqtts://) verifies the broker against the system CAs, or only against
MEC_EXPORT_CA_FILE when that is set.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from mec_platform.export.model import ExportSettings

NEVER_EXPIRES = 0xFFFFFFFF


@dataclass(frozen=True)
class LocalBroker:
    """The box's broker and the exporter's account on it."""

    host: str
    port: int
    username: str | None
    password: str | None = field(default=None, repr=False)
    client_id: str = "umec-export"


@dataclass(frozen=True)
class Timing:
    """Batching, reconnect back-off and keep-alive of the exporter."""

    batch_size: int = 500
    batch_wait: float = 0.02
    receive_maximum: int = 1000
    local_retry: tuple[float, float] = (0.2, 2.0)
    upstream_retry: tuple[float, float] = (0.2, 10.0)
    keepalive: int = 30
    status_every: float = 1.0
    stop_grace: float = 2.0


class RecordingClient(mqtt.Client):
    """A paho client that remembers why its last connection attempt failed.

    paho's reconnect loop swallows the OSError of a failed attempt (refused, unreachable,
    TLS handshake); the status should say which it was.
    """

    connect_error: str | None = None

    def reconnect(self) -> MQTTErrorCode:
        try:
            return super().reconnect()
        except OSError as exc:
            self.connect_error = f"{type(exc).__name__}: {exc}"[:300]
            raise


def local_client(broker: LocalBroker, timing: Timing) -> RecordingClient:
    """The session on the box's broker; messages wait for an explicit acknowledgement."""
    client = RecordingClient(
        CallbackAPIVersion.VERSION2,
        client_id=broker.client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=True,
    )
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password)
    _retry(client, timing.local_retry)
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = NEVER_EXPIRES
    properties.ReceiveMaximum = timing.receive_maximum
    client.connect_async(
        broker.host,
        broker.port,
        keepalive=timing.keepalive,
        clean_start=False,
        properties=properties,
    )
    return client


def subscriptions(topics: tuple[str, ...]) -> list[tuple[str, SubscribeOptions]]:
    """QoS 1 subscriptions to the export topics."""
    options = SubscribeOptions(
        qos=1, retainAsPublished=True, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB
    )
    return [(topic, options) for topic in topics]


def upstream_client(settings: ExportSettings, timing: Timing) -> RecordingClient:
    """The session on the upstream broker."""
    upstream = settings.upstream
    client = RecordingClient(
        CallbackAPIVersion.VERSION2,
        client_id=settings.client_id,
        clean_session=False,
        protocol=mqtt.MQTTv311,
    )
    if upstream.username is not None:
        client.username_pw_set(upstream.username, upstream.password)
    if upstream.tls:
        client.tls_set_context(ssl.create_default_context(cafile=settings.ca_file))
    client.max_inflight_messages_set(settings.window)
    _retry(client, timing.upstream_retry)
    client.connect_async(upstream.host, upstream.port, keepalive=timing.keepalive)
    return client


def _retry(client: mqtt.Client, delays: tuple[float, float]) -> None:
    # paho's annotation says int, its arithmetic takes fractions of a second as well.
    client.reconnect_delay_set(delays[0], delays[1])  # type: ignore[arg-type]
