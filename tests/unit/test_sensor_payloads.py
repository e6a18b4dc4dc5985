"""Unit tests of the sensor payload parser: plain numbers, JSON objects, SenML packs,
announcements and status, and fuzzing that it only ever returns valid readings or refuses."""

from __future__ import annotations

import contextlib
import json
import math
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mec_platform.sensors.model import Reading
from mec_platform.sensors.payloads import (
    MAX_AHEAD,
    MAX_MAGNITUDE,
    MIN_TIME,
    UNITS,
    Announcement,
    PayloadLimits,
    PayloadRejected,
    parse_announcement,
    parse_payload,
    parse_status,
)
from mec_platform.sensors.topics import valid_id

NOW = 1_764_000_000.0  # 2025-11-24T16:00:00Z
LIMITS = PayloadLimits()
Q = "temperature"
REASONS = {
    "too_large",
    "not_utf8",
    "empty",
    "bad_json",
    "bad_value",
    "not_finite",
    "out_of_range",
    "unknown_field",
    "unknown_unit",
    "bad_time",
    "bad_senml",
    "bad_name",
    "unsupported_value",
    "too_many_records",
}


def parse(payload: bytes | str, sensor_id: str | None = None, **limits: int) -> list[Reading]:
    raw = payload.encode() if isinstance(payload, str) else payload
    return parse_payload(raw, Q, NOW, PayloadLimits(**limits), sensor_id=sensor_id)


def senml(*records: dict[str, Any], sensor_id: str | None = None) -> list[Reading]:
    return parse(json.dumps(list(records)), sensor_id)


def reason(payload: bytes | str, sensor_id: str | None = None, **limits: int) -> str:
    with pytest.raises(PayloadRejected) as caught:
        parse(payload, sensor_id, **limits)
    return caught.value.reason


def one(value: float, unit: str | None = None, time: float = NOW, q: str = Q) -> list[Reading]:
    return [Reading(q, value, unit, time)]


# -- plain numbers ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("payload", "value"),
    [
        ("21.5", 21.5),
        ("-3", -3.0),
        ("1e3", 1000.0),
        ("1E-2", 0.01),
        (" \t42\r\n", 42.0),
        ("+5", 5.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("0", 0.0),
        ("true", 1.0),
        ("false", 0.0),
        ("1e15", 1e15),
        ("-1e15", -1e15),
    ],
)
def test_plain_values_are_read_at_the_receive_time(payload: str, value: float) -> None:
    assert parse(payload) == one(value)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ("", "empty"),
        (" \r\n\t", "empty"),
        ("abc", "bad_value"),
        ("1_000", "bad_value"),
        ("0x10", "bad_value"),
        ("inf", "bad_value"),
        ("nan", "bad_value"),
        ("Infinity", "bad_value"),
        ("True", "bad_value"),
        ("null", "bad_value"),
        ('"21.5"', "bad_value"),
        ("21.5 Cel", "bad_value"),
        ("1,5", "bad_value"),
        ("\u0661\u0662", "bad_value"),  # Arabic-Indic digits, which float() would take
        ("\uff11", "bad_value"),  # a full-width digit
        ("21.5\x00", "bad_value"),
        ("1e400", "not_finite"),
        ("-1e400", "not_finite"),
        ("1.0000001e15", "out_of_range"),
        ("-2e15", "out_of_range"),
    ],
)
def test_plain_garbage_is_refused(payload: str, why: str) -> None:
    assert reason(payload) == why


def test_a_payload_must_be_utf8_and_small() -> None:
    assert reason(b"\xff\xfe2\x001\x00") == "not_utf8"
    assert reason(b"\xc3") == "not_utf8"
    assert reason(b"1" * 17, max_bytes=16) == "too_large"
    assert parse(b" " * 14 + b"42", max_bytes=16) == one(42.0)
    assert reason(b" " * 100 + b"1", max_bytes=16) == "too_large"


def test_the_size_limit_counts_bytes_not_characters() -> None:
    text = '{"value": 1, "unit": "\u00b0C"}'
    assert reason(text, max_bytes=len(text)) == "too_large"
    assert reason(text, max_bytes=len(text.encode())) == "unknown_unit"


