"""Sensor payloads: MQTT message bodies turned into readings, announcements and status.

A reading payload is one of
1. a plain number (`21.5`, `-3`, `.5`, `1e3`; blanks around it) or `true`/`false` (1.0/0.0);
2. a JSON object of exactly `value` (number or boolean), `unit` and `time` (both optional;
   time in Unix seconds or RFC 3339 with an offset); another key rejects the message, so a
   field the sensor meant is never silently lost;
3. SenML JSON (RFC 8428): records with base fields bn, bt, bu, bv, bs, bver and fields n, u,
   v, vb, s, t. The value is `bv + v`, else `vb` as 1.0/0.0, else `bs + s`; a resolved time
   below 2**28 counts from the receive time; a record of base fields only sets them.
   A record's quantity is the topic's when the name `bn + n` is empty, ends with `/` or `:`,
   or names the publishing sensor (is `sensor_id`, or ends with `/` or `:` and it); else it
   is the name's last segment after `/` or `:` (`th-01/temperature` -> `temperature`,
   `urn:dev:ow:10e2:temp` -> `temp`). The sensor is always the topic's.
   A pack is all or nothing: one record we cannot store (string or data value, unknown
   field ending in `_`, bad name, unit, value or time) rejects the message, so no stored
   reading comes from a half-understood message.
Values are finite and within +-1e15, units SenML symbols (`UNITS`) or None, times within
[2000-01-01, receive time + 1 day]. Rejections raise `PayloadRejected(reason)`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

from mec_platform.sensors.model import Reading
from mec_platform.sensors.topics import valid_id

# The SenML units registry (RFC 8428 clause 12.1, RFC 8798 primary units) and the common
# secondary units of RFC 8798 clause 3.
_UNIT_SYMBOLS = """
    m kg g s A K cd mol Hz rad sr N Pa J W C V F Ohm S Wb T H Cel lm lx Bq Gy Sv kat m2 m3 l
    m/s m/s2 m3/s l/s W/m2 cd/m2 bit bit/s lat lon pH dB dBW Bspl count / % %RH %EL EL
    1/s 1/min beat/min beats S/m B VA VAs var vars J/m kg/m3 deg
    ms min h MHz kW kVA kvar Ah Wh kWh varh kvarh kVAh Wh/km KiB GB Mbit/s B/s MB/s mV mA
    dBm ug/m3 mm/h m/h ppm /100 /1000 hPa mm cm km km/h
"""
UNITS = frozenset(_UNIT_SYMBOLS.split())
MIN_TIME = 946_684_800.0  # 2000-01-01T00:00:00Z
MAX_AHEAD = 86_400.0  # a sensor clock may run a day fast
MAX_MAGNITUDE = 1e15
RELATIVE_BELOW = 2.0**28  # RFC 8428 clause 4.5.3
MAX_SILENCE = 7 * 86_400
MAX_NAME = 256
_BLANKS = " \t\r\n"
# ASCII digits only: float() also takes other scripts' digits, '_' and 'inf'.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_OBJECT_KEYS = frozenset(("value", "unit", "time"))
_BASE_KEYS = frozenset(("bn", "bt", "bu", "bv", "bs", "bver"))
_SENML_KEYS = _BASE_KEYS | {"n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"}
_SEPARATORS = "/:"


class PayloadRejected(Exception):
    """A message the bridge drops; `reason` is a short token such as `bad_json`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PayloadLimits:
    """Largest message and most SenML records (or announced quantities) accepted."""

    max_bytes: int = 16_384
    max_records: int = 256


@dataclass(frozen=True)
class Announcement:
    """A sensor's retained `$announce`: its quantities with their units, silence, name."""

    quantities: dict[str, str | None] = field(default_factory=dict)
    silence_interval: int | None = None
    name: str | None = None


def _reject(reason: str) -> NoReturn:
    raise PayloadRejected(reason)


