"""The SQL outbox: per-subscription order, leases, concurrent claimers, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from mec_platform.notifications.model import Attempt, DeliveryResult, NewMessage
from mec_platform.storage.engine import make_engine
from mec_platform.storage.migrate import upgrade
from mec_platform.storage.tables import outbox
from mec_platform.storage.uow import SqlUnitOfWorkFactory


@pytest.fixture
def uows(database_url: str) -> SqlUnitOfWorkFactory:
    engine = make_engine(database_url)
    upgrade(engine)
    yield SqlUnitOfWorkFactory(engine)  # type: ignore[misc]
    engine.dispose()


def _enqueue(uows: SqlUnitOfWorkFactory, subscription: str, count: int, now: float = 0.0) -> None:
    with uows(write=True) as uow:
        uow.outbox.enqueue(
            [NewMessage(subscription, "http://127.0.0.1:9/cb", {"n": i}) for i in range(count)],
            now,
        )
        uow.commit()


def _claim(uows: SqlUnitOfWorkFactory, owner: str, now: float, limit: int = 100) -> list[int]:
    with uows(write=True) as uow:
        messages = uow.outbox.claim(owner, now, now + 30, limit)
        uow.commit()
    return [m.payload["n"] for m in messages]


def _record(uows: SqlUnitOfWorkFactory, owner: str, now: float, delivered: bool) -> None:
    with uows.engine.connect() as conn:
        leased = conn.execute(select(outbox.c.id).where(outbox.c.lease_owner == owner))
        message_ids = list(leased.scalars())
    with uows(write=True) as uow:
        for message_id in message_ids:
            result = DeliveryResult(message_id, delivered, 204 if delivered else 500)
            uow.outbox.record(owner, [Attempt(result, None if delivered else now + 5)], now)
        uow.commit()


def test_only_the_head_of_each_subscription_is_claimed(uows: SqlUnitOfWorkFactory) -> None:
    _enqueue(uows, "s1", 3)
    _enqueue(uows, "s2", 2)
    assert sorted(_claim(uows, "w1", now=1)) == [0, 0]
    assert _claim(uows, "w2", now=2) == []  # heads are leased, followers must wait
    _record(uows, "w1", now=3, delivered=True)
    assert sorted(_claim(uows, "w1", now=4)) == [1, 1]


def test_failed_message_blocks_its_subscription_until_retry(uows: SqlUnitOfWorkFactory) -> None:
    _enqueue(uows, "s1", 2)
    assert _claim(uows, "w1", now=1) == [0]
    _record(uows, "w1", now=2, delivered=False)
    assert _claim(uows, "w1", now=3) == []  # retry not yet due, message 1 must not overtake
    assert _claim(uows, "w1", now=8) == [0]
    with uows() as uow:
        stats = uow.outbox.stats()
    assert (stats.pending, stats.attempts_total, stats.failures_total) == (2, 1, 1)


def test_an_expired_lease_is_taken_over(uows: SqlUnitOfWorkFactory) -> None:
    _enqueue(uows, "s1", 1)
    assert _claim(uows, "crashed", now=1) == [0]
    assert _claim(uows, "survivor", now=20) == []
    assert _claim(uows, "survivor", now=40) == [0]


def test_dropped_subscription_messages_are_not_claimed(uows: SqlUnitOfWorkFactory) -> None:
    _enqueue(uows, "s1", 3)
    with uows(write=True) as uow:
        uow.outbox.drop_for_subscription("s1", 1)
        uow.commit()
    assert _claim(uows, "w1", now=2) == []
    with uows(write=True) as uow:
        assert uow.outbox.prune(before=10) == 3
        uow.commit()


def test_concurrent_claimers_never_share_a_message(uows: SqlUnitOfWorkFactory) -> None:
    subscriptions = [f"s{i}" for i in range(40)]
    for subscription in subscriptions:
        _enqueue(uows, subscription, 1)
    claimed: Counter[str] = Counter()
    lock = threading.Lock()

    def claimer(owner: str) -> None:
        for _ in range(20):
            with uows(write=True) as uow:
                messages = uow.outbox.claim(owner, 1, 31, 3)
                uow.commit()
            with lock:
                claimed.update(m.subscription_id for m in messages)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(claimed) == set(subscriptions)
    assert max(claimed.values()) == 1