# -- JSON objects -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"value": 21.5}, one(21.5)),
        ({"value": 21.5, "unit": "Cel"}, one(21.5, "Cel")),
        ({"value": -4, "unit": "%RH", "time": NOW - 10.5}, one(-4.0, "%RH", NOW - 10.5)),
        ({"value": True}, one(1.0)),
        ({"value": False, "unit": None, "time": None}, one(0.0)),
        ({"value": 1, "time": "2025-11-24T16:00:00Z"}, one(1.0, None, NOW)),
        ({"value": 1, "time": "2025-11-24T17:00:00.25+01:00"}, one(1.0, None, NOW + 0.25)),
        ({"value": 1, "time": "2025-11-24t16:00:00z"}, one(1.0, None, NOW)),
        ({"value": 1, "time": "2025-11-24 16:00:00-00:30"}, one(1.0, None, NOW + 1800)),
        ({"value": 1, "time": MIN_TIME}, one(1.0, None, MIN_TIME)),
        ({"value": 1, "time": NOW + MAX_AHEAD}, one(1.0, None, NOW + MAX_AHEAD)),
        ({"value": 5, "unit": "ppm"}, one(5.0, "ppm")),
        ({"value": 1, "unit": "/"}, one(1.0, "/")),
    ],
)
def test_json_objects(doc: dict[str, Any], expected: list[Reading]) -> None:
    assert parse(json.dumps(doc)) == expected


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ('{"value": 1', "bad_json"),
        ('{"value": 1}}', "bad_json"),
        ("{'value': 1}", "bad_json"),
        ('{"value": NaN}', "not_finite"),
        ('{"value": Infinity}', "not_finite"),
        ('{"value": -Infinity}', "not_finite"),
        ('{"value": 1e999}', "not_finite"),
        ('{"value": ' + "9" * 400 + "}", "not_finite"),
        ('{"value": ' + "9" * 5000 + "}", "not_finite"),  # beyond int()'s digit limit
        ('{"value": 2e15}', "out_of_range"),
        ("{}", "bad_value"),
        ('{"value": null}', "bad_value"),
        ('{"value": "21.5"}', "bad_value"),
        ('{"value": [1]}', "bad_value"),
        ('{"value": {"v": 1}}', "bad_value"),
        ('{"value": 1, "ts": 1764000000}', "unknown_field"),
        ('{"value": 1, "timestamp": 1764000000}', "unknown_field"),
        ('{"temperature": 21}', "unknown_field"),
        ('{"value": 1, "unit": "celsius"}', "unknown_unit"),
        ('{"value": 1, "unit": "cel"}', "unknown_unit"),
        ('{"value": 1, "unit": ""}', "unknown_unit"),
        ('{"value": 1, "unit": 5}', "unknown_unit"),
        ('{"value": 1, "time": 946684799.9}', "bad_time"),
        ('{"value": 1, "time": 1764086400.5}', "bad_time"),
        ('{"value": 1, "time": 1764000000000}', "bad_time"),  # milliseconds
        ('{"value": 1, "time": -1}', "bad_time"),
        ('{"value": 1, "time": true}', "bad_time"),
        ('{"value": 1, "time": [1]}', "bad_time"),
        ('{"value": 1, "time": "2025-11-24T16:00:00"}', "bad_time"),  # no offset
        ('{"value": 1, "time": "2025-11-24"}', "bad_time"),
        ('{"value": 1, "time": "20251124T160000Z"}', "bad_time"),
        ('{"value": 1, "time": "2025-11-24T16:00:60Z"}', "bad_time"),
        ('{"value": 1, "time": "2025-13-24T16:00:00Z"}', "bad_time"),
        ('{"value": 1, "time": "yesterday at noon, UTC"}', "bad_time"),
        ('{"value": 1, "time": "1999-12-31T23:59:59Z"}', "bad_time"),
        ('{"value": 1, "time": "2030-01-01T00:00:00Z"}', "bad_time"),
        ('\ufeff{"value": 1}', "bad_value"),  # a byte order mark is not JSON
        ("{" * 16_000, "bad_json"),
    ],
)
def test_bad_objects_are_refused(payload: str, why: str) -> None:
    assert reason(payload) == why


