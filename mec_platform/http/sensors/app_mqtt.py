"""Application MQTT access handlers: issue, show and revoke an app instance's credentials.

The policy point has already checked that the caller may act on `appInstanceId` (an app
instance on itself, an app provider on the instances it owns).
"""

from __future__ import annotations

from mec_platform.http.responses import RawResponse, Response, no_content, ok
from mec_platform.sensors.app_mqtt import AppMqtt
from mec_platform.sensors.urls import SensorUrls
from mec_platform.sensors.wire import mqtt_configuration_to_wire


def app_mqtt_credentials_post(
    app_instance_id: str, *, app_mqtt: AppMqtt, sensor_urls: SensorUrls
) -> Response:
    """POST /applications/{appInstanceId}/mqtt_credentials: a new password, shown once."""
    configuration = app_mqtt.issue_credentials(app_instance_id)
    # The password is shown this once: no cache may keep it.
    headers = {
        "Location": sensor_urls.mqtt_configuration(app_instance_id),
        "Cache-Control": "no-store",
    }
    return ok(mqtt_configuration_to_wire(configuration), 201, **headers)


def app_mqtt_credentials_delete(app_instance_id: str, *, app_mqtt: AppMqtt) -> RawResponse:
    """DELETE /applications/{appInstanceId}/mqtt_credentials."""
    app_mqtt.revoke(app_instance_id)
    return no_content()


def app_mqtt_configuration_get(app_instance_id: str, *, app_mqtt: AppMqtt) -> Response:
    """GET /applications/{appInstanceId}/mqtt_configuration: no password."""
    return ok(mqtt_configuration_to_wire(app_mqtt.configuration(app_instance_id)))
