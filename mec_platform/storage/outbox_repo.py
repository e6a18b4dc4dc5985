"""The transactional outbox in SQL: ordered per subscription, claimed under leases.

Only the oldest pending message of a subscription (its head) can be claimed, so messages to
one subscriber go out in order. A claim is a lease: a worker that dies mid-delivery loses it
when it runs out and another worker takes the message over (at-least-once delivery). Claims
lock rows with FOR UPDATE SKIP LOCKED on PostgreSQL; on SQLite the claiming transaction holds
the database write lock (BEGIN IMMEDIATE), which serialises claimers just the same.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, func, insert, or_, select, update

from mec_platform.notifications.model import (
    Attempt,
    DeliveryState,
    NewMessage,
    OutboxMessage,
    OutboxStats,
)
from mec_platform.storage.counters import bump
from mec_platform.storage.tables import counters, outbox

ATTEMPTS = "delivery_attempts_total"
FAILURES = "delivery_failures_total"
DELIVERED = "delivered_total"


class SqlOutboxRepository:
    """Outbox rows in the `outbox` table plus running totals in `counters`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def enqueue(self, messages: Sequence[NewMessage], now: float) -> None:
        self._conn.execute(
            insert(outbox),
            [
                {
                    "subscription_id": message.subscription_id,
                    "callback_uri": message.callback_uri,
                    "payload": json.dumps(message.payload, separators=(",", ":")),
                    "state": DeliveryState.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for message in messages
            ],
        )

    def claim(self, owner: str, now: float, lease_until: float, limit: int) -> list[OutboxMessage]:
        c = outbox.c
        pending = c.state == DeliveryState.PENDING.value
        heads = select(func.min(c.id)).where(pending).group_by(c.subscription_id)
        free = or_(c.leased_until.is_(None), c.leased_until < now)
        ids = list(
            self._conn.execute(
                select(c.id)
                .where(c.id.in_(heads), c.next_attempt_at <= now, free)
                .order_by(c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        if not ids:
            return []
        self._conn.execute(
            update(outbox)
            .where(c.id.in_(ids), pending, free)
            .values(lease_owner=owner, leased_until=lease_until)
        )
        rows = self._conn.execute(
            select(outbox).where(c.id.in_(ids), c.lease_owner == owner).order_by(c.id)
        )
        return [
            OutboxMessage(
                message_id=row.id,
                subscription_id=row.subscription_id,
                callback_uri=row.callback_uri,
                payload=json.loads(row.payload),
                attempts=row.attempts,
                created_at=row.created_at,
            )
            for row in rows
        ]

    def record(self, owner: str, attempts: Sequence[Attempt], now: float) -> int:
        c = outbox.c
        finished = {"attempts": c.attempts + 1, "leased_until": None, "lease_owner": None}
        delivered = 0
        by_status: dict[int | None, list[int]] = defaultdict(list)
        for attempt in attempts:
            if attempt.result.delivered:
                by_status[attempt.result.status_code].append(attempt.result.message_id)
        # Successes are the common case: one statement per status code, not per message.
        for status, message_ids in by_status.items():
            delivered += self._conn.execute(
                update(outbox)
                .where(c.id.in_(message_ids), c.lease_owner == owner)
                .values(
                    **finished,
                    state=DeliveryState.DELIVERED.value,
                    delivered_at=now,
                    last_status=status,
                    last_error=None,
                )
            ).rowcount
        failed = 0
        for attempt in attempts:
            if attempt.result.delivered:
                continue
            failed += self._conn.execute(
                update(outbox)
                .where(c.id == attempt.result.message_id, c.lease_owner == owner)
                .values(
                    **finished,
                    next_attempt_at=now if attempt.retry_at is None else attempt.retry_at,
                    last_status=attempt.result.status_code,
                    last_error=attempt.result.error,
                )
            ).rowcount
        for name, count in (
            (ATTEMPTS, delivered + failed),
            (DELIVERED, delivered),
            (FAILURES, failed),
        ):
            if count:
                bump(self._conn, name, count)
        return delivered + failed

    def drop_for_subscription(self, subscription_id: str, now: float) -> None:
        c = outbox.c
        self._conn.execute(
            update(outbox)
            .where(c.subscription_id == subscription_id, c.state == DeliveryState.PENDING.value)
            .values(
                state=DeliveryState.DROPPED.value,
                delivered_at=now,
                leased_until=None,
                lease_owner=None,  # a delivery in flight must not turn it into DELIVERED
            )
        )

    def prune(self, before: float) -> int:
        """Forget delivered and dropped messages older than `before`; returns how many."""
        c = outbox.c
        finished = c.state.in_([DeliveryState.DELIVERED.value, DeliveryState.DROPPED.value])
        statement = outbox.delete().where(finished, c.delivered_at < before)
        return int(self._conn.execute(statement).rowcount)

    def stats(self) -> OutboxStats:
        pending = self._conn.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.state == DeliveryState.PENDING.value)
        ).scalar_one()
        rows = self._conn.execute(select(counters.c.name, counters.c.value))
        totals = {name: value for name, value in rows}
        return OutboxStats(
            pending=int(pending),
            delivered_total=int(totals.get(DELIVERED, 0)),
            attempts_total=int(totals.get(ATTEMPTS, 0)),
            failures_total=int(totals.get(FAILURES, 0)),
        )
