"""Unit tests of the DeliveryWorker and of the in-memory outbox it runs on."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mec_platform.notifications.model import (
    Attempt,
    DeliveryResult,
    DeliveryState,
    NewMessage,
    OutboxStats,
    RetryPolicy,
)
from mec_platform.notifications.service import (
    EXPIRE_EVERY,
    PRUNE_EVERY,
    RETAIN_FINISHED_FOR,
    DeliveryOptions,
    DeliveryWorker,
)
from mec_platform.registry.model import AppInstance, Subscription
from tests.unit.fakes import (
    Deliver,
    Fail,
    FakeCallbackSender,
    FakeClock,
    InMemoryUnitOfWorkFactory,
    OutboxRow,
    Raise,
)

PENDING, DELIVERED, DROPPED = DeliveryState.PENDING, DeliveryState.DELIVERED, DeliveryState.DROPPED


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Rig:
    uows: InMemoryUnitOfWorkFactory = field(default_factory=InMemoryUnitOfWorkFactory)
    clock: FakeClock = field(default_factory=FakeClock)
    sender: FakeCallbackSender = field(default_factory=FakeCallbackSender)
    workers: list[DeliveryWorker] = field(default_factory=list)
    senders: list[FakeCallbackSender] = field(default_factory=list)

    def worker(
        self,
        concurrency: int = 8,
        policy: RetryPolicy | None = None,
        lease: float = 30.0,
        sender: FakeCallbackSender | None = None,
    ) -> DeliveryWorker:
        options = DeliveryOptions(
            owner=uid("worker"),
            lease=lease,
            concurrency=concurrency,
            poll_interval=0.005,
            policy=policy or RetryPolicy(base_delay=1.0, max_delay=8.0),
        )
        sender = sender or self.sender
        self.senders.append(sender)
        worker = DeliveryWorker(self.uows, sender, self.clock, options)
        self.workers.append(worker)
        return worker

    def subscription(self, expiry_deadline: float | None = None) -> tuple[str, str]:
        """A live subscription of a fresh app; returns (subscription id, callback URI)."""
        app_id, sub_id = uid("app"), uid("sub")
        callback = f"http://sub.test/{sub_id}"
        with self.uows(write=True) as uow:
            uow.apps.add(AppInstance(app_id, "subscriber"))
            uow.subscriptions.add(
                Subscription(sub_id, app_id, callback, expiry_deadline=expiry_deadline)
            )
            uow.commit()
        return sub_id, callback

    def enqueue(self, sub_id: str, callback: str, count: int = 1, at: float | None = None) -> None:
        messages = [
            NewMessage(sub_id, callback, {"seq": n, "sub": sub_id}) for n in range(1, count + 1)
        ]
        with self.uows(write=True) as uow:
            uow.outbox.enqueue(messages, self.clock() if at is None else at)
            uow.commit()

    def seqs(self, callback: str, sender: FakeCallbackSender | None = None) -> list[int]:
        return [call.payload["seq"] for call in (sender or self.sender).calls_to(callback)]

    def only_row(self, sub_id: str) -> OutboxRow:
        [row] = self.uows.messages(sub_id)
        return row


def settle(worker: DeliveryWorker, timeout: float = 3.0) -> None:
    """Step until nothing is in flight and a step finds nothing to do (the fake clock stands)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progressed = worker.step()
        if not progressed:
            if worker.in_flight == 0:
                return
            time.sleep(0.001)
    raise AssertionError(f"worker did not settle; {worker.in_flight} deliveries in flight")


def wait_for(condition: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.001)


@pytest.fixture
def rig() -> Iterator[Rig]:
    rig = Rig()
    yield rig
    for sender in rig.senders:
        sender.release()
    stuck = []
    for worker in rig.workers:
        deadline = time.monotonic() + 3.0
        while worker.in_flight and time.monotonic() < deadline:
            worker.step()
            time.sleep(0.001)
        if worker.in_flight:
            stuck.append(worker)
        else:
            worker.drain(timeout=1.0)
    assert not stuck, "a worker kept deliveries in flight after the test"


