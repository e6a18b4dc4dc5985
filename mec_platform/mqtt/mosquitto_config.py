"""Mosquitto's configuration, password file and ACL file as the platform writes them.

Authentication is always on (no anonymous access, no per-listener settings, so one password
file and one ACL file cover every listener). Every account is a `user` block of the ACL
file, so an account without rules may connect but neither publish nor receive anything.
Persistence keeps the queued QoS 1 messages of persistent sessions across broker restarts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from mec_platform.errors import InvalidInput
from mec_platform.mqtt.accounts import MqttAccount


@dataclass(frozen=True)
class BrokerSettings:
    """Where the broker listens and keeps its state, and its queueing limits."""

    listeners: tuple[tuple[str, int], ...]
    state_dir: Path
    max_queued_messages: int = 100_000
    max_inflight_messages: int = 1000
    message_size_limit: int = 65_536
    persistence: bool = True
    autosave_interval: int = 30
    persistent_client_expiration: str = "7d"

    @property
    def config_file(self) -> Path:
        return self.state_dir / "mosquitto.conf"

    @property
    def password_file(self) -> Path:
        return self.state_dir / "passwords"

    @property
    def acl_file(self) -> Path:
        return self.state_dir / "acl"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "mosquitto.log"


def render_config(settings: BrokerSettings) -> str:
    """The whole mosquitto.conf of the managed broker."""
    lines = [
        "# Written by the MEC platform; changes are overwritten.",
        "allow_anonymous false",
        f"password_file {settings.password_file}",
        f"acl_file {settings.acl_file}",
        f"persistence {'true' if settings.persistence else 'false'}",
        f"persistence_location {settings.state_dir}/",
        f"autosave_interval {settings.autosave_interval}",
        # Sessions of clients gone for good (a removed app) do not queue messages forever.
        f"persistent_client_expiration {settings.persistent_client_expiration}",
        f"max_queued_messages {settings.max_queued_messages}",
        f"max_inflight_messages {settings.max_inflight_messages}",
        # Unlike max_packet_size, an oversized publish is dropped without disconnecting
        # the sensor that sent it.
        f"message_size_limit {settings.message_size_limit}",
        f"log_dest file {settings.log_file}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "connection_messages true",
        "log_timestamp true",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        "",
    ]
    lines += [f"listener {port} {host}" for host, port in settings.listeners]
    return "\n".join(lines) + "\n"


def render_password_file(accounts: Iterable[MqttAccount]) -> str:
    """`user:hash` lines, sorted so that an unchanged set renders the same bytes."""
    return "".join(f"{a.username}:{a.password_hash}\n" for a in _sorted(accounts))


def render_acl_file(accounts: Iterable[MqttAccount]) -> str:
    """One `user` block per account with its `topic` lines; nothing for anonymous clients."""
    blocks = []
    for account in _sorted(accounts):
        rules = "".join(f"topic {rule.access} {rule.topic}\n" for rule in account.acl)
        blocks.append(f"user {account.username}\n{rules}")
    return "\n".join(blocks)


def _sorted(accounts: Iterable[MqttAccount]) -> list[MqttAccount]:
    # Mosquitto would keep one of two lines for a name; which one is not ours to guess.
    ordered = sorted(accounts, key=lambda account: account.username)
    for first, second in pairwise(ordered):
        if first.username == second.username:
            raise InvalidInput(f"username: '{first.username}' names two MQTT accounts")
    return ordered