def parse_payload(
    payload: bytes | bytearray,
    quantity: str,
    received_at: float,
    limits: PayloadLimits,
    sensor_id: str | None = None,
) -> list[Reading]:
    """The readings of one message published to a topic of `quantity` (and `sensor_id`)."""
    text = _text(payload, limits)
    first = text[0]
    if first == "[":
        return _SenmlPack(quantity, sensor_id, received_at, limits).readings(_json(text))
    if first == "{":
        return [_object_reading(_json(text), quantity, received_at)]
    if text == "true" or text == "false":
        return [Reading(quantity, 1.0 if text == "true" else 0.0, None, received_at)]
    if _NUMBER.fullmatch(text) is None:
        _reject("bad_value")
    return [Reading(quantity, _checked(float(text)), None, received_at)]


def parse_announcement(
    payload: bytes | bytearray, limits: PayloadLimits | None = None
) -> Announcement:
    """`{"quantities": {"<q>": {"unit": "Cel"}}, "silenceInterval": 60, "name": "..."}`."""
    limits = limits or PayloadLimits()
    doc = _json(_text(payload, limits))
    if type(doc) is not dict:
        _reject("bad_announcement")
    quantities = doc.get("quantities", {})
    if type(quantities) is not dict or len(quantities) > limits.max_records:
        _reject("bad_announcement")
    units: dict[str, str | None] = {}
    for name, details in quantities.items():
        if not valid_id(name):
            _reject("bad_name")
        if details is not None and type(details) is not dict:
            _reject("bad_announcement")
        units[name] = _unit((details or {}).get("unit"))
    return Announcement(units, _silence(doc.get("silenceInterval")), _display_name(doc.get("name")))


def parse_status(payload: bytes | bytearray) -> bool:
    """True for `online`, False for `offline` (any case, blanks around it)."""
    if len(payload) > 64:
        _reject("too_large")
    word = payload.strip(_BLANKS.encode()).lower()
    if word == b"online":
        return True
    if word == b"offline":
        return False
    _reject("empty" if not word else "bad_status")


def _text(payload: bytes | bytearray, limits: PayloadLimits) -> str:
    if len(payload) > limits.max_bytes:
        _reject("too_large")
    try:
        text = payload.decode("utf-8").strip(_BLANKS)
    except UnicodeDecodeError:
        _reject("not_utf8")
    if not text:
        _reject("empty")
    return text


def _not_finite(_constant: str) -> NoReturn:
    raise PayloadRejected("not_finite")


def _json(text: str) -> Any:
    # Every JSON number becomes a float: no int-to-float overflow, no int digit limit.
    try:
        return json.loads(text, parse_constant=_not_finite, parse_int=float)
    except (ValueError, RecursionError):
        _reject("bad_json")


def _checked(value: float) -> float:
    if not math.isfinite(value):
        _reject("not_finite")
    if abs(value) > MAX_MAGNITUDE:
        _reject("out_of_range")
    return value


def _in_window(time: float, received_at: float) -> float:
    # `not (a <= t <= b)` also catches NaN.
    if not MIN_TIME <= time <= received_at + MAX_AHEAD:
        _reject("bad_time")
    return time


def _unit(unit: Any) -> str | None:
    if unit is None:
        return None
    if type(unit) is not str or unit not in UNITS:
        _reject("unknown_unit")
    return unit


def _rfc3339(text: str) -> float:
    text = text.upper()
    if len(text) < 20 or text[4] != "-" or text[7] != "-" or text[10] not in "T ":
        _reject("bad_time")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _reject("bad_time")
    if moment.tzinfo is None:
        _reject("bad_time")
    return moment.timestamp()


def _object_reading(doc: dict[str, Any], quantity: str, received_at: float) -> Reading:
    if not doc.keys() <= _OBJECT_KEYS:
        _reject("unknown_field")
    value = doc.get("value")
    if type(value) is bool:
        value = 1.0 if value else 0.0
    elif type(value) is not float:
        _reject("bad_value")
    time = doc.get("time")
    if time is None:
        time = received_at
    elif type(time) is str:
        time = _in_window(_rfc3339(time), received_at)
    elif type(time) is float:
        time = _in_window(time, received_at)
    else:
        _reject("bad_time")
    return Reading(quantity, _checked(value), _unit(doc.get("unit")), time)


