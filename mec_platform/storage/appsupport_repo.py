"""SQLAlchemy repositories of Application Support: termination subscriptions and rules."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, text, update

from mec_platform.appsupport.model import TerminationSubscription
from mec_platform.appsupport.rules import DnsRule, IpAddressType, RuleState, TrafficRule
from mec_platform.appsupport.wire import traffic_rule_from_wire, traffic_rule_to_wire
from mec_platform.storage.counters import RULES_APPLIED, RULES_VERSION, bump, put, read
from mec_platform.storage.tables import dns_rules, termination_subscriptions, traffic_rules


class SqlTerminationSubscriptionRepository:
    """AppTerminationNotificationSubscriptions in `termination_subscriptions`."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, subscription: TerminationSubscription) -> None:
        self._conn.execute(
            insert(termination_subscriptions).values(
                subscription_id=subscription.subscription_id,
                app_instance_id=subscription.app_instance_id,
                callback_reference=subscription.callback_reference,
                created_at=self._now,
            )
        )

    def get(self, subscription_id: str) -> TerminationSubscription | None:
        t = termination_subscriptions
        row = self._conn.execute(select(t).where(t.c.subscription_id == subscription_id)).first()
        return _subscription_of(row) if row else None

    def list_for_app(self, app_instance_id: str) -> list[TerminationSubscription]:
        t = termination_subscriptions
        rows = self._conn.execute(
            select(t)
            .where(t.c.app_instance_id == app_instance_id)
            .order_by(t.c.created_at, t.c.subscription_id)
        )
        return [_subscription_of(row) for row in rows]

    def remove(self, subscription_id: str) -> None:
        t = termination_subscriptions
        self._conn.execute(delete(t).where(t.c.subscription_id == subscription_id))


def _subscription_of(row: Row[Any]) -> TerminationSubscription:
    return TerminationSubscription(row.subscription_id, row.app_instance_id, row.callback_reference)


def _dns_of(row: Row[Any]) -> DnsRule:
    return DnsRule(
        dns_rule_id=row.dns_rule_id,
        domain_name=row.domain_name,
        ip_address_type=IpAddressType(row.ip_address_type),
        ip_address=row.ip_address,
        state=RuleState(row.state),
        ttl=row.ttl,
        revision=row.revision,
    )