# -- SenML ------------------------------------------------------------------------------------
def test_senml_resolves_base_name_time_and_unit() -> None:
    readings = senml(
        {"bn": "urn:dev:ow:10e2073a01080063:", "bt": NOW - 60, "bu": "Cel", "n": "temp", "v": 23.1},
        {"n": "hum", "u": "%RH", "v": 40, "t": 30},
        {"n": "temp", "v": 23.4, "t": 60},
    )
    assert readings == [
        Reading("temp", 23.1, "Cel", NOW - 60),
        Reading("hum", 40.0, "%RH", NOW - 30),
        Reading("temp", 23.4, "Cel", NOW),
    ]


def test_senml_example_of_the_documentation() -> None:
    readings = senml({"bn": "th-01/", "bt": 1764000000, "u": "Cel", "n": "temperature", "v": 21.5})
    assert readings == one(21.5, "Cel")


def test_senml_relative_times_count_from_the_receive_time() -> None:
    assert senml({"v": 1, "t": -5}) == one(1.0, time=NOW - 5)
    assert senml({"v": 1}) == one(1.0)
    assert senml({"bt": -10, "v": 1, "t": 4}) == one(1.0, time=NOW - 6)
    # The rule applies to the resolved time: an absolute base time plus an offset.
    assert senml({"bt": NOW, "v": 1, "t": -(2**28)}) == one(1.0, time=NOW - 2**28)


def test_senml_values_from_base_value_boolean_and_sum() -> None:
    assert senml({"bv": 10, "v": 1.5}) == one(11.5)
    assert senml({"vb": True}, {"vb": False, "t": 1}) == [
        Reading(Q, 1.0, None, NOW),
        Reading(Q, 0.0, None, NOW + 1),
    ]
    assert senml({"n": "energy", "u": "Wh", "bs": 1000, "s": 25}) == one(1025.0, "Wh", q="energy")
    # `v` wins over `s`; the base value does not apply to booleans.
    assert senml({"bv": 5, "v": 1, "s": 100}) == one(6.0)
    assert senml({"bv": 5, "vb": True}) == one(1.0)


def test_senml_base_fields_carry_over_and_a_base_only_record_yields_nothing() -> None:
    readings = senml(
        {"bn": "th-01/", "bu": "Cel", "bt": NOW - 10, "bver": 10},
        {"n": "temperature", "v": 20},
        {"bn": "th-01/", "bu": "%RH", "n": "humidity", "v": 50},
        {"n": "temperature", "u": "K", "v": 293.15, "t": 5},
    )
    assert readings == [
        Reading("temperature", 20.0, "Cel", NOW - 10),
        Reading("humidity", 50.0, "%RH", NOW - 10),
        Reading("temperature", 293.15, "K", NOW - 5),
    ]


@pytest.mark.parametrize(
    ("bn", "n", "sensor_id", "quantity"),
    [
        (None, None, None, Q),
        ("", "", None, Q),
        ("th-01/", None, None, Q),
        ("urn:dev:ow:10e2:", None, None, Q),
        (None, "humidity", None, "humidity"),
        ("th-01/", "humidity", None, "humidity"),
        ("th-01/", "humidity", "th-01", "humidity"),
        ("site/th-01/", "humidity", None, "humidity"),
        ("urn:dev:ow:10e2:", "temp", None, "temp"),
        ("urn:dev:ow:10e2", ":temp", None, "temp"),
        (None, "pm2.5", None, "pm2.5"),
        # A name naming the sensor itself gives the topic's quantity.
        ("th-01", None, "th-01", Q),
        (None, "urn:dev:mac:th-01", "th-01", Q),
        ("site/", "th-01", "th-01", Q),
        (None, "urn:dev:ow:10e2", "ow:10e2", Q),
        # Without the sensor id the last segment is all there is.
        ("th-01", None, None, "th-01"),
        (None, "xth-01", "th-01", "xth-01"),
    ],
)
def test_senml_quantity_rule(
    bn: str | None, n: str | None, sensor_id: str | None, quantity: str
) -> None:
    record: dict[str, Any] = {"v": 1}
    if bn is not None:
        record["bn"] = bn
    if n is not None:
        record["n"] = n
    assert senml(record, sensor_id=sensor_id) == one(1.0, q=quantity)


