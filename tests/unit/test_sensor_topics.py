"""Unit tests of sensor topics: id rules, pattern checks, subscription filters and matching."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mec_platform.errors import InvalidInput
from mec_platform.sensors.topics import SensorTopics, TopicMatch, valid_id

DEFAULT = SensorTopics()
CUSTOM = SensorTopics("site/a/{sensorId}/data/{quantity}")


def mqtt_matches(topic_filter: str, topic: str) -> bool:
    """MQTT 3.1.1 clause 4.7 topic matching, for checking our filters."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    want, have = topic_filter.split("/"), topic.split("/")
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(have) or (level != "+" and level != have[i]):
            return False
    return len(want) == len(have)


# -- ids --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["a", "A", "7", "th-01", "urn:dev:ow:10e2", "pm2.5", "a_b", "a-", "a.b.c", "x" * 64, "0:0"],
)
def test_valid_ids(text: str) -> None:
    assert valid_id(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-a",
        ".a",
        "_a",
        ":a",
        "a..b",
        "..",
        "a..",
        "a/b",
        "a+b",
        "+",
        "#",
        "a#",
        "$a",
        "a$",
        "a b",
        "a\n",
        "a\x00",
        "\u00e9",
        "a\u00e9",
        "\uff41",
        "x" * 65,
    ],
)
def test_invalid_ids(text: str) -> None:
    assert not valid_id(text)


# -- patterns ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "sensors",
        "sensors/{sensorId}",
        "sensors/{quantity}",
        "sensors/{sensorId}/{sensorId}/{quantity}",
        "sensors/{sensorId}/{quantity}/{quantity}",
        "sensors/s-{sensorId}/{quantity}",
        "sensors/{sensorId}/{quantity}x",
        "sensors/{sensorid}/{quantity}",
        "{quantity}/{sensorId}",
        "sensors/+/{sensorId}/{quantity}",
        "sensors/{sensorId}/{quantity}/#",
        "$SYS/{sensorId}/{quantity}",
        "sensors/{sensorId}/$data/{quantity}",
        "sensors//{sensorId}/{quantity}",
        "/{sensorId}/{quantity}",
        "sensors/{sensorId}/{quantity}/",
        "sens\u00f6rs/{sensorId}/{quantity}",
        "sen\x00sors/{sensorId}/{quantity}",
        "{sensors}/{sensorId}/{quantity}",
        "x" * 600 + "/{sensorId}/{quantity}",
    ],
)
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidInput):
        SensorTopics(pattern)


@pytest.mark.parametrize(
    ("pattern", "filters"),
    [
        ("sensors/{sensorId}/{quantity}", ("sensors/+/+",)),
        ("{sensorId}/{quantity}", ("+/+",)),
        ("a/b/{sensorId}/{quantity}", ("a/b/+/+",)),
        (
            "site/a/{sensorId}/data/{quantity}",
            ("site/a/+/data/+", "site/a/+/$announce", "site/a/+/$status"),
        ),
        (
            "sensors/{sensorId}/{quantity}/v1",
            ("sensors/+/+/v1", "sensors/+/$announce", "sensors/+/$status"),
        ),
        ("{sensorId}/x/{quantity}", ("+/x/+", "+/$announce", "+/$status")),
    ],
)
def test_subscription_filters(pattern: str, filters: tuple[str, ...]) -> None:
    assert SensorTopics(pattern).subscription_filters() == filters


# -- matching ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("sensors/th-01/temperature", TopicMatch("reading", "th-01", "temperature")),
        ("sensors/urn:dev:1/pm2.5", TopicMatch("reading", "urn:dev:1", "pm2.5")),
        ("sensors/th-01/$announce", TopicMatch("announce", "th-01", None)),
        ("sensors/th-01/$status", TopicMatch("status", "th-01", None)),
        ("sensors/" + "x" * 64 + "/q", TopicMatch("reading", "x" * 64, "q")),
    ],
)
def test_default_pattern_matches(topic: str, expected: TopicMatch) -> None:
    assert DEFAULT.match(topic) == expected


@pytest.mark.parametrize(
    "topic",
    [
        "",
        "sensors",
        "sensors/th-01",
        "sensors/th-01/",
        "sensors//temperature",
        "sensors/th-01/temperature/extra",
        "sensors/th-01/temperature/",
        "/sensors/th-01/temperature",
        "Sensors/th-01/temperature",
        "other/th-01/temperature",
        "sensors/+/temperature",
        "sensors/th-01/+",
        "sensors/th-01/#",
        "sensors/#",
        "sensors/th-01/$foo",
        "sensors/th-01/$ANNOUNCE",
        "sensors/th-01/$announce/x",
        "sensors/$announce/temperature",
        "sensors/$status/$status",
        "sensors/th..01/temperature",
        "sensors/../temperature",
        "sensors/th-01/..",
        "sensors/.hidden/temperature",
        "sensors/th 01/temperature",
        "sensors/th\x00/temperature",
        "sensors/th\u00e9/temperature",
        "sensors/th-01/temp\u00e9rature",
        "sensors/" + "x" * 65 + "/q",
        "sensors/th-01//$announce",
        "$SYS/broker/uptime",
        "apps/app-1/out",
    ],
)
def test_default_pattern_rejects(topic: str) -> None:
    assert DEFAULT.match(topic) is None


