"""The delivery loop: claim due outbox messages, POST them concurrently, record the outcome."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from mec_platform.notifications.model import Attempt, DeliveryResult, OutboxMessage, RetryPolicy
from mec_platform.notifications.ports import CallbackSender
from mec_platform.registry.ports import Clock, UnitOfWorkFactory

log = logging.getLogger("mec_platform.notifications")

EXPIRE_EVERY = 1.0
PRUNE_EVERY = 60.0
RETAIN_FINISHED_FOR = 24 * 3600.0
ERROR_BACKOFF = 1.0


@dataclass(frozen=True)
class Chore:
    """Other periodic work the worker process does between deliveries (e.g. liveness)."""

    name: str
    every: float
    run: Callable[[], object]


@dataclass(frozen=True)
class DeliveryOptions:
    """Tuning of one delivery worker."""

    owner: str
    lease: float = 30.0
    concurrency: int = 32
    poll_interval: float = 0.05
    policy: RetryPolicy = field(default_factory=RetryPolicy)


class DeliveryWorker:
    """Keeps up to `concurrency` deliveries in flight; every result is written back in batches."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        sender: CallbackSender,
        clock: Clock,
        options: DeliveryOptions,
        chores: Sequence[Chore] = (),
    ) -> None:
        self._uows = uows
        self._sender = sender
        self._clock = clock
        self._options = options
        self._pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="deliver")
        self._finished: queue.SimpleQueue[tuple[OutboxMessage, DeliveryResult]] = (
            queue.SimpleQueue()
        )
        self._wake = threading.Event()
        self._in_flight = 0
        self._last_expiry = float("-inf")
        self._last_prune = float("-inf")
        self._chores = {chore: float("-inf") for chore in chores}

    def wake(self) -> None:
        """Look for due messages now instead of at the next poll (thread-safe)."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        """Deliveries started and not yet recorded."""
        return self._in_flight

    def step(self) -> bool:
        """Record finished deliveries and start new ones; True when anything happened."""
        recorded = self._record_finished()
        # Expiry runs before claiming so an expired subscription gets nothing more.
        if self._clock() - self._last_expiry >= EXPIRE_EVERY:
            self.housekeeping()
        self._run_due_chores()
        started = self._start_due()
        return bool(recorded or started)

    def run(self, stop: threading.Event) -> None:
        """Deliver until `stop` is set, then finish what is in flight."""
        while not stop.is_set():
            try:
                busy = self.step()
            except Exception:  # a database outage must not end the worker
                log.exception("delivery step failed; retrying")
                stop.wait(ERROR_BACKOFF)
                continue
            if not busy:
                self._wake.wait(self._options.poll_interval)
                self._wake.clear()
        self.drain()

    def drain(self, timeout: float = 30.0) -> None:
        """Wait for in-flight deliveries and record them; used at shutdown and in tests."""
        deadline = self._clock() + timeout
        while self._in_flight and self._clock() < deadline:
            if not self._record_finished():
                self._wake.wait(0.05)
                self._wake.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._sender.close()

    def housekeeping(self) -> None:
        """End expired subscriptions; now and then, forget old finished messages."""
        now = self._clock()
        self._last_expiry = now
        prune = now - self._last_prune >= PRUNE_EVERY
        with self._uows() as uow:
            expired = uow.subscriptions.list_expired(now)
        if not expired and not prune:
            return
        with self._uows(write=True) as uow:
            for subscription in expired:
                uow.subscriptions.remove(subscription.subscription_id)
                uow.outbox.drop_for_subscription(subscription.subscription_id, now)
                log.info(
                    "subscription expired",
                    extra={"subscription_id": subscription.subscription_id},
                )
            if prune:
                uow.outbox.prune(now - RETAIN_FINISHED_FOR)
                self._last_prune = now
            uow.commit()

    def _run_due_chores(self) -> None:
        for chore, last in self._chores.items():
            now = self._clock()
            if now - last >= chore.every:
                self._chores[chore] = now
                chore.run()

    def _start_due(self) -> int:
        room = self._options.concurrency - self._in_flight
        if room <= 0:
            return 0
        now = self._clock()
        with self._uows(write=True) as uow:
            messages = uow.outbox.claim(self._options.owner, now, now + self._options.lease, room)
            uow.commit()
        for message in messages:
            self._in_flight += 1
            self._pool.submit(self._deliver, message)
        return len(messages)

    def _deliver(self, message: OutboxMessage) -> None:
        try:
            result = self._sender.send(message.message_id, message.callback_uri, message.payload)
        except Exception as exc:  # the sender translates its errors; this is the last guard
            result = DeliveryResult(message.message_id, False, error=f"{type(exc).__name__}")
        self._finished.put((message, result))
        self._wake.set()

    def _record_finished(self) -> int:
        done: list[tuple[OutboxMessage, DeliveryResult]] = []
        while True:
            try:
                done.append(self._finished.get_nowait())
            except queue.Empty:
                break
        if not done:
            return 0
        now = self._clock()
        policy = self._options.policy
        attempts = [
            Attempt(
                result, None if result.delivered else now + policy.delay_after(message.attempts + 1)
            )
            for message, result in done
        ]
        try:
            with self._uows(write=True) as uow:
                uow.outbox.record(self._options.owner, attempts, now)
                uow.commit()
        except Exception:
            for item in done:  # keep them for the next step; leases still protect the rows
                self._finished.put(item)
            raise
        for (message, _result), attempt in zip(done, attempts, strict=True):
            _log_attempt(message, attempt, now)
        self._in_flight -= len(done)
        return len(done)


def _log_attempt(message: OutboxMessage, attempt: Attempt, now: float) -> None:
    result, retry_at = attempt.result, attempt.retry_at
    fields = {
        "message_id": message.message_id,
        "subscription_id": message.subscription_id,
        "callback": message.callback_uri,
        "attempt": message.attempts + 1,
        "status_code": result.status_code,
        "latency_s": round(now - message.created_at, 4),
    }
    if result.delivered:
        log.info("notification delivered", extra=fields)
    else:
        fields.update(error=result.error, retry_in_s=round((retry_at or now) - now, 3))
        log.warning("notification delivery failed", extra=fields)