def _silence(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not float or not value.is_integer() or not 1 <= value <= MAX_SILENCE:
        _reject("bad_announcement")
    return int(value)


def _display_name(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is not str or len(value) > MAX_NAME or not value.isprintable():
        _reject("bad_announcement")
    return value


def _number(record: dict[str, Any], key: str, default: float) -> float:
    value = record.get(key, default)
    if type(value) is not float:
        _reject("bad_senml")
    return value


class _SenmlPack:
    """Resolves the records of one SenML pack against the base fields seen so far."""

    __slots__ = ("_bn", "_bs", "_bt", "_bu", "_bv", "_limits", "_quantity", "_received", "_sid")

    def __init__(
        self, quantity: str, sensor_id: str | None, received_at: float, limits: PayloadLimits
    ) -> None:
        self._quantity = quantity
        self._sid = sensor_id
        self._received = received_at
        self._limits = limits
        self._bn = ""
        self._bu: str | None = None
        self._bt = self._bv = self._bs = 0.0

    def readings(self, pack: Any) -> list[Reading]:
        if type(pack) is not list:
            _reject("bad_senml")
        if len(pack) > self._limits.max_records:
            _reject("too_many_records")
        readings = []
        for record in pack:
            if type(record) is not dict:
                _reject("bad_senml")
            reading = self._record(record)
            if reading is not None:
                readings.append(reading)
        if not readings:
            _reject("empty")
        return readings

    def _record(self, record: dict[str, Any]) -> Reading | None:
        keys = record.keys()
        if not keys <= _SENML_KEYS and any(k.endswith("_") for k in keys - _SENML_KEYS):
            _reject("bad_senml")  # RFC 8428 clause 4.4: fields ending in '_' must be understood
        if not keys.isdisjoint(_BASE_KEYS):
            self._bases(record)
        value = self._value(record)
        if value is None:
            if not keys.isdisjoint(("n", "u", "t", "ut")):
                _reject("bad_senml")
            return None
        unit = record.get("u", self._bu)
        if "u" in record and type(unit) is not str:
            _reject("bad_senml")
        quantity = self._quantity_of(record.get("n", ""))
        return Reading(quantity, value, _unit(unit), self._time(record))

    def _bases(self, record: dict[str, Any]) -> None:
        if "bn" in record:
            if type(record["bn"]) is not str:
                _reject("bad_senml")
            self._bn = record["bn"]
        if "bu" in record:
            if type(record["bu"]) is not str:
                _reject("bad_senml")
            self._bu = _unit(record["bu"])
        self._bt = _number(record, "bt", self._bt)
        self._bv = _number(record, "bv", self._bv)
        self._bs = _number(record, "bs", self._bs)
        # A newer SenML version may change meanings we rely on (RFC 8428 clause 4.4).
        version = _number(record, "bver", 10.0)
        if not (version.is_integer() and 1 <= version <= 10):
            _reject("bad_senml")

    def _value(self, record: dict[str, Any]) -> float | None:
        kinds = ("v" in record) + ("vb" in record) + ("vs" in record) + ("vd" in record)
        if kinds > 1:
            _reject("bad_senml")
        if "vs" in record or "vd" in record:
            _reject("unsupported_value")
        if "v" in record:
            return _checked(self._bv + _number(record, "v", 0.0))
        if "vb" in record:
            if type(record["vb"]) is not bool:
                _reject("bad_senml")
            return 1.0 if record["vb"] else 0.0
        if "s" in record:
            return _checked(self._bs + _number(record, "s", 0.0))
        return None

    def _time(self, record: dict[str, Any]) -> float:
        time = self._bt + _number(record, "t", 0.0)
        if time < RELATIVE_BELOW:
            time += self._received
        return _in_window(time, self._received)

    def _quantity_of(self, name: Any) -> str:
        if type(name) is not str:
            _reject("bad_senml")
        full = self._bn + name
        if not full or full[-1] in _SEPARATORS or self._names_sensor(full):
            return self._quantity
        last = full.rpartition("/")[2].rpartition(":")[2]
        if not valid_id(last):
            _reject("bad_name")
        return last

    def _names_sensor(self, full: str) -> bool:
        sid = self._sid
        if sid is None or not full.endswith(sid):
            return False
        return len(full) == len(sid) or full[-len(sid) - 1] in _SEPARATORS
