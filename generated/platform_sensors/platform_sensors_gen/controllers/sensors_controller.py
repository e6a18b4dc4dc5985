import flask
from typing import Dict
from typing import Tuple
from typing import Union

from platform_sensors_gen.models.problem_details import ProblemDetails  # noqa: E501
from platform_sensors_gen.models.sensor_info import SensorInfo  # noqa: E501
from platform_sensors_gen.models.sensor_reading import SensorReading  # noqa: E501
from platform_sensors_gen.models.sensor_state import SensorState  # noqa: E501
from platform_sensors_gen import util


def sensor_delete(sensor_id, quantity):  # noqa: E501
    """Forget a sensor stream

    Drops the stream and its history and withdraws its MEC 011 service; subscribers of that service are told it is gone. Use it for a sensor taken away for good. A sensor that reports this quantity again comes back as a new stream.  # noqa: E501

    :param sensor_id: The sensor, as it names itself in its MQTT topics.
    :type sensor_id: str
    :param quantity: The quantity the sensor measures, as named in its MQTT topic.
    :type quantity: str

    :rtype: Union[None, Tuple[None, int], Tuple[None, int, Dict[str, str]]
    """
    return 'do some magic!'


def sensor_get(sensor_id, quantity):  # noqa: E501
    """Read one sensor stream

    The stream with its latest value, state and the MEC 011 service offering it. # noqa: E501

    :param sensor_id: The sensor, as it names itself in its MQTT topics.
    :type sensor_id: str
    :param quantity: The quantity the sensor measures, as named in its MQTT topic.
    :type quantity: str

    :rtype: Union[SensorInfo, Tuple[SensorInfo, int], Tuple[SensorInfo, int, Dict[str, str]]
    """
    return 'do some magic!'


def sensor_readings_get(sensor_id, quantity, since=None, until=None, limit=None):  # noqa: E501
    """Read a stream&#39;s history

    The stored values of the stream, newest first, at most &#x60;limit&#x60; of them. The platform keeps a bounded number of values per stream; older ones are gone. &#x60;since&#x60; and &#x60;until&#x60; bound the time of the values, both inclusive; &#x60;since&#x60; after &#x60;until&#x60; is &#x60;400&#x60;.  # noqa: E501

    :param sensor_id: The sensor, as it names itself in its MQTT topics.
    :type sensor_id: str
    :param quantity: The quantity the sensor measures, as named in its MQTT topic.
    :type quantity: str
    :param since: Only values measured at or after this time.
    :type since: str
    :param until: Only values measured at or before this time.
    :type until: str
    :param limit: How many values at most, the newest first.
    :type limit: int

    :rtype: Union[List[SensorReading], Tuple[List[SensorReading], int], Tuple[List[SensorReading], int, Dict[str, str]]
    """
    since = util.deserialize_datetime(since)
    until = util.deserialize_datetime(until)
    return 'do some magic!'


def sensors_get(sensor_id=None, quantity=None, state=None):  # noqa: E501
    """List sensor streams

    Every stream (one sensor, one quantity) with its latest value, sorted by &#x60;sensorId&#x60; then &#x60;quantity&#x60;. The query parameters narrow the list; given together, a stream must match all of them. No match is &#x60;200&#x60; with an empty array.  # noqa: E501

    :param sensor_id: Only the streams of this sensor.
    :type sensor_id: str
    :param quantity: Only the streams of this quantity, whichever sensor reports it.
    :type quantity: str
    :param state: Only the streams in this state.
    :type state: dict | bytes

    :rtype: Union[List[SensorInfo], Tuple[List[SensorInfo], int], Tuple[List[SensorInfo], int, Dict[str, str]]
    """
    if flask.request.is_json:
        state =  SensorState.from_dict(flask.request.get_json())  # noqa: E501
    return 'do some magic!'
