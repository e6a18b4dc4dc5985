"""In-memory doubles of our own ports, for unit tests of the registry, Application Support and
the delivery worker.

The unit of work works on a private copy of the committed store and publishes it on commit, so
a use case that raises half-way leaves nothing behind, as a database transaction would. The
outbox mirrors the semantics of `mec_platform/storage/outbox_repo.py`: only the head (lowest id
pending message) of each subscription is claimable, claims are leases, results are recorded only
by the lease owner, and running totals back `stats()`. The Application Support repositories
mirror `registry_repo.py` and `appsupport_repo.py`: removing an application instance takes its
rules and termination subscriptions along (and, like the foreign keys, refuses while services or
availability subscriptions still name it), and every rule write moves the rules version. The
identity repositories mirror `auth_repo.py`: a user name or an SSH key is taken once (Conflict),
removing a user takes its keys and login challenges along, and a challenge can be taken once.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Self

from mec_platform.appsupport.model import AppState, TerminationSubscription
from mec_platform.appsupport.rules import DnsRule, RuleState, TrafficRule
from mec_platform.auth.model import Client, LoginChallenge, Role, SshKey, User
from mec_platform.errors import Conflict, NotFound
from mec_platform.notifications.model import (
    Attempt,
    DeliveryResult,
    DeliveryState,
    NewMessage,
    OutboxMessage,
    OutboxStats,
)
from mec_platform.registry.model import (
    AppInstance,
    JsonObject,
    Service,
    ServiceQuery,
    Subscription,
)

ATTEMPTS = "delivery_attempts_total"
FAILURES = "delivery_failures_total"
DELIVERED = "delivered_total"


class DuplicateKey(Exception):
    """Raised where the database would report a primary key violation."""


class ForeignKeyViolation(Exception):
    """Raised where the database would refuse a write that breaks a foreign key."""


# -- clock and ids --------------------------------------------------------------------------
class FakeClock:
    """A settable, advanceable wall clock (seconds since the epoch)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def set(self, now: float) -> None:
        with self._lock:
            self._now = now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now


class SequentialIds:
    """Deterministic ids `<prefix>-1`, `<prefix>-2`, ...; the prefix is unique per instance."""

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix or f"id{uuid.uuid4().hex[:8]}"
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            return f"{self.prefix}-{next(self._counter)}"


# -- the store ------------------------------------------------------------------------------
@dataclass
class OutboxRow:
    """One row of the in-memory outbox table."""

    message_id: int
    subscription_id: str
    callback_uri: str
    payload: str
    state: DeliveryState
    attempts: int
    next_attempt_at: float
    created_at: float
    leased_until: float | None = None
    lease_owner: str | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: float | None = None

    @property
    def body(self) -> Any:
        return json.loads(self.payload)


@dataclass
class InMemoryStore:
    """Everything the database would hold; dicts keep insertion (creation) order."""

    apps: dict[str, AppInstance] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    next_message_id: int = 1
    registry_version: int = 0
    termination_subscriptions: dict[str, TerminationSubscription] = field(default_factory=dict)
    # Rules are keyed by (app_instance_id, rule id), as the tables' primary keys are.
    dns_rules: dict[tuple[str, str], DnsRule] = field(default_factory=dict)
    traffic_rules: dict[tuple[str, str], TrafficRule] = field(default_factory=dict)
    rules_version: int = 0
    rules_applied: int = 0
    users: dict[str, User] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    challenges: dict[str, LoginChallenge] = field(default_factory=dict)

    def copy(self) -> InMemoryStore:
        # Domain objects are frozen; outbox rows are mutable and copied one by one.
        return InMemoryStore(
            apps=dict(self.apps),
            services=dict(self.services),
            subscriptions=dict(self.subscriptions),
            outbox={key: replace(row) for key, row in self.outbox.items()},
            counters=dict(self.counters),
            next_message_id=self.next_message_id,
            registry_version=self.registry_version,
            termination_subscriptions=dict(self.termination_subscriptions),
            dns_rules=dict(self.dns_rules),
            traffic_rules=dict(self.traffic_rules),
            rules_version=self.rules_version,
            rules_applied=self.rules_applied,
            users=dict(self.users),
            clients=dict(self.clients),
            challenges=dict(self.challenges),
        )

    def snapshot(self) -> InMemoryStore:
        """A deep copy to compare against later (`==` compares every table)."""
        return copy.deepcopy(self)