def test_custom_pattern() -> None:
    assert CUSTOM.match("site/a/th-01/data/co2") == TopicMatch("reading", "th-01", "co2")
    assert CUSTOM.match("site/a/th-01/$announce") == TopicMatch("announce", "th-01", None)
    assert CUSTOM.match("site/a/th-01/$status") == TopicMatch("status", "th-01", None)
    for topic in (
        "site/a/th-01/other/co2",
        "site/b/th-01/data/co2",
        "site/a/th-01/data/$announce",
        "site/a/th-01/data",
        "site/a/th-01/$announce/x",
        "site/th-01/$status",
        "sensors/th-01/co2",
    ):
        assert CUSTOM.match(topic) is None, topic


def test_a_pattern_whose_quantity_level_follows_the_id_directly() -> None:
    topics = SensorTopics("{sensorId}/{quantity}")
    assert topics.match("th-01/co2") == TopicMatch("reading", "th-01", "co2")
    assert topics.match("th-01/$status") == TopicMatch("status", "th-01", None)
    assert topics.match("$SYS/uptime") is None


def test_topic_for_and_control_topic() -> None:
    assert DEFAULT.topic_for("th-01", "temperature") == "sensors/th-01/temperature"
    assert CUSTOM.topic_for("th-01", "co2") == "site/a/th-01/data/co2"
    assert DEFAULT.control_topic("th-01", "announce") == "sensors/th-01/$announce"
    assert CUSTOM.control_topic("th-01", "status") == "site/a/th-01/$status"
    for sensor_id, quantity in (("+", "q"), ("th-01", "#"), ("a/b", "q"), ("s", "$status")):
        with pytest.raises(InvalidInput):
            DEFAULT.topic_for(sensor_id, quantity)
    with pytest.raises(InvalidInput):
        DEFAULT.control_topic("..", "status")


PATTERNS = [
    "sensors/{sensorId}/{quantity}",
    "{sensorId}/{quantity}",
    "site/a/{sensorId}/data/{quantity}",
    "sensors/{sensorId}/{quantity}/v1",
    "{sensorId}/x/{quantity}",
    "a/{sensorId}/b/c/{quantity}/d",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_topic_we_match_arrives_through_exactly_one_filter(pattern: str) -> None:
    topics = SensorTopics(pattern)
    filters = topics.subscription_filters()
    examples = [
        topics.topic_for("th-01", "co2"),
        topics.control_topic("th-01", "announce"),
        topics.control_topic("th-01", "status"),
    ]
    for topic in examples:
        assert topics.match(topic) is not None
        assert sum(mqtt_matches(f, topic) for f in filters) == 1, (topic, filters)
    assert topics.match(examples[0]) == TopicMatch("reading", "th-01", "co2")


LEVELS = st.sampled_from(
    [
        "sensors",
        "site",
        "a",
        "data",
        "th-01",
        "co2",
        "$announce",
        "$status",
        "+",
        "#",
        "",
        "..",
        "x",
    ]
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(PATTERNS), st.lists(LEVELS, min_size=1, max_size=7))
def test_fuzz_matches_are_valid_and_come_through_a_filter(pattern: str, levels: list[str]) -> None:
    topics = SensorTopics(pattern)
    topic = "/".join(levels)
    match = topics.match(topic)
    if match is None:
        return
    assert valid_id(match.sensor_id)
    assert (match.quantity is None) == (match.kind != "reading")
    assert match.quantity is None or valid_id(match.quantity)
    assert any(mqtt_matches(f, topic) for f in topics.subscription_filters())
    rebuilt = (
        topics.topic_for(match.sensor_id, match.quantity)
        if match.quantity is not None
        else topics.control_topic(match.sensor_id, match.kind)  # type: ignore[arg-type]
    )
    assert rebuilt == topic


def test_seeded_random_topics_never_raise() -> None:
    rng = random.Random(6_033)
    alphabet = "sensor/th-01.:_$+#\x00\u00e9 /"
    for _ in range(20_000):
        topic = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        match = DEFAULT.match(topic)
        if match is not None:
            assert valid_id(match.sensor_id) and topic.startswith("sensors/")
            assert match.quantity is None or valid_id(match.quantity)
