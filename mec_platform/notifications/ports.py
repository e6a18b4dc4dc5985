"""Ports of the notification context: the outbox store and the callback sender."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mec_platform.notifications.model import (
    Attempt,
    DeliveryResult,
    NewMessage,
    OutboxMessage,
    OutboxStats,
)
from mec_platform.registry.model import JsonObject


class OutboxRepository(Protocol):
    """Persistent, ordered queue of notifications per subscription."""

    def enqueue(self, messages: Sequence[NewMessage], now: float) -> None: ...

    def claim(
        self, owner: str, now: float, lease_until: float, limit: int
    ) -> list[OutboxMessage]: ...

    def record(self, owner: str, attempts: Sequence[Attempt], now: float) -> int:
        """Write outcomes of messages `owner` still leases; returns how many were written."""
        ...

    def drop_for_subscription(self, subscription_id: str, now: float) -> None: ...

    def prune(self, before: float) -> int: ...

    def stats(self) -> OutboxStats: ...


class CallbackSender(Protocol):
    """Sends one notification body to a callback URI and reports the outcome."""

    def send(self, message_id: int, uri: str, payload: JsonObject) -> DeliveryResult: ...

    def close(self) -> None: ...