def test_senml_ignores_unknown_fields_it_may_ignore() -> None:
    assert senml({"v": 1, "ut": 60, "x-vendor": {"a": 1}}) == one(1.0)


@pytest.mark.parametrize(
    ("pack", "why"),
    [
        ([], "empty"),
        ([{"bn": "th-01/"}], "empty"),
        ([{"v": 1}, {"n": "label", "vs": "kitchen"}], "unsupported_value"),
        ([{"n": "raw", "vd": "aGk"}, {"v": 1}], "unsupported_value"),
        ([{"v": 1, "vb": True}], "bad_senml"),
        ([{"v": 1, "vs": "1"}], "bad_senml"),
        ([{"v": 1, "foo_": 1}], "bad_senml"),
        ([{"bver": 11, "v": 1}], "bad_senml"),
        ([{"bver": 9.5, "v": 1}], "bad_senml"),
        ([{"bver": "10", "v": 1}], "bad_senml"),
        ([{"v": "21.5"}], "bad_senml"),
        ([{"v": True}], "bad_senml"),
        ([{"v": None}], "bad_senml"),
        ([{"vb": 1}], "bad_senml"),
        ([{"s": "5"}], "bad_senml"),
        ([{"n": 5, "v": 1}], "bad_senml"),
        ([{"bn": 5, "v": 1}], "bad_senml"),
        ([{"bt": "now", "v": 1}], "bad_senml"),
        ([{"bv": True, "v": 1}], "bad_senml"),
        ([{"t": "2025-11-24T16:00:00Z", "v": 1}], "bad_senml"),
        ([{"u": 5, "v": 1}], "bad_senml"),
        ([{"u": None, "v": 1}], "bad_senml"),
        ([{"bu": None, "v": 1}], "bad_senml"),
        ([{"n": "temperature"}], "bad_senml"),
        ([{"v": 1}, {"t": 5}], "bad_senml"),
        ([1, 2], "bad_senml"),
        ([{"v": 1}, [{"v": 2}]], "bad_senml"),
        ([{"v": 1}, None], "bad_senml"),
        ([{"n": "a/..", "v": 1}], "bad_name"),
        ([{"n": "temp$", "v": 1}], "bad_name"),
        ([{"n": "-temp", "v": 1}], "bad_name"),
        ([{"n": "t" * 65, "v": 1}], "bad_name"),
        ([{"n": "temp\u00e9", "v": 1}], "bad_name"),
        ([{"u": "Celsius", "v": 1}], "unknown_unit"),
        ([{"bu": "F", "v": 1}, {"bu": "degF", "v": 2}], "unknown_unit"),
        ([{"v": 1}, {"v": 2, "u": "Cel"}, {"v": 3, "u": "Fahrenheit"}], "unknown_unit"),
        ([{"bt": 2**28, "v": 1}], "bad_time"),  # absolute: 1978
        ([{"bt": MIN_TIME - 1, "v": 1}], "bad_time"),
        ([{"v": 1, "t": MAX_AHEAD + 1}], "bad_time"),
        ([{"v": 1, "t": -(NOW - MIN_TIME) - 1}], "bad_time"),
        ([{"bt": 1e300, "t": 1e300, "v": 1}], "bad_time"),
        ([{"bv": MAX_MAGNITUDE, "v": 1}], "out_of_range"),
        ([{"bv": 1e308, "v": 1e308}], "not_finite"),
        ([{"bs": 1e308, "s": 1e308}], "not_finite"),
    ],
)
def test_bad_senml_rejects_the_whole_pack(pack: list[Any], why: str) -> None:
    assert reason(json.dumps(pack)) == why


def test_senml_record_count_is_limited() -> None:
    pack = json.dumps([{"v": i, "t": -i} for i in range(5)])
    assert len(parse(pack, max_records=5)) == 5
    assert reason(pack, max_records=4) == "too_many_records"


def test_deep_nesting_is_bad_json_not_a_crash() -> None:
    assert reason("[" * 16_000) == "bad_json"
    assert reason("[" * 5_000 + "]" * 5_000) == "bad_json"
    assert reason('[{"v": 1, "x": ' + "[" * 3_000 + "]" * 3_000 + "}]") == "bad_json"


