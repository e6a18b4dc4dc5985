"""The transports this platform itself provides to service-producing applications."""

from __future__ import annotations

from mec_platform.registry.model import TransportInfo

REST_HTTP_ID = "rest-http"
MQTT_ID = "mqtt"


def platform_transports(api_root: str, mqtt_host: str, mqtt_port: int) -> tuple[TransportInfo, ...]:
    """REST over the platform's HTTP server and topic-based messaging over its MQTT broker."""
    return (
        TransportInfo(
            id=REST_HTTP_ID,
            name="REST over HTTP",
            description="HTTP/1.1 REST APIs served next to the MEC platform APIs",
            type="REST_HTTP",
            protocol="HTTP",
            version="1.1",
            endpoint={"uris": [api_root]},
            security={},
        ),
        TransportInfo(
            id=MQTT_ID,
            name="MQTT broker",
            description="Topic-based messaging through the box's MQTT broker",
            type="MB_TOPIC_BASED",
            protocol="MQTT",
            version="3.1.1",
            endpoint={"addresses": [{"host": mqtt_host, "port": mqtt_port}]},
            security={},
        ),
    )