# -- delivery -------------------------------------------------------------------------------
def test_delivers_claimed_messages_and_records_success(rig: Rig) -> None:
    worker = rig.worker()
    subs = [rig.subscription() for _ in range(3)]
    for sub_id, callback in subs:
        rig.enqueue(sub_id, callback)
    settle(worker)
    for sub_id, callback in subs:
        [call] = rig.sender.calls_to(callback)
        assert call.payload == {"seq": 1, "sub": sub_id}
        row = rig.only_row(sub_id)
        assert (row.state, row.attempts, row.last_status) == (DELIVERED, 1, 204)
        assert (row.delivered_at, row.lease_owner, row.leased_until) == (rig.clock(), None, None)
    assert rig.uows.stats() == OutboxStats(
        pending=0, delivered_total=3, attempts_total=3, failures_total=0
    )


def test_nothing_to_do_is_not_progress(rig: Rig) -> None:
    worker = rig.worker()
    assert worker.step() is False
    assert worker.in_flight == 0
    assert rig.sender.calls == []


def test_failed_delivery_is_retried_after_the_backoff_delay(rig: Rig) -> None:
    worker = rig.worker(policy=RetryPolicy(base_delay=2.0, max_delay=60.0))
    sub_id, callback = rig.subscription()
    rig.sender.program(callback, Fail(503), Deliver())
    rig.enqueue(sub_id, callback)
    settle(worker)
    row = rig.only_row(sub_id)
    assert (row.state, row.attempts, row.last_status) == (PENDING, 1, 503)
    assert row.next_attempt_at == rig.clock() + 2.0
    assert row.lease_owner is None

    rig.clock.advance(1.99)
    settle(worker)
    assert len(rig.sender.calls_to(callback)) == 1

    rig.clock.advance(0.01)
    settle(worker)
    assert len(rig.sender.calls_to(callback)) == 2
    assert rig.only_row(sub_id).state is DELIVERED


def test_backoff_grows_and_is_capped(rig: Rig) -> None:
    worker = rig.worker(policy=RetryPolicy(base_delay=1.0, max_delay=5.0))
    sub_id, callback = rig.subscription()
    rig.sender.program(callback, Fail(500))
    rig.enqueue(sub_id, callback)
    delays = []
    for _ in range(6):
        settle(worker)
        delay = rig.only_row(sub_id).next_attempt_at - rig.clock()
        delays.append(delay)
        rig.clock.advance(delay)
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert rig.only_row(sub_id).attempts == 6


def test_messages_of_one_subscription_go_out_in_order(rig: Rig) -> None:
    worker = rig.worker()
    slow_sub, slow = rig.subscription()
    fast_sub, fast = rig.subscription()
    rig.sender.program(slow, Fail(503), Fail(503), Deliver())
    rig.enqueue(slow_sub, slow, count=3)
    rig.enqueue(fast_sub, fast, count=3)
    settle(worker)
    # the head of `slow` failed: 2 and 3 wait for it; `fast` is not held up
    assert rig.seqs(slow) == [1]
    assert rig.seqs(fast) == [1, 2, 3]
    assert [row.attempts for row in rig.uows.pending(slow_sub)] == [1, 0, 0]

    rig.clock.advance(1.0)
    settle(worker)
    assert rig.seqs(slow) == [1, 1]

    rig.clock.advance(2.0)
    settle(worker)
    assert rig.seqs(slow) == [1, 1, 1, 2, 3]
    assert [row.state for row in rig.uows.messages(slow_sub)] == [DELIVERED] * 3


def test_concurrency_limit_is_respected(rig: Rig) -> None:
    worker = rig.worker(concurrency=2)
    subs = [rig.subscription() for _ in range(5)]
    for sub_id, callback in subs:
        rig.enqueue(sub_id, callback)
    rig.sender.hold()
    assert worker.step() is True
    wait_for(lambda: rig.sender.current == 2)
    assert worker.in_flight == 2
    assert worker.step() is False  # no room: nothing more is claimed
    leased = [row for row in rig.uows.messages() if row.lease_owner is not None]
    assert len(leased) == 2
    assert len(rig.sender.calls) == 2

    rig.sender.release()
    settle(worker)
    assert rig.uows.stats().delivered_total == 5
    assert rig.sender.max_concurrent == 2