# -- repositories ---------------------------------------------------------------------------
class InMemoryAppInstanceRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def add(self, app: AppInstance) -> None:
        if app.app_instance_id in self._store.apps:
            raise DuplicateKey(app.app_instance_id)
        self._store.apps[app.app_instance_id] = app
        self._store.registry_version += 1

    def update(self, app: AppInstance) -> None:
        if app.app_instance_id in self._store.apps:
            self._store.apps[app.app_instance_id] = app
        self._store.registry_version += 1

    def get(self, app_instance_id: str) -> AppInstance | None:
        return self._store.apps.get(app_instance_id)

    def get_for_update(self, app_instance_id: str) -> AppInstance | None:
        return self.get(app_instance_id)

    def owner_of(self, app_instance_id: str) -> tuple[bool, str | None]:
        app = self._store.apps.get(app_instance_id)
        return (True, app.owner) if app is not None else (False, None)

    def all(self) -> list[AppInstance]:
        return list(self._store.apps.values())

    def count(self) -> int:
        return len(self._store.apps)

    def terminations_due(self, now: float) -> list[AppInstance]:
        return [
            app
            for app in self._store.apps.values()
            if app.termination is not None and app.termination.deadline <= now
        ]

    def remove(self, app_instance_id: str) -> None:
        """Delete the instance with its rules and termination subscriptions."""
        store = self._store
        referenced = [
            s.ser_instance_id
            for s in store.services.values()
            if s.app_instance_id == app_instance_id
        ] + [
            s.subscription_id
            for s in store.subscriptions.values()
            if s.app_instance_id == app_instance_id
        ]
        if referenced:  # services.app_instance_id and subscriptions.app_instance_id are FKs
            raise ForeignKeyViolation(f"{app_instance_id} is still referenced: {referenced}")
        for key in [key for key in store.dns_rules if key[0] == app_instance_id]:
            del store.dns_rules[key]
        for key in [key for key in store.traffic_rules if key[0] == app_instance_id]:
            del store.traffic_rules[key]
        for sub in list(store.termination_subscriptions.values()):
            if sub.app_instance_id == app_instance_id:
                del store.termination_subscriptions[sub.subscription_id]
        store.apps.pop(app_instance_id, None)
        store.registry_version += 1
        store.rules_version += 1


class InMemoryServiceRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def add(self, service: Service) -> None:
        if service.ser_instance_id in self._store.services:
            raise DuplicateKey(service.ser_instance_id)
        self._store.services[service.ser_instance_id] = service
        self._store.registry_version += 1

    def get(self, ser_instance_id: str) -> Service | None:
        return self._store.services.get(ser_instance_id)

    def get_for_update(self, ser_instance_id: str) -> Service | None:
        return self.get(ser_instance_id)

    def update(self, service: Service) -> None:
        if service.ser_instance_id in self._store.services:
            self._store.services[service.ser_instance_id] = service
            self._store.registry_version += 1

    def remove(self, ser_instance_id: str) -> None:
        self._store.services.pop(ser_instance_id, None)
        self._store.registry_version += 1

    def query(self, query: ServiceQuery) -> list[Service]:
        return [
            service
            for service in self._store.services.values()
            if query.matches(service) and (not query.ready_apps_only or self._ready(service))
        ]

    def _ready(self, service: Service) -> bool:
        app = self._store.apps.get(service.app_instance_id)
        return app is not None and app.state is AppState.READY

    def version(self) -> int:
        return self._store.registry_version

    def record_heartbeat(self, ser_instance_id: str, at: float) -> None:
        service = self._store.services[ser_instance_id]
        self._store.services[ser_instance_id] = replace(service, last_heartbeat=at)

    def heartbeating(self) -> list[Service]:
        return [
            service
            for service in self._store.services.values()
            if service.liveness_interval is not None and service.state.value != "INACTIVE"
        ]

    def count(self) -> int:
        return len(self._store.services)


class InMemorySubscriptionRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def add(self, subscription: Subscription) -> None:
        if subscription.subscription_id in self._store.subscriptions:
            raise DuplicateKey(subscription.subscription_id)
        self._store.subscriptions[subscription.subscription_id] = subscription

    def get(self, subscription_id: str) -> Subscription | None:
        return self._store.subscriptions.get(subscription_id)

    def list_for_app(self, app_instance_id: str) -> list[Subscription]:
        return [
            sub
            for sub in self._store.subscriptions.values()
            if sub.app_instance_id == app_instance_id
        ]

    def list_live(self, now: float) -> list[Subscription]:
        return [
            sub
            for sub in self._store.subscriptions.values()
            if sub.expiry_deadline is None or sub.expiry_deadline > now
        ]

    def list_expired(self, now: float) -> list[Subscription]:
        return [
            sub
            for sub in self._store.subscriptions.values()
            if sub.expiry_deadline is not None and sub.expiry_deadline <= now
        ]

    def remove(self, subscription_id: str) -> None:
        self._store.subscriptions.pop(subscription_id, None)

    def count(self) -> int:
        return len(self._store.subscriptions)


class InMemoryOutboxRepository:
    """Same rules as SqlOutboxRepository, on `InMemoryStore.outbox`."""

    def __init__(self, store: InMemoryStore, fail_enqueue: Exception | None = None) -> None:
        self._store = store
        self._fail_enqueue = fail_enqueue

    def enqueue(self, messages: Sequence[NewMessage], now: float) -> None:
        if self._fail_enqueue is not None:
            raise self._fail_enqueue
        for message in messages:
            message_id = self._store.next_message_id
            self._store.next_message_id += 1
            self._store.outbox[message_id] = OutboxRow(
                message_id=message_id,
                subscription_id=message.subscription_id,
                callback_uri=message.callback_uri,
                # Stored as JSON text, like the SQL adapter: a payload that is not JSON fails here.
                payload=json.dumps(message.payload, separators=(",", ":")),
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )

    def _heads(self) -> list[OutboxRow]:
        heads: dict[str, OutboxRow] = {}
        for row in sorted(self._store.outbox.values(), key=lambda r: r.message_id):
            if row.state is DeliveryState.PENDING:
                heads.setdefault(row.subscription_id, row)
        return sorted(heads.values(), key=lambda r: r.message_id)

    def claim(self, owner: str, now: float, lease_until: float, limit: int) -> list[OutboxMessage]:
        due = [
            row
            for row in self._heads()
            if row.next_attempt_at <= now and (row.leased_until is None or row.leased_until < now)
        ][: max(limit, 0)]
        for row in due:
            row.lease_owner = owner
            row.leased_until = lease_until
        return [
            OutboxMessage(
                message_id=row.message_id,
                subscription_id=row.subscription_id,
                callback_uri=row.callback_uri,
                payload=row.body,
                attempts=row.attempts,
                created_at=row.created_at,
            )
            for row in due
        ]

    def record(self, owner: str, attempts: Sequence[Attempt], now: float) -> int:
        return sum(self._record_one(owner, a.result, now, a.retry_at) for a in attempts)

    def _record_one(
        self, owner: str, result: DeliveryResult, now: float, retry_at: float | None
    ) -> int:
        row = self._store.outbox.get(result.message_id)
        if row is None or row.lease_owner != owner:
            return 0
        row.attempts += 1
        row.leased_until = None
        row.lease_owner = None
        row.last_status = result.status_code
        row.last_error = result.error
        if result.delivered:
            row.state = DeliveryState.DELIVERED
            row.delivered_at = now
        else:
            row.next_attempt_at = retry_at if retry_at is not None else now
        self._bump(ATTEMPTS)
        self._bump(DELIVERED if result.delivered else FAILURES)
        return 1

    def drop_for_subscription(self, subscription_id: str, now: float) -> None:
        for row in self._store.outbox.values():
            if row.subscription_id == subscription_id and row.state is DeliveryState.PENDING:
                # Like the SQL adapter: the lease ends, so an in-flight result is not recorded.
                row.state = DeliveryState.DROPPED
                row.delivered_at = now
                row.leased_until = None
                row.lease_owner = None

    def prune(self, before: float) -> int:
        finished = (DeliveryState.DELIVERED, DeliveryState.DROPPED)
        old = [
            key
            for key, row in self._store.outbox.items()
            if row.state in finished and row.delivered_at is not None and row.delivered_at < before
        ]
        for key in old:
            del self._store.outbox[key]
        return len(old)

    def stats(self) -> OutboxStats:
        pending = sum(
            1 for row in self._store.outbox.values() if row.state is DeliveryState.PENDING
        )
        return OutboxStats(
            pending=pending,
            delivered_total=self._store.counters.get(DELIVERED, 0),
            attempts_total=self._store.counters.get(ATTEMPTS, 0),
            failures_total=self._store.counters.get(FAILURES, 0),
        )

    def _bump(self, name: str) -> None:
        self._store.counters[name] = self._store.counters.get(name, 0) + 1