def test_nan_inside_senml_is_refused() -> None:
    assert reason('[{"v": NaN}]') == "not_finite"
    assert reason('[{"v": 1, "t": -Infinity}]') == "not_finite"


def test_every_unit_symbol_of_the_registry_is_accepted() -> None:
    for unit in sorted(UNITS):
        assert parse(json.dumps({"value": 1, "unit": unit})) == one(1.0, unit)
    assert {"Cel", "K", "%RH", "Pa", "hPa", "lx", "ppm", "kWh", "count", "/", "lat"} <= UNITS


# -- announcements and status -----------------------------------------------------------------
def announce(doc: Any) -> Announcement:
    return parse_announcement(json.dumps(doc).encode())


def announce_reason(payload: bytes, **limits: int) -> str:
    with pytest.raises(PayloadRejected) as caught:
        parse_announcement(payload, PayloadLimits(**limits) if limits else None)
    return caught.value.reason


def test_announcement() -> None:
    doc = {
        "quantities": {"co2": {"unit": "ppm"}, "temperature": {"unit": "Cel"}, "door": {}},
        "silenceInterval": 300,
        "name": "Kitchen sensor",
        "firmware": "1.2",  # unknown keys of an announcement are ignored
    }
    assert announce(doc) == Announcement(
        {"co2": "ppm", "temperature": "Cel", "door": None}, 300, "Kitchen sensor"
    )
    assert announce({"quantities": {"x": None}}) == Announcement({"x": None}, None, None)
    assert announce({}) == Announcement({}, None, None)
    assert announce({"silenceInterval": 86400.0}).silence_interval == 86400


@pytest.mark.parametrize(
    ("doc", "why"),
    [
        ([], "bad_announcement"),
        ("online", "bad_announcement"),
        ({"quantities": []}, "bad_announcement"),
        ({"quantities": {"co2": "ppm"}}, "bad_announcement"),
        ({"quantities": {"$co2": {}}}, "bad_name"),
        ({"quantities": {"a/b": {}}}, "bad_name"),
        ({"quantities": {"": {}}}, "bad_name"),
        ({"quantities": {"co2": {"unit": "PPM"}}}, "unknown_unit"),
        ({"silenceInterval": 0}, "bad_announcement"),
        ({"silenceInterval": -5}, "bad_announcement"),
        ({"silenceInterval": 60.5}, "bad_announcement"),
        ({"silenceInterval": "60"}, "bad_announcement"),
        ({"silenceInterval": True}, "bad_announcement"),
        ({"silenceInterval": 7 * 86400 + 1}, "bad_announcement"),
        ({"name": 5}, "bad_announcement"),
        ({"name": "a\nb"}, "bad_announcement"),
        ({"name": "n" * 257}, "bad_announcement"),
    ],
)
def test_bad_announcements(doc: Any, why: str) -> None:
    assert announce_reason(json.dumps(doc).encode()) == why


def test_announcement_garbage_and_limits() -> None:
    assert announce_reason(b"") == "empty"
    assert announce_reason(b"{") == "bad_json"
    assert announce_reason(b'{"silenceInterval": NaN}') == "not_finite"
    assert announce_reason(b"\xff") == "not_utf8"
    many = json.dumps({"quantities": {f"q{i}": {} for i in range(3)}}).encode()
    assert announce_reason(many, max_records=2) == "bad_announcement"
    assert announce_reason(many, max_bytes=10) == "too_large"


@pytest.mark.parametrize(
    ("payload", "online"),
    [
        (b"online", True),
        (b"offline", False),
        (b" ONLINE\r\n", True),
        (bytearray(b"Offline"), False),
    ],
)
def test_status(payload: bytes, online: bool) -> None:
    assert parse_status(payload) is online


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"", "empty"),
        (b" \n", "empty"),
        (b"maybe", "bad_status"),
        (b'"online"', "bad_status"),
        (b"on line", "bad_status"),
        (b"\xffonline", "bad_status"),
        (b"online" * 20, "too_large"),
    ],
)
def test_bad_status(payload: bytes, why: str) -> None:
    with pytest.raises(PayloadRejected) as caught:
        parse_status(payload)
    assert caught.value.reason == why


