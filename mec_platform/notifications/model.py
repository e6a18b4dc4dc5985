"""Outbox messages and the retry policy applied when a callback does not take them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mec_platform.registry.model import JsonObject


class DeliveryState(StrEnum):
    """Lifecycle of one outbox message."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DROPPED = "DROPPED"


@dataclass(frozen=True)
class NewMessage:
    """A notification to send, written in the same transaction as the change it reports."""

    subscription_id: str
    callback_uri: str
    payload: JsonObject


@dataclass(frozen=True)
class OutboxMessage:
    """A claimed message, ready to be POSTed to its subscriber's callback."""

    message_id: int
    subscription_id: str
    callback_uri: str
    payload: JsonObject
    attempts: int
    created_at: float


@dataclass(frozen=True)
class DeliveryResult:
    """What happened when one message was POSTed."""

    message_id: int
    delivered: bool
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Attempt:
    """A delivery outcome to record; `retry_at` is when to try again if it failed."""

    result: DeliveryResult
    retry_at: float | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff, capped; retries go on until the subscription ends."""

    base_delay: float = 1.0
    max_delay: float = 300.0

    def delay_after(self, attempts: int) -> float:
        """Seconds to wait before the next try, after `attempts` failed tries."""
        exponent = min(max(attempts - 1, 0), 30)
        return float(min(self.base_delay * (2**exponent), self.max_delay))


@dataclass(frozen=True)
class OutboxStats:
    """Counts shown to operators and exported as metrics."""

    pending: int
    delivered_total: int
    attempts_total: int
    failures_total: int