# -- Application Support repositories -------------------------------------------------------
class InMemoryTerminationSubscriptionRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def add(self, subscription: TerminationSubscription) -> None:
        if subscription.subscription_id in self._store.termination_subscriptions:
            raise DuplicateKey(subscription.subscription_id)
        if subscription.app_instance_id not in self._store.apps:
            raise ForeignKeyViolation(subscription.app_instance_id)
        self._store.termination_subscriptions[subscription.subscription_id] = subscription

    def get(self, subscription_id: str) -> TerminationSubscription | None:
        return self._store.termination_subscriptions.get(subscription_id)

    def list_for_app(self, app_instance_id: str) -> list[TerminationSubscription]:
        return [
            sub
            for sub in self._store.termination_subscriptions.values()
            if sub.app_instance_id == app_instance_id
        ]

    def remove(self, subscription_id: str) -> None:
        self._store.termination_subscriptions.pop(subscription_id, None)


def _same_domain(stored: str, wanted: str) -> bool:
    """The SQL adapter's comparison: case-insensitive, a trailing dot does not count."""
    return stored.lower().rstrip(".") == wanted.lower().rstrip(".")


class InMemoryDnsRuleRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def add(self, app_instance_id: str, rule: DnsRule) -> None:
        key = (app_instance_id, rule.dns_rule_id)
        if key in self._store.dns_rules:
            raise DuplicateKey(key)
        if app_instance_id not in self._store.apps:
            raise ForeignKeyViolation(app_instance_id)
        self._store.dns_rules[key] = rule
        self._store.rules_version += 1

    def update(self, app_instance_id: str, rule: DnsRule) -> None:
        key = (app_instance_id, rule.dns_rule_id)
        if key in self._store.dns_rules:
            self._store.dns_rules[key] = rule
        self._store.rules_version += 1

    def get(self, app_instance_id: str, dns_rule_id: str) -> DnsRule | None:
        return self._store.dns_rules.get((app_instance_id, dns_rule_id))

    def owners_of(self, dns_rule_id: str) -> list[str]:
        return [app for app, rule_id in self._store.dns_rules if rule_id == dns_rule_id]

    def list_for_app(self, app_instance_id: str) -> list[DnsRule]:
        rules = [rule for (app, _), rule in self._store.dns_rules.items() if app == app_instance_id]
        return sorted(rules, key=lambda rule: rule.dns_rule_id)

    def active(self) -> list[tuple[str, DnsRule]]:
        active = [
            (app, rule)
            for (app, _), rule in self._store.dns_rules.items()
            if rule.state is RuleState.ACTIVE
        ]
        return sorted(active, key=lambda item: (item[1].domain_name, item[0], item[1].dns_rule_id))

    def lock_domain(self, domain_name: str) -> None:
        """One in-memory transaction at a time: nothing to lock."""

    def active_for_domain(self, domain_name: str) -> list[tuple[str, DnsRule]]:
        return [
            (app, rule)
            for app, rule in self.active()
            if _same_domain(rule.domain_name, domain_name)
        ]

    def version(self) -> int:
        return self._store.rules_version

    def applied_version(self) -> int:
        return self._store.rules_applied

    def record_applied(self, version: int) -> None:
        self._store.rules_applied = version

    def count_active(self) -> int:
        return len(self.active())


class InMemoryTrafficRuleRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def add(self, app_instance_id: str, rule: TrafficRule) -> None:
        key = (app_instance_id, rule.traffic_rule_id)
        if key in self._store.traffic_rules:
            raise DuplicateKey(key)
        if app_instance_id not in self._store.apps:
            raise ForeignKeyViolation(app_instance_id)
        self._store.traffic_rules[key] = rule
        self._store.rules_version += 1

    def update(self, app_instance_id: str, rule: TrafficRule) -> None:
        key = (app_instance_id, rule.traffic_rule_id)
        if key in self._store.traffic_rules:
            self._store.traffic_rules[key] = rule
        self._store.rules_version += 1

    def get(self, app_instance_id: str, traffic_rule_id: str) -> TrafficRule | None:
        return self._store.traffic_rules.get((app_instance_id, traffic_rule_id))

    def owners_of(self, traffic_rule_id: str) -> list[str]:
        return [app for app, rule_id in self._store.traffic_rules if rule_id == traffic_rule_id]

    def list_for_app(self, app_instance_id: str) -> list[TrafficRule]:
        rules = [r for (app, _), r in self._store.traffic_rules.items() if app == app_instance_id]
        return sorted(rules, key=lambda rule: (rule.priority, rule.traffic_rule_id))

    def active(self) -> list[tuple[str, TrafficRule]]:
        active = [
            (app, rule)
            for (app, _), rule in self._store.traffic_rules.items()
            if rule.state is RuleState.ACTIVE
        ]
        return sorted(active, key=lambda item: (item[1].priority, item[0], item[1].traffic_rule_id))

    def count_active(self) -> int:
        return len(self.active())


# -- identity repositories ------------------------------------------------------------------
KEY_TAKEN = "sshKey: this key is registered already"
CLIENT_TAKEN = "client: the app instance has OAuth2 client credentials already"


class InMemoryUserRepository:
    """Same rules as SqlUserRepository; a user's keys live in its `keys` tuple."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def add(self, user: User) -> None:
        if user.name in self._store.users:
            raise Conflict(f"userName: a user named '{user.name}' exists already")
        self._store.users[user.name] = replace(user, keys=())
        for key in user.keys:
            self.add_key(user.name, key)

    def get(self, name: str) -> User | None:
        return self._store.users.get(name)

    def all(self) -> list[User]:
        return sorted(self._store.users.values(), key=lambda user: (user.created_at, user.name))

    def with_role(self, role: Role, *, for_update: bool = False) -> list[User]:
        # No row locks needed: the fake's writers run one at a time.
        return [user for user in self.all() if user.role is role]

    def owned_instances(self, name: str) -> int:
        return sum(1 for app in self._store.apps.values() if app.owner == name)

    def set_role(self, name: str, role: Role) -> None:
        if name in self._store.users:
            self._store.users[name] = replace(self._store.users[name], role=role)

    def remove(self, name: str) -> None:
        """Remove the user with its keys and login challenges."""
        challenges = self._store.challenges
        for nonce in [n for n, c in challenges.items() if c.user_name == name]:
            del challenges[nonce]
        self._store.users.pop(name, None)

    def add_key(self, name: str, key: SshKey) -> None:
        user = self._store.users.get(name)
        if user is None:
            raise NotFound(f"user '{name}' does not exist")
        if self.owner_of_key(key.key_id) is not None:
            raise Conflict(KEY_TAKEN)
        self._store.users[name] = replace(user, keys=(*user.keys, key))

    def remove_key(self, name: str, key_id: str) -> None:
        user = self._store.users.get(name)
        if user is not None:
            kept = tuple(key for key in user.keys if key.key_id != key_id)
            self._store.users[name] = replace(user, keys=kept)

    def owner_of_key(self, key_id: str) -> str | None:
        for user in self._store.users.values():
            if any(key.key_id == key_id for key in user.keys):
                return user.name
        return None


class InMemoryClientRepository:
    """Same rules as SqlClientRepository: one client per app instance."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def add(self, client: Client) -> None:
        if client.client_id in self._store.clients:
            raise Conflict("client: this client id is taken already")
        app = client.app_instance_id
        if app is not None and self.for_app(app) is not None:
            raise Conflict(CLIENT_TAKEN)
        self._store.clients[client.client_id] = client

    def get(self, client_id: str) -> Client | None:
        return self._store.clients.get(client_id)

    def for_app(self, app_instance_id: str) -> Client | None:
        for client in self._store.clients.values():
            if client.app_instance_id == app_instance_id:
                return client
        return None

    def replace_secret(self, client_id: str, secret_hash: str) -> None:
        client = self._store.clients.get(client_id)
        if client is not None:
            self._store.clients[client_id] = replace(client, secret_hash=secret_hash)

    def remove_for_app(self, app_instance_id: str) -> None:
        client = self.for_app(app_instance_id)
        if client is not None:
            del self._store.clients[client.client_id]


