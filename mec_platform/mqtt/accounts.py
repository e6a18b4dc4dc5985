"""MQTT accounts as the broker enforces them: a user name, a password hash in Mosquitto's
format, and topic rules (read, write or both on a topic filter).

The hash is what `mosquitto_passwd` writes for Mosquitto 2.0: `$7$<iterations>$<salt>$<hash>`,
PBKDF2-HMAC-SHA512 with a 12-byte salt and a 64-byte key, both in standard base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from mec_platform.errors import InvalidInput

Access = Literal["read", "write", "readwrite"]
ITERATIONS = 101
SALT_BYTES = 12
KEY_BYTES = 64


@dataclass(frozen=True)
class AclRule:
    """One topic filter and what the account may do on it."""

    access: Access
    topic: str

    def __post_init__(self) -> None:
        check_topic_filter(self.topic)


@dataclass(frozen=True)
class MqttAccount:
    """A user of the broker with its password hash and rules."""

    username: str
    password_hash: str
    acl: tuple[AclRule, ...]

    def __post_init__(self) -> None:
        if (
            not self.username
            or any(c in self.username for c in ":\n\r\0 ")
            or len(self.username) > 256
        ):
            raise InvalidInput(f"username: '{self.username[:80]}' cannot name an MQTT account")
        if "\n" in self.password_hash or ":" in self.password_hash:
            raise InvalidInput("password hash: not in Mosquitto's format")


def check_topic_filter(topic: str) -> str:
    """A topic filter Mosquitto accepts in an ACL line: `+` and a final `#` as whole levels."""
    # Mosquitto trims the rest of an ACL line, so outer blanks would silently change the rule.
    if (
        not topic
        or len(topic) > 1024
        or topic != topic.strip()
        or any(c in topic for c in "\n\r\0")
    ):
        raise InvalidInput(f"topic: '{topic[:80]}' is not an MQTT topic filter")
    levels = topic.split("/")
    for index, level in enumerate(levels):
        wildcard = level == "+" or (level == "#" and index == len(levels) - 1)
        if not wildcard and ("+" in level or "#" in level):
            raise InvalidInput(f"topic: '{topic[:80]}' is not an MQTT topic filter")
    return topic


def new_password() -> str:
    """A random password of 32 URL-safe characters."""
    return secrets.token_urlsafe(24)


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The password-file hash of `password` (a fresh salt unless given)."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, KEY_BYTES)
    encoded = (base64.b64encode(part).decode() for part in (salt, key))
    return f"$7${iterations}${next(encoded)}${next(encoded)}"


def verify_password(password: str, hashed: str) -> bool:
    """True when `hashed` (Mosquitto's `$7$` format) is the hash of `password`."""
    try:
        _empty, kind, iterations, salt, key = hashed.split("$")
        if kind != "7":
            return False
        expected = base64.b64decode(key, validate=True)
        actual = hashlib.pbkdf2_hmac(
            "sha512",
            password.encode(),
            base64.b64decode(salt, validate=True),
            int(iterations),
            len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def app_tree(app_instance_id: str) -> str:
    """The topic tree an application owns."""
    return f"apps/{app_instance_id}/#"


def app_account(
    app_instance_id: str, password_hash: str, read_topics: Iterable[str]
) -> MqttAccount:
    """An application: its own tree `apps/<id>/#` and the sensor topics it may read."""
    rules = (AclRule("readwrite", app_tree(app_instance_id)), *_reads(read_topics))
    return MqttAccount(app_instance_id, password_hash, rules)


def device_account(sensor_id: str, password_hash: str) -> MqttAccount:
    """A sensor: it publishes under `sensors/<id>/#` and reads nothing."""
    return MqttAccount(sensor_id, password_hash, (AclRule("write", f"sensors/{sensor_id}/#"),))


def system_account(name: str, password_hash: str, read_topics: Iterable[str]) -> MqttAccount:
    """A process of the platform reading the given topics."""
    return MqttAccount(name, password_hash, tuple(_reads(read_topics)))


def _reads(topics: Iterable[str]) -> list[AclRule]:
    return [AclRule("read", topic) for topic in topics]