def test_sender_exception_becomes_a_failed_attempt(rig: Rig) -> None:
    worker = rig.worker()
    sub_id, callback = rig.subscription()
    rig.sender.program(callback, Raise(RuntimeError("boom")), Deliver())
    rig.enqueue(sub_id, callback)
    settle(worker)
    row = rig.only_row(sub_id)
    assert (row.state, row.attempts, row.last_status) == (PENDING, 1, None)
    assert row.last_error is not None and "RuntimeError" in row.last_error
    assert rig.uows.stats().failures_total == 1

    rig.clock.advance(1.0)
    settle(worker)
    assert rig.only_row(sub_id).state is DELIVERED


def test_stats_counters(rig: Rig) -> None:
    worker = rig.worker()
    ok_sub, ok = rig.subscription()
    bad_sub, bad = rig.subscription()
    rig.sender.program(bad, Fail(500), Raise(), Deliver())
    rig.enqueue(ok_sub, ok, count=2)
    rig.enqueue(bad_sub, bad, count=2)
    settle(worker)
    assert rig.uows.stats() == OutboxStats(
        pending=2, delivered_total=2, attempts_total=3, failures_total=1
    )
    rig.clock.advance(1.0)
    settle(worker)
    rig.clock.advance(2.0)
    settle(worker)
    assert rig.uows.stats() == OutboxStats(
        pending=0, delivered_total=4, attempts_total=6, failures_total=2
    )


def test_an_expired_lease_lets_another_worker_take_over(rig: Rig) -> None:
    stuck_sender = FakeCallbackSender()
    stuck_sender.hold()
    first = rig.worker(lease=10.0, sender=stuck_sender)
    second = rig.worker(lease=10.0)
    sub_id, callback = rig.subscription()
    rig.enqueue(sub_id, callback)
    assert first.step() is True
    wait_for(lambda: stuck_sender.current == 1)
    assert second.step() is False  # leased by the first worker

    rig.clock.advance(10.5)
    settle(second)
    assert rig.only_row(sub_id).state is DELIVERED

    stuck_sender.release()
    settle(first)  # its late result is ignored: the lease is no longer its own
    row = rig.only_row(sub_id)
    assert (row.state, row.attempts) == (DELIVERED, 1)
    assert rig.uows.stats().attempts_total == 1


# -- housekeeping ---------------------------------------------------------------------------
def test_housekeeping_reaps_expired_subscriptions_and_drops_their_messages(rig: Rig) -> None:
    worker = rig.worker()
    expiring, expiring_cb = rig.subscription(expiry_deadline=rig.clock() + 10)
    live, live_cb = rig.subscription(expiry_deadline=rig.clock() + 100)
    rig.enqueue(expiring, expiring_cb, count=2)
    rig.enqueue(live, live_cb)
    rig.clock.advance(10)
    worker.housekeeping()
    assert set(rig.uows.store.subscriptions) == {live}
    assert [row.state for row in rig.uows.messages(expiring)] == [DROPPED, DROPPED]
    assert rig.uows.stats().pending == 1
    settle(worker)
    assert rig.sender.calls_to(expiring_cb) == []
    assert len(rig.sender.calls_to(live_cb)) == 1


def test_step_runs_housekeeping_periodically(rig: Rig) -> None:
    worker = rig.worker()
    not_due = rig.clock() + 1000  # enqueued "in the future": never claimed in this test
    first, first_cb = rig.subscription(expiry_deadline=rig.clock())
    rig.enqueue(first, first_cb, at=not_due)
    worker.step()  # the first step does housekeeping
    assert first not in rig.uows.store.subscriptions
    assert rig.only_row(first).state is DROPPED

    second, second_cb = rig.subscription(expiry_deadline=rig.clock())
    rig.enqueue(second, second_cb, at=not_due)
    rig.clock.advance(EXPIRE_EVERY - 0.5)
    worker.step()
    assert second in rig.uows.store.subscriptions
    rig.clock.advance(0.5)
    worker.step()
    assert second not in rig.uows.store.subscriptions
    assert rig.only_row(second).state is DROPPED


def test_an_expired_subscription_gets_nothing_queued_for_it(rig: Rig) -> None:
    worker = rig.worker()
    sub_id, callback = rig.subscription(expiry_deadline=rig.clock() + 1)
    rig.enqueue(sub_id, callback)
    rig.clock.advance(1)
    settle(worker)
    assert rig.sender.calls_to(callback) == []
    assert rig.only_row(sub_id).state is DROPPED