class InMemoryChallengeRepository:
    """Same rules as SqlChallengeRepository: taking a challenge removes it."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def add(self, challenge: LoginChallenge) -> None:
        if challenge.nonce in self._store.challenges:
            raise DuplicateKey(challenge.nonce)
        if challenge.user_name not in self._store.users:  # login_challenges.user_name is a FK
            raise ForeignKeyViolation(challenge.user_name)
        self._store.challenges[challenge.nonce] = challenge

    def take(self, nonce: str) -> LoginChallenge | None:
        """Remove and return the challenge (None if unknown or already used)."""
        return self._store.challenges.pop(nonce, None)

    def purge_expired(self, now: float) -> int:
        expired = [n for n, c in self._store.challenges.items() if c.expires_at <= now]
        for nonce in expired:
            del self._store.challenges[nonce]
        return len(expired)


# -- unit of work ---------------------------------------------------------------------------
class InMemoryUnitOfWork:
    """A transaction on a copy of the committed store; `commit` publishes the copy."""

    apps: InMemoryAppInstanceRepository
    services: InMemoryServiceRepository
    subscriptions: InMemorySubscriptionRepository
    outbox: InMemoryOutboxRepository
    termination_subscriptions: InMemoryTerminationSubscriptionRepository
    dns_rules: InMemoryDnsRuleRepository
    traffic_rules: InMemoryTrafficRuleRepository
    users: InMemoryUserRepository
    clients: InMemoryClientRepository
    challenges: InMemoryChallengeRepository

    def __init__(self, factory: InMemoryUnitOfWorkFactory, write: bool) -> None:
        self._factory = factory
        self.write = write
        self._work: InMemoryStore | None = None
        self.committed = False

    def __enter__(self) -> Self:
        if self.write:
            # Writers are serialised, like SQLite's BEGIN IMMEDIATE or row locks in PostgreSQL.
            self._factory.write_lock.acquire()
        with self._factory.publish_lock:
            work = self._factory.store.copy()
        self._work = work
        self.apps = InMemoryAppInstanceRepository(work)
        self.services = InMemoryServiceRepository(work)
        self.subscriptions = InMemorySubscriptionRepository(work)
        self.outbox = InMemoryOutboxRepository(work, self._factory.fail_enqueue)
        self.termination_subscriptions = InMemoryTerminationSubscriptionRepository(work)
        self.dns_rules = InMemoryDnsRuleRepository(work)
        self.traffic_rules = InMemoryTrafficRuleRepository(work)
        self.users = InMemoryUserRepository(work)
        self.clients = InMemoryClientRepository(work)
        self.challenges = InMemoryChallengeRepository(work)
        self._factory.opened.append(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = None  # whatever was not committed is gone
        if self.write:
            self._factory.write_lock.release()

    def commit(self) -> None:
        assert self._work is not None, "commit outside the `with` block"
        with self._factory.publish_lock:
            self._factory.store = self._work.copy()
        self.committed = True
        self._factory.commits += 1


class InMemoryUnitOfWorkFactory:
    """Implements both unit-of-work factory ports; `store` is the committed state to inspect."""

    def __init__(self) -> None:
        self.store = InMemoryStore()
        self.write_lock = threading.RLock()
        self.publish_lock = threading.Lock()
        self.opened: list[InMemoryUnitOfWork] = []
        self.commits = 0
        self.fail_enqueue: Exception | None = None

    def __call__(self, *, write: bool = False) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self, write)

    # Inspection helpers (read the committed state only).
    def messages(self, subscription_id: str | None = None) -> list[OutboxRow]:
        rows = sorted(self.store.outbox.values(), key=lambda row: row.message_id)
        return [row for row in rows if subscription_id in (None, row.subscription_id)]

    def pending(self, subscription_id: str | None = None) -> list[OutboxRow]:
        return [row for row in self.messages(subscription_id) if row.state is DeliveryState.PENDING]

    def stats(self) -> OutboxStats:
        return InMemoryOutboxRepository(self.store).stats()


# -- callback sender ------------------------------------------------------------------------
@dataclass(frozen=True)
class Deliver:
    """The callback accepts the notification."""

    status: int = 204


@dataclass(frozen=True)
class Fail:
    """The callback answers with a non-2xx status."""

    status: int = 503


@dataclass(frozen=True)
class Raise:
    """The sender itself raises (a bug or an untranslated transport error)."""

    error: Exception = field(default_factory=lambda: RuntimeError("connection reset"))


Outcome = Deliver | Fail | Raise


@dataclass(frozen=True)
class SentCall:
    """One call of `FakeCallbackSender.send`."""

    message_id: int
    uri: str
    payload: JsonObject


class FakeCallbackSender:
    """Records every send; outcomes are programmed per URI (a queue, the last one sticks).

    `hold()` makes every send block until `release()`, to observe deliveries in flight.
    """

    def __init__(self, default: Outcome | None = None) -> None:
        self.default: Outcome = default or Deliver()
        self.calls: list[SentCall] = []
        self.closed = False
        self.max_concurrent = 0
        self._current = 0
        self._programs: dict[str, list[Outcome]] = {}
        self._lock = threading.Lock()
        self._gate = threading.Event()
        self._gate.set()

    def program(self, uri: str, *outcomes: Outcome) -> None:
        with self._lock:
            self._programs[uri] = list(outcomes)

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    @property
    def current(self) -> int:
        with self._lock:
            return self._current

    def calls_to(self, uri: str) -> list[SentCall]:
        with self._lock:
            return [call for call in self.calls if call.uri == uri]

    def _next_outcome(self, uri: str) -> Outcome:
        program = self._programs.get(uri)
        if not program:
            return self.default
        return program.pop(0) if len(program) > 1 else program[0]

    def send(self, message_id: int, uri: str, payload: JsonObject) -> DeliveryResult:
        with self._lock:
            self.calls.append(SentCall(message_id, uri, payload))
            outcome = self._next_outcome(uri)
            self._current += 1
            self.max_concurrent = max(self.max_concurrent, self._current)
        try:
            if not self._gate.wait(timeout=5.0):
                raise TimeoutError("FakeCallbackSender held for more than 5 s")
        finally:
            with self._lock:
                self._current -= 1
        if isinstance(outcome, Raise):
            raise outcome.error
        if isinstance(outcome, Fail):
            return DeliveryResult(message_id, False, outcome.status, f"HTTP {outcome.status}")
        return DeliveryResult(message_id, True, outcome.status)

    def close(self) -> None:
        self.closed = True