# -- fuzzing ----------------------------------------------------------------------------------
def assert_valid(readings: list[Reading]) -> None:
    assert readings
    for reading in readings:
        assert type(reading.value) is float
        assert math.isfinite(reading.value) and abs(reading.value) <= MAX_MAGNITUDE
        assert reading.unit is None or reading.unit in UNITS
        assert MIN_TIME <= reading.time <= NOW + MAX_AHEAD
        assert valid_id(reading.quantity)


def parses_or_refuses(payload: bytes, sensor_id: str | None = None) -> None:
    try:
        readings = parse_payload(payload, Q, NOW, LIMITS, sensor_id=sensor_id)
    except PayloadRejected as exc:
        assert exc.reason in REASONS
        return
    assert_valid(readings)


def test_seeded_random_bytes_never_break_the_parser() -> None:
    rng = random.Random(6_011)
    alphabet = b'[]{}",:0123456789.eE+-truefalsnNIy vbsdt_/\\\x00\xff\xc3'
    for _ in range(20_000):
        size = rng.randrange(0, 64)
        if rng.random() < 0.5:
            payload = bytes(rng.choice(alphabet) for _ in range(size))
        else:
            payload = rng.randbytes(size)
        parses_or_refuses(payload)
        for parse_other in (parse_announcement, parse_status):
            with contextlib.suppress(PayloadRejected):
                parse_other(payload)


FIELDS = ["bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "Cel", "%RH", "th-01/", "urn:dev:x:", "temp", "a/..", "$x", "ppm"]),
    st.text(max_size=8),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)
RECORDS = st.lists(
    st.dictionaries(st.sampled_from(FIELDS), SCALARS, max_size=6),
    max_size=6,
)
NAMES = st.sampled_from(["", "th-01/", "urn:dev:ow:1:", "temp", "a:b", "x/", "..", "th-01"])
UNIT_SYMBOLS = st.sampled_from(["Cel", "%RH", "ppm", "kWh", "/", "degC"])
NUMBERS = st.one_of(
    st.floats(min_value=-1e16, max_value=1e16),
    st.floats(min_value=-(2.0**29), max_value=2.0**29),
    st.sampled_from([NOW, NOW - 10, NOW + 2 * MAX_AHEAD, MIN_TIME - 1, 0.0]),
)
WELL_TYPED = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "bn": NAMES,
            "bt": NUMBERS,
            "bu": UNIT_SYMBOLS,
            "bv": NUMBERS,
            "bs": NUMBERS,
            "n": NAMES,
            "u": UNIT_SYMBOLS,
            "v": NUMBERS,
            "vb": st.booleans(),
            "s": NUMBERS,
            "t": NUMBERS,
        },
    ),
    max_size=5,
)
OBJECTS = st.dictionaries(st.sampled_from(["value", "unit", "time", "ts"]), SCALARS, max_size=4)
FUZZ = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@FUZZ
@given(st.binary(max_size=256))
def test_fuzz_bytes(payload: bytes) -> None:
    parses_or_refuses(payload)


@FUZZ
@given(JSON)
def test_fuzz_any_json(doc: Any) -> None:
    parses_or_refuses(json.dumps(doc).encode())


@FUZZ
@given(RECORDS, st.sampled_from([None, "th-01", "urn:dev:x"]))
def test_fuzz_senml_shaped_packs(pack: list[dict[str, Any]], sensor_id: str | None) -> None:
    parses_or_refuses(json.dumps(pack).encode(), sensor_id)


@FUZZ
@given(WELL_TYPED, st.sampled_from([None, "th-01", "1"]))
def test_fuzz_well_typed_packs(pack: list[dict[str, Any]], sensor_id: str | None) -> None:
    parses_or_refuses(json.dumps(pack).encode(), sensor_id)


@FUZZ
@given(OBJECTS)
def test_fuzz_object_shaped_payloads(doc: dict[str, Any]) -> None:
    parses_or_refuses(json.dumps(doc).encode())


@FUZZ
@given(JSON)
def test_fuzz_announcements(doc: Any) -> None:
    try:
        announcement = parse_announcement(json.dumps(doc).encode())
    except PayloadRejected:
        return
    assert all(valid_id(q) for q in announcement.quantities)
    assert all(u is None or u in UNITS for u in announcement.quantities.values())
    assert announcement.silence_interval is None or announcement.silence_interval >= 1
