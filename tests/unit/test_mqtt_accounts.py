"""Unit tests of MQTT accounts: Mosquitto password hashes, topic filters and account rules."""

from __future__ import annotations

import base64
import re

import pytest

from mec_platform.errors import InvalidInput
from mec_platform.mqtt.accounts import (
    AclRule,
    MqttAccount,
    app_account,
    check_topic_filter,
    device_account,
    hash_password,
    new_password,
    system_account,
    verify_password,
)

# Written by `mosquitto_passwd -b pw alice 'correct horse'` (Mosquitto 2.0.11).
FROM_MOSQUITTO_PASSWD = (
    "$7$101$BBK9nmbIMP1FyToz$zIVA4fSS3BDjrlIA2ZGoU4JrsHlZXV80rvGrwEZcKdKNbdfC8ldQzG2qRWtb82WqiX8"
    "w4HZKtR1l9txZ5qPEMQ=="
)
HASH_SHAPE = re.compile(r"^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$")


def test_hash_is_byte_for_byte_what_mosquitto_passwd_writes() -> None:
    salt = base64.b64decode(FROM_MOSQUITTO_PASSWD.split("$")[3])
    assert hash_password("correct horse", salt=salt) == FROM_MOSQUITTO_PASSWD


def test_hash_has_mosquittos_shape_and_a_fresh_salt() -> None:
    first, second = hash_password("pw"), hash_password("pw")
    assert HASH_SHAPE.match(first) and HASH_SHAPE.match(second)
    assert first != second
    assert len(base64.b64decode(first.split("$")[3])) == 12


def test_iterations_are_part_of_the_hash() -> None:
    hashed = hash_password("pw", iterations=1000)
    assert hashed.startswith("$7$1000$")
    assert verify_password("pw", hashed)


def test_verify_password() -> None:
    assert verify_password("correct horse", FROM_MOSQUITTO_PASSWD)
    assert not verify_password("correct horse ", FROM_MOSQUITTO_PASSWD)
    assert verify_password("ünïcode", hash_password("ünïcode"))


@pytest.mark.parametrize(
    "hashed",
    [
        "",
        "plain",
        "$6$101$c2FsdA==$aGFzaA==",
        "$7$x$c2FsdA==$aGFzaA==",
        "$7$101$!!$aGFzaA==",
        "$7$101$a",
    ],
)
def test_verify_rejects_malformed_hashes(hashed: str) -> None:
    assert not verify_password("pw", hashed)


def test_new_passwords_are_long_and_distinct() -> None:
    passwords = {new_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) == 32 and ":" not in p for p in passwords)


@pytest.mark.parametrize(
    "topic", ["#", "a", "a/#", "+", "+/b/+", "sensors/x/$announce", "$SYS/#", "a//b", "a b"]
)
def test_valid_topic_filters(topic: str) -> None:
    assert check_topic_filter(topic) == topic
    assert AclRule("read", topic).topic == topic


@pytest.mark.parametrize(
    "topic", ["", "a/#/b", "a#", "a/b#", "a+", "+a/b", "a\nb", "a\0", " a", "a ", "x" * 1025]
)
def test_invalid_topic_filters(topic: str) -> None:
    with pytest.raises(InvalidInput):
        check_topic_filter(topic)
    with pytest.raises(InvalidInput):
        AclRule("write", topic)


@pytest.mark.parametrize("name", ["", "a:b", "a b", "a\nb", "a\0", "x" * 257])
def test_invalid_usernames(name: str) -> None:
    with pytest.raises(InvalidInput):
        MqttAccount(name, hash_password("pw"), ())


def test_a_hash_that_would_break_the_password_file_is_refused() -> None:
    with pytest.raises(InvalidInput):
        MqttAccount("a", "x\nb:$7$", ())


def test_app_account_owns_its_tree_and_reads_the_given_topics() -> None:
    account = app_account("app-1", "H", ["sensors/s1/temperature", "sensors/s2/#"])
    assert account == MqttAccount(
        "app-1",
        "H",
        (
            AclRule("readwrite", "apps/app-1/#"),
            AclRule("read", "sensors/s1/temperature"),
            AclRule("read", "sensors/s2/#"),
        ),
    )


def test_device_account_only_writes_its_own_topics() -> None:
    assert device_account("th-01", "H").acl == (AclRule("write", "sensors/th-01/#"),)


def test_system_account_reads_what_it_is_given() -> None:
    account = system_account("umec-export", "H", ("sensors/#", "apps/+/out"))
    assert account.username == "umec-export"
    assert account.acl == (AclRule("read", "sensors/#"), AclRule("read", "apps/+/out"))
    assert system_account("umec-export", "H", ()).acl == ()