def test_housekeeping_prunes_old_finished_messages(rig: Rig) -> None:
    worker = rig.worker()
    sub_id, callback = rig.subscription()
    rig.enqueue(sub_id, callback)
    settle(worker)
    rig.clock.advance(RETAIN_FINISHED_FOR)
    worker.housekeeping()
    assert len(rig.uows.messages(sub_id)) == 1  # not older than the retention yet
    rig.clock.advance(1)
    worker.housekeeping()
    assert len(rig.uows.messages(sub_id)) == 1  # pruning runs only every PRUNE_EVERY
    rig.clock.advance(PRUNE_EVERY)
    worker.housekeeping()
    assert rig.uows.messages(sub_id) == []
    assert rig.uows.stats().delivered_total == 1  # totals survive pruning


# -- the loop -------------------------------------------------------------------------------
def test_run_delivers_until_stopped_then_drains(rig: Rig) -> None:
    worker = rig.worker()
    rig.workers.remove(worker)  # run() drains it itself
    sub_id, callback = rig.subscription()
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        rig.enqueue(sub_id, callback, count=3)
        wait_for(lambda: rig.uows.stats().delivered_total == 3)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert rig.seqs(callback) == [1, 2, 3]
    assert rig.sender.closed


def test_drain_waits_for_in_flight_deliveries(rig: Rig) -> None:
    worker = rig.worker()
    rig.workers.remove(worker)
    sub_id, callback = rig.subscription()
    rig.enqueue(sub_id, callback)
    rig.sender.hold()
    worker.step()
    wait_for(lambda: rig.sender.current == 1)
    threading.Timer(0.05, rig.sender.release).start()
    worker.drain(timeout=5)
    assert worker.in_flight == 0
    assert rig.only_row(sub_id).state is DELIVERED
    assert rig.sender.closed


# -- the in-memory outbox keeps the SQL outbox's rules --------------------------------------
def claim(rig: Rig, owner: str, limit: int = 10, lease: float = 30.0) -> list[int]:
    now = rig.clock()
    with rig.uows(write=True) as uow:
        claimed = uow.outbox.claim(owner, now, now + lease, limit)
        uow.commit()
    return [message.message_id for message in claimed]


def record(rig: Rig, owner: str, message_id: int, delivered: bool) -> None:
    with rig.uows(write=True) as uow:
        result = DeliveryResult(message_id, delivered, 200 if delivered else 500)
        uow.outbox.record(owner, [Attempt(result)], rig.clock())
        uow.commit()


def test_outbox_only_heads_are_claimable(rig: Rig) -> None:
    a, a_cb = rig.subscription()
    b, b_cb = rig.subscription()
    rig.enqueue(a, a_cb, count=2)
    rig.enqueue(b, b_cb, count=2)
    a1, a2 = (row.message_id for row in rig.uows.messages(a))
    b1, _ = (row.message_id for row in rig.uows.messages(b))
    assert claim(rig, "w1") == [a1, b1]
    assert claim(rig, "w2") == []  # heads are leased, the rest waits
    record(rig, "w1", a1, delivered=True)
    assert claim(rig, "w2") == [a2]


def test_outbox_claim_respects_limit_and_order(rig: Rig) -> None:
    subs = [rig.subscription() for _ in range(3)]
    for sub_id, callback in subs:
        rig.enqueue(sub_id, callback)
    ids = [row.message_id for row in rig.uows.messages()]
    assert claim(rig, "w1", limit=2) == ids[:2]
    assert claim(rig, "w2", limit=2) == ids[2:]


def test_outbox_record_needs_the_lease_owner(rig: Rig) -> None:
    sub_id, callback = rig.subscription()
    rig.enqueue(sub_id, callback)
    [message_id] = claim(rig, "w1")
    record(rig, "intruder", message_id, delivered=True)
    assert rig.only_row(sub_id).state is PENDING
    assert rig.uows.stats().attempts_total == 0
    record(rig, "w1", message_id, delivered=False)
    row = rig.only_row(sub_id)
    assert (row.state, row.attempts, row.next_attempt_at) == (PENDING, 1, rig.clock())
    assert rig.uows.stats().failures_total == 1


def test_outbox_uncommitted_changes_are_rolled_back(rig: Rig) -> None:
    sub_id, callback = rig.subscription()
    with rig.uows(write=True) as uow:
        uow.outbox.enqueue([NewMessage(sub_id, callback, {"x": 1})], rig.clock())
    assert rig.uows.messages() == []