class SqlDnsRuleRepository:
    """DNS rules in `dns_rules`, keyed by application instance and rule id."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def _values(self, rule: DnsRule) -> dict[str, Any]:
        return {
            "domain_name": rule.domain_name,
            "ip_address_type": rule.ip_address_type.value,
            "ip_address": rule.ip_address,
            "ttl": rule.ttl,
            "state": rule.state.value,
            "revision": rule.revision,
        }

    def add(self, app_instance_id: str, rule: DnsRule) -> None:
        self._conn.execute(
            insert(dns_rules).values(
                app_instance_id=app_instance_id,
                dns_rule_id=rule.dns_rule_id,
                created_at=self._now,
                **self._values(rule),
            )
        )
        bump(self._conn, RULES_VERSION)

    def update(self, app_instance_id: str, rule: DnsRule) -> None:
        d = dns_rules
        self._conn.execute(
            update(d)
            .where(d.c.app_instance_id == app_instance_id, d.c.dns_rule_id == rule.dns_rule_id)
            .values(**self._values(rule))
        )
        bump(self._conn, RULES_VERSION)

    def get(self, app_instance_id: str, dns_rule_id: str) -> DnsRule | None:
        d = dns_rules
        row = self._conn.execute(
            select(d).where(d.c.app_instance_id == app_instance_id, d.c.dns_rule_id == dns_rule_id)
        ).first()
        return _dns_of(row) if row else None

    def owners_of(self, dns_rule_id: str) -> list[str]:
        """The application instances that have a DNS rule with this id."""
        d = dns_rules
        rows = self._conn.execute(select(d.c.app_instance_id).where(d.c.dns_rule_id == dns_rule_id))
        return [row.app_instance_id for row in rows]

    def list_for_app(self, app_instance_id: str) -> list[DnsRule]:
        d = dns_rules
        rows = self._conn.execute(
            select(d).where(d.c.app_instance_id == app_instance_id).order_by(d.c.dns_rule_id)
        )
        return [_dns_of(row) for row in rows]

    def active(self) -> list[tuple[str, DnsRule]]:
        """Every ACTIVE rule with its application instance."""
        d = dns_rules
        rows = self._conn.execute(
            select(d)
            .where(d.c.state == RuleState.ACTIVE.value)
            .order_by(d.c.domain_name, d.c.app_instance_id, d.c.dns_rule_id)
        )
        return [(row.app_instance_id, _dns_of(row)) for row in rows]

    def active_for_domain(self, domain_name: str) -> list[tuple[str, DnsRule]]:
        """ACTIVE rules of any application for one domain name (case-insensitive)."""
        d = dns_rules
        wanted = domain_name.lower().rstrip(".")
        rows = self._conn.execute(
            select(d).where(
                d.c.state == RuleState.ACTIVE.value,
                func.lower(d.c.domain_name).in_({wanted, f"{wanted}."}),
            )
        )
        return [(row.app_instance_id, _dns_of(row)) for row in rows]

    def lock_domain(self, domain_name: str) -> None:
        # SQLite write transactions are serialised already (BEGIN IMMEDIATE, write gate);
        # PostgreSQL takes a transaction-scoped advisory lock on the normalised name.
        if self._conn.dialect.name != "postgresql":
            return
        wanted = domain_name.lower().rstrip(".")
        key = int.from_bytes(hashlib.sha256(wanted.encode()).digest()[:8], "big", signed=True)
        self._conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def version(self) -> int:
        """Changes whenever any DNS or traffic rule changes."""
        return read(self._conn, RULES_VERSION)

    def applied_version(self) -> int:
        """The rules version the data plane last put in force (0 if never)."""
        return read(self._conn, RULES_APPLIED)

    def record_applied(self, version: int) -> None:
        """Note the rules version the data plane has just put in force."""
        put(self._conn, RULES_APPLIED, version)

    def count_active(self) -> int:
        """How many DNS rules are ACTIVE."""
        d = dns_rules
        query = select(func.count()).select_from(d).where(d.c.state == RuleState.ACTIVE.value)
        return int(self._conn.execute(query).scalar() or 0)


def _traffic_of(row: Row[Any]) -> TrafficRule:
    return traffic_rule_from_wire(json.loads(row.document), revision=row.revision)


class SqlTrafficRuleRepository:
    """Traffic rules in `traffic_rules`; the rule is one JSON document beside its columns."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def _values(self, rule: TrafficRule) -> dict[str, Any]:
        return {
            "priority": rule.priority,
            "state": rule.state.value,
            "document": json.dumps(traffic_rule_to_wire(rule), separators=(",", ":")),
            "revision": rule.revision,
        }

    def add(self, app_instance_id: str, rule: TrafficRule) -> None:
        self._conn.execute(
            insert(traffic_rules).values(
                app_instance_id=app_instance_id,
                traffic_rule_id=rule.traffic_rule_id,
                created_at=self._now,
                **self._values(rule),
            )
        )
        bump(self._conn, RULES_VERSION)

    def update(self, app_instance_id: str, rule: TrafficRule) -> None:
        t = traffic_rules
        self._conn.execute(
            update(t)
            .where(
                t.c.app_instance_id == app_instance_id, t.c.traffic_rule_id == rule.traffic_rule_id
            )
            .values(**self._values(rule))
        )
        bump(self._conn, RULES_VERSION)

    def get(self, app_instance_id: str, traffic_rule_id: str) -> TrafficRule | None:
        t = traffic_rules
        row = self._conn.execute(
            select(t).where(
                t.c.app_instance_id == app_instance_id, t.c.traffic_rule_id == traffic_rule_id
            )
        ).first()
        return _traffic_of(row) if row else None

    def owners_of(self, traffic_rule_id: str) -> list[str]:
        """The application instances that have a traffic rule with this id."""
        t = traffic_rules
        rows = self._conn.execute(
            select(t.c.app_instance_id).where(t.c.traffic_rule_id == traffic_rule_id)
        )
        return [row.app_instance_id for row in rows]

    def list_for_app(self, app_instance_id: str) -> list[TrafficRule]:
        t = traffic_rules
        rows = self._conn.execute(
            select(t)
            .where(t.c.app_instance_id == app_instance_id)
            .order_by(t.c.priority, t.c.traffic_rule_id)
        )
        return [_traffic_of(row) for row in rows]

    def count_active(self) -> int:
        """How many traffic rules are ACTIVE."""
        t = traffic_rules
        query = select(func.count()).select_from(t).where(t.c.state == RuleState.ACTIVE.value)
        return int(self._conn.execute(query).scalar() or 0)

    def active(self) -> list[tuple[str, TrafficRule]]:
        """Every ACTIVE rule with its application instance, highest priority first."""
        t = traffic_rules
        rows = self._conn.execute(
            select(t)
            .where(t.c.state == RuleState.ACTIVE.value)
            .order_by(t.c.priority, t.c.app_instance_id, t.c.traffic_rule_id)
        )
        return [(row.app_instance_id, _traffic_of(row)) for row in rows]
