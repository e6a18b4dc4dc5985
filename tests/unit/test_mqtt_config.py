"""Unit tests of the Mosquitto files the platform renders: configuration, passwords, ACL."""

from __future__ import annotations

from pathlib import Path

import pytest

from mec_platform.errors import InvalidInput
from mec_platform.mqtt.accounts import AclRule, MqttAccount, app_account, device_account
from mec_platform.mqtt.mosquitto_config import (
    BrokerSettings,
    render_acl_file,
    render_config,
    render_password_file,
)

STATE = Path("/var/lib/umec/mqtt/broker")


def settings(**changes: object) -> BrokerSettings:
    values: dict[str, object] = {
        "listeners": (("127.0.0.1", 1884), ("192.0.2.7", 8883)),
        "state_dir": STATE,
    }
    values.update(changes)
    return BrokerSettings(**values)  # type: ignore[arg-type]


def config_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_config_has_auth_persistence_limits_and_logging() -> None:
    lines = config_lines(render_config(settings()))
    for expected in (
        "allow_anonymous false",
        f"password_file {STATE}/passwords",
        f"acl_file {STATE}/acl",
        "persistence true",
        f"persistence_location {STATE}/",
        "autosave_interval 30",
        "persistent_client_expiration 7d",
        "max_queued_messages 100000",
        "max_inflight_messages 1000",
        "message_size_limit 65536",
        f"log_dest file {STATE}/mosquitto.log",
    ):
        assert expected in lines
    assert not any(line.startswith("per_listener_settings") for line in lines)
    assert not any(line.startswith("allow_anonymous true") for line in lines)


def test_one_listener_line_per_listener_after_the_global_options() -> None:
    lines = config_lines(render_config(settings()))
    # Options after a `listener` line would belong to that listener: listeners come last.
    assert lines[-2:] == ["listener 1884 127.0.0.1", "listener 8883 192.0.2.7"]


def test_config_follows_the_settings() -> None:
    text = render_config(
        settings(
            max_queued_messages=5,
            max_inflight_messages=7,
            message_size_limit=1024,
            persistence=False,
            autosave_interval=300,
        )
    )
    lines = config_lines(text)
    assert {
        "max_queued_messages 5",
        "max_inflight_messages 7",
        "message_size_limit 1024",
        "persistence false",
        "autosave_interval 300",
    } <= set(lines)


def test_state_files_live_in_the_state_folder() -> None:
    s = settings()
    assert {s.config_file, s.password_file, s.acl_file, s.log_file} == {
        STATE / "mosquitto.conf",
        STATE / "passwords",
        STATE / "acl",
        STATE / "mosquitto.log",
    }


ACCOUNTS = [
    device_account("th-01", "$7$101$c2FsdHNhbHRzYWx0$aGFzaA=="),
    app_account("app-9", "$7$101$YWFhYWFhYWFhYWFh$aGFzaA==", ["sensors/th-01/temperature"]),
    MqttAccount("idle", "$7$101$YmJiYmJiYmJiYmJi$aGFzaA==", ()),
]


def test_password_file_is_sorted_user_hash_lines() -> None:
    assert render_password_file(ACCOUNTS) == (
        "app-9:$7$101$YWFhYWFhYWFhYWFh$aGFzaA==\n"
        "idle:$7$101$YmJiYmJiYmJiYmJi$aGFzaA==\n"
        "th-01:$7$101$c2FsdHNhbHRzYWx0$aGFzaA==\n"
    )
    assert render_password_file(reversed(ACCOUNTS)) == render_password_file(ACCOUNTS)


def test_acl_file_has_one_user_block_per_account_and_nothing_anonymous() -> None:
    text = render_acl_file(ACCOUNTS)
    assert text == (
        "user app-9\n"
        "topic readwrite apps/app-9/#\n"
        "topic read sensors/th-01/temperature\n"
        "\n"
        "user idle\n"
        "\n"
        "user th-01\n"
        "topic write sensors/th-01/#\n"
    )
    # Rules before the first `user` line would apply to anonymous clients.
    assert text.startswith("user ")
    assert "pattern" not in text


def test_no_accounts_render_empty_files() -> None:
    assert render_password_file([]) == ""
    assert render_acl_file([]) == ""


def test_two_accounts_with_one_name_are_refused() -> None:
    twice = [*ACCOUNTS, MqttAccount("idle", "$7$101$x$y", (AclRule("read", "#"),))]
    with pytest.raises(InvalidInput, match="idle"):
        render_password_file(twice)
    with pytest.raises(InvalidInput, match="idle"):
        render_acl_file(twice)
