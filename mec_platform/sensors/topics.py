"""Sensor topics: the configured pattern, the bridge's subscription filters, and topic matching.

The pattern (default `sensors/{sensorId}/{quantity}`) is split into MQTT levels; `{sensorId}`
and `{quantity}` must each be one whole level, in that order, and every other level is a
literal. A sensor's control topics are `<prefix>/<sensorId>/$announce` and
`<prefix>/<sensorId>/$status`, where `<prefix>` is the levels before `{sensorId}`.

With a pattern of the form `<prefix>/{sensorId}/{quantity}` one filter (`<prefix>/+/+`)
carries readings and control topics alike (a `+` matches a level starting with `$` anywhere
but at the top). Any other pattern gets the readings filter plus one filter per control
topic; those never overlap the readings filter (they have a different number of levels or a
different literal), so the broker delivers each message once.

Anything that is not exactly a reading or control topic of a valid id matches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from mec_platform.errors import InvalidInput

SENSOR_ID = "{sensorId}"
QUANTITY = "{quantity}"
ANNOUNCE = "$announce"
STATUS = "$status"
_CONTROL: dict[str, Literal["announce", "status"]] = {ANNOUNCE: "announce", STATUS: "status"}
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
# Characters a literal level may not hold: MQTT wildcards, `$` (reserved for control topics
# and broker topics), braces (a misspelt placeholder) and NUL.
_LITERAL_FORBIDDEN = frozenset("+#${}\x00")
MAX_PATTERN = 512

TopicKind = Literal["reading", "announce", "status"]


def valid_id(text: str) -> bool:
    """True for a sensor id or quantity: 1-64 of `A-Za-z0-9_.:-`, first alphanumeric, no `..`."""
    return _ID.fullmatch(text) is not None and ".." not in text


@dataclass(frozen=True)
class TopicMatch:
    """What a topic says: a reading of a quantity, or a sensor's announcement or status."""

    kind: TopicKind
    sensor_id: str
    quantity: str | None  # None for announcement and status topics


class SensorTopics:
    """One configured topic pattern: its subscription filters, matcher and topic builder."""

    def __init__(self, pattern: str = "sensors/{sensorId}/{quantity}") -> None:
        levels = _checked_levels(pattern)
        self.pattern = pattern
        self._levels = tuple(levels)
        self._id_at = levels.index(SENSOR_ID)
        self._quantity_at = levels.index(QUANTITY)
        # (position, text) of every literal level, compared on each match.
        self._literals = tuple(
            (i, text) for i, text in enumerate(levels) if text not in (SENSOR_ID, QUANTITY)
        )
        self._prefix = tuple(levels[: self._id_at])
        self._control_size = self._id_at + 2

    def subscription_filters(self) -> tuple[str, ...]:
        """The MQTT filters that bring readings, announcements and status changes."""
        readings = "/".join("+" if t in (SENSOR_ID, QUANTITY) else t for t in self._levels)
        control = [*self._prefix, "+", "+"]
        if readings == "/".join(control):
            return (readings,)
        return (
            readings,
            "/".join([*self._prefix, "+", ANNOUNCE]),
            "/".join([*self._prefix, "+", STATUS]),
        )

    def match(self, topic: str) -> TopicMatch | None:
        """The reading or control topic `topic` is, or None when it is neither."""
        levels = topic.split("/")
        size = len(levels)
        last = levels[-1]
        if size == self._control_size and last in _CONTROL:
            control = self._control(levels)
            if control is not None:
                return control
        if size != len(self._levels):
            return None
        for i, text in self._literals:
            if levels[i] != text:
                return None
        sensor_id, quantity = levels[self._id_at], levels[self._quantity_at]
        if not (valid_id(sensor_id) and valid_id(quantity)):
            return None
        return TopicMatch("reading", sensor_id, quantity)

    def _control(self, levels: list[str]) -> TopicMatch | None:
        if tuple(levels[: self._id_at]) != self._prefix:
            return None
        sensor_id = levels[self._id_at]
        if not valid_id(sensor_id):
            return None
        return TopicMatch(_CONTROL[levels[-1]], sensor_id, None)

    def topic_for(self, sensor_id: str, quantity: str) -> str:
        """The topic a sensor publishes readings of `quantity` to."""
        for name, value in (("sensorId", sensor_id), ("quantity", quantity)):
            if not valid_id(value):
                raise InvalidInput(f"{name}: '{value[:80]}' is not a valid sensor id or quantity")
        values = {SENSOR_ID: sensor_id, QUANTITY: quantity}
        return "/".join(values.get(t, t) for t in self._levels)

    def control_topic(self, sensor_id: str, kind: Literal["announce", "status"]) -> str:
        """The announcement or status topic of a sensor."""
        if not valid_id(sensor_id):
            raise InvalidInput(f"sensorId: '{sensor_id[:80]}' is not a valid sensor id")
        return "/".join([*self._prefix, sensor_id, ANNOUNCE if kind == "announce" else STATUS])


def _checked_levels(pattern: str) -> list[str]:
    if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_PATTERN:
        raise InvalidInput(f"sensor topic pattern: must be 1 to {MAX_PATTERN} characters")
    levels = pattern.split("/")
    for name in (SENSOR_ID, QUANTITY):
        if levels.count(name) != 1:
            raise InvalidInput(
                f"sensor topic pattern '{pattern[:80]}': needs {name} exactly once, "
                "as a whole level"
            )
    if levels.index(SENSOR_ID) > levels.index(QUANTITY):
        raise InvalidInput(
            f"sensor topic pattern '{pattern[:80]}': {SENSOR_ID} must come before {QUANTITY}"
        )
    for text in levels:
        if text in (SENSOR_ID, QUANTITY):
            continue
        if not text or not text.isascii() or not _LITERAL_FORBIDDEN.isdisjoint(text):
            raise InvalidInput(
                f"sensor topic pattern '{pattern[:80]}': level '{text[:40]}' must be non-empty "
                "ASCII without '+', '#', '$', braces or NUL"
            )
    return levels
