"""How a sensor stream appears to the rest of the platform: its MEC 011 service draft."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mec_platform.registry.model import CategoryRef, ServiceDraft, ServiceState, TransportInfo
from mec_platform.sensors.model import sensor_topic
from mec_platform.sensors.urls import SensorUrls

SENSOR_CATEGORY_ID = "sensor"
BRIDGE_APP_NAME = "sensor-bridge"
# The MEC 011 application instance that owns every sensor service: a fixed id, so each bridge
# process (and each restart) finds the same one.
BRIDGE_APP_ID = "umec-sensor-bridge"


# The serName of a stream's service is its MQTT topic: unique and readable.
ser_name_of = sensor_topic


@dataclass(frozen=True)
class ServiceShape:
    """What every sensor service shares: the MQTT transport and the category."""

    mqtt: TransportInfo
    urls: SensorUrls

    def draft(self, sensor_id: str, quantity: str, state: ServiceState) -> ServiceDraft:
        """The service of one stream: MQTT topic plus its REST resources in the transport."""
        sensor_uri = self.urls.sensor(sensor_id, quantity)
        transport = replace(
            self.mqtt,
            impl_specific_info={
                "topic": ser_name_of(sensor_id, quantity),
                "restUri": sensor_uri,
                "readingsUri": self.urls.readings(sensor_id, quantity),
            },
        )
        return ServiceDraft(
            ser_name=ser_name_of(sensor_id, quantity),
            version="1.0",
            state=state,
            serializer="JSON",
            ser_category=CategoryRef(
                href=f"{self.urls.root}/sensors",
                id=SENSOR_CATEGORY_ID,
                name="sensor",
                version="1.0",
            ),
            transport_info=transport,
        )
