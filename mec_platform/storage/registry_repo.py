"""SQLAlchemy repositories of the registry: app instances, services, subscriptions."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, delete, func, insert, or_, select, update

from mec_platform.appsupport.model import AppState, OperationAction, Termination
from mec_platform.appsupport.wire import app_info_from_wire
from mec_platform.registry.model import (
    AppInstance,
    LocalityType,
    Service,
    ServiceQuery,
    ServiceState,
    Subscription,
)
from mec_platform.registry.wire import (
    category_from_wire,
    category_to_wire,
    criteria_from_wire,
    criteria_to_wire,
    transport_from_wire,
    transport_to_wire,
)
from mec_platform.storage.counters import REGISTRY_VERSION, RULES_VERSION, bump, read
from mec_platform.storage.tables import (
    app_instances,
    dns_rules,
    services,
    subscriptions,
    termination_subscriptions,
    traffic_rules,
)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _app_values(app: AppInstance) -> dict[str, Any]:
    termination = app.termination
    return {
        "name": app.name,
        "state": app.state.value,
        "managed": app.managed,
        "app_info": _dumps(app.info.document) if app.info else None,
        "termination_action": termination.action.value if termination else None,
        "termination_deadline": termination.deadline if termination else None,
        "termination_timeout": termination.max_graceful_timeout if termination else None,
        "revision": app.revision,
        "owner": app.owner,
    }


def _app_of(row: Row[Any]) -> AppInstance:
    termination = (
        Termination(
            OperationAction(row.termination_action),
            row.termination_deadline,
            row.termination_timeout,
        )
        if row.termination_action
        else None
    )
    return AppInstance(
        app_instance_id=row.app_instance_id,
        name=row.name,
        state=AppState(row.state),
        managed=bool(row.managed),
        info=app_info_from_wire(json.loads(row.app_info)) if row.app_info else None,
        termination=termination,
        revision=row.revision,
        owner=row.owner,
    )


class SqlAppInstanceRepository:
    """Application instances in the `app_instances` table."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, app: AppInstance) -> None:
        self._conn.execute(
            insert(app_instances).values(
                app_instance_id=app.app_instance_id, created_at=self._now, **_app_values(app)
            )
        )
        bump(self._conn, REGISTRY_VERSION)

    def update(self, app: AppInstance) -> None:
        self._conn.execute(
            update(app_instances)
            .where(app_instances.c.app_instance_id == app.app_instance_id)
            .values(**_app_values(app))
        )
        bump(self._conn, REGISTRY_VERSION)

    def get(self, app_instance_id: str) -> AppInstance | None:
        row = self._conn.execute(
            select(app_instances).where(app_instances.c.app_instance_id == app_instance_id)
        ).first()
        return _app_of(row) if row else None

    def get_for_update(self, app_instance_id: str) -> AppInstance | None:
        # Row lock on PostgreSQL (SQLite write transactions are serialised already), so two
        # processes completing the same termination cannot both act on it.
        row = self._conn.execute(
            select(app_instances)
            .where(app_instances.c.app_instance_id == app_instance_id)
            .with_for_update()
        ).first()
        return _app_of(row) if row else None

    def owner_of(self, app_instance_id: str) -> tuple[bool, str | None]:
        """Whether the instance exists and its owner, reading only the owner column."""
        row = self._conn.execute(
            select(app_instances.c.owner).where(app_instances.c.app_instance_id == app_instance_id)
        ).first()
        return (True, row.owner) if row else (False, None)

    def all(self) -> list[AppInstance]:
        rows = self._conn.execute(select(app_instances).order_by(app_instances.c.created_at))
        return [_app_of(row) for row in rows]

    def count(self) -> int:
        query = select(func.count()).select_from(app_instances)
        return int(self._conn.execute(query).scalar() or 0)

    def terminations_due(self, now: float) -> list[AppInstance]:
        rows = self._conn.execute(
            select(app_instances).where(app_instances.c.termination_deadline <= now)
        )
        return [_app_of(row) for row in rows]

    def remove(self, app_instance_id: str) -> None:
        """Delete the instance with its rules and termination subscriptions."""
        for table in (dns_rules, traffic_rules, termination_subscriptions):
            self._conn.execute(delete(table).where(table.c.app_instance_id == app_instance_id))
        self._conn.execute(
            delete(app_instances).where(app_instances.c.app_instance_id == app_instance_id)
        )
        bump(self._conn, REGISTRY_VERSION)
        bump(self._conn, RULES_VERSION)


def _service_values(service: Service) -> dict[str, Any]:
    # Filterable attributes get columns; the rest of the representation is one JSON document.
    document = {
        "version": service.version,
        "serializer": service.serializer,
        "serCategory": category_to_wire(service.ser_category) if service.ser_category else None,
        "transportInfo": transport_to_wire(service.transport_info),
    }
    return {
        "app_instance_id": service.app_instance_id,
        "ser_name": service.ser_name,
        "ser_category_id": service.ser_category.id if service.ser_category else None,
        "state": service.state.value,
        "scope_of_locality": service.scope_of_locality.value,
        "consumed_local_only": service.consumed_local_only,
        "is_local": service.is_local,
        "liveness_interval": service.liveness_interval,
        "last_heartbeat": service.last_heartbeat,
        "revision": service.revision,
        "document": _dumps(document),
    }


def _service_of(row: Row[Any]) -> Service:
    document = json.loads(row.document)
    category = document.get("serCategory")
    return Service(
        ser_instance_id=row.ser_instance_id,
        app_instance_id=row.app_instance_id,
        ser_name=row.ser_name,
        version=document["version"],
        state=ServiceState(row.state),
        serializer=document["serializer"],
        transport_info=transport_from_wire(document["transportInfo"]),
        ser_category=category_from_wire(category) if category else None,
        scope_of_locality=LocalityType(row.scope_of_locality),
        consumed_local_only=row.consumed_local_only,
        is_local=row.is_local,
        liveness_interval=row.liveness_interval,
        last_heartbeat=row.last_heartbeat,
        revision=row.revision,
    )


class SqlServiceRepository:
    """Services in the `services` table; discovery filters run in SQL."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, service: Service) -> None:
        self._conn.execute(
            insert(services).values(
                ser_instance_id=service.ser_instance_id,
                created_at=self._now,
                **_service_values(service),
            )
        )
        bump(self._conn, REGISTRY_VERSION)

    def get(self, ser_instance_id: str) -> Service | None:
        row = self._conn.execute(
            select(services).where(services.c.ser_instance_id == ser_instance_id)
        ).first()
        return _service_of(row) if row else None

    def get_for_update(self, ser_instance_id: str) -> Service | None:
        row = self._conn.execute(
            select(services).where(services.c.ser_instance_id == ser_instance_id).with_for_update()
        ).first()
        return _service_of(row) if row else None

    def update(self, service: Service) -> None:
        self._conn.execute(
            update(services)
            .where(services.c.ser_instance_id == service.ser_instance_id)
            .values(**_service_values(service))
        )
        bump(self._conn, REGISTRY_VERSION)

    def record_heartbeat(self, ser_instance_id: str, at: float) -> None:
        self._conn.execute(
            update(services)
            .where(services.c.ser_instance_id == ser_instance_id)
            .values(last_heartbeat=at)
        )

    def remove(self, ser_instance_id: str) -> None:
        self._conn.execute(delete(services).where(services.c.ser_instance_id == ser_instance_id))
        bump(self._conn, REGISTRY_VERSION)

    def query(self, query: ServiceQuery) -> list[Service]:
        c = services.c
        conditions: list[ColumnElement[bool]] = []
        if query.ser_instance_ids:
            conditions.append(c.ser_instance_id.in_(query.ser_instance_ids))
        if query.ser_names:
            conditions.append(c.ser_name.in_(query.ser_names))
        if query.ser_category_id is not None:
            conditions.append(c.ser_category_id == query.ser_category_id)
        if query.scope_of_locality is not None:
            conditions.append(c.scope_of_locality == query.scope_of_locality.value)
        if query.consumed_local_only is not None:
            conditions.append(c.consumed_local_only == query.consumed_local_only)
        if query.is_local is not None:
            conditions.append(c.is_local == query.is_local)
        if query.app_instance_id is not None:
            conditions.append(c.app_instance_id == query.app_instance_id)
        if query.ready_apps_only:
            ready = select(app_instances.c.app_instance_id).where(
                app_instances.c.state == AppState.READY.value
            )
            conditions.append(c.app_instance_id.in_(ready))
        statement = select(services).where(*conditions).order_by(c.created_at, c.ser_instance_id)
        return [_service_of(row) for row in self._conn.execute(statement)]

    def version(self) -> int:
        return read(self._conn, REGISTRY_VERSION)

    def heartbeating(self) -> list[Service]:
        statement = select(services).where(
            services.c.liveness_interval.is_not(None), services.c.state != "INACTIVE"
        )
        return [_service_of(row) for row in self._conn.execute(statement)]

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(services)).scalar_one())


def _subscription_of(row: Row[Any]) -> Subscription:
    return Subscription(
        subscription_id=row.subscription_id,
        app_instance_id=row.app_instance_id,
        callback_reference=row.callback_reference,
        criteria=criteria_from_wire(json.loads(row.criteria)),
        expiry_deadline=row.expiry_deadline,
    )


class SqlSubscriptionRepository:
    """Service availability subscriptions in the `subscriptions` table."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, subscription: Subscription) -> None:
        self._conn.execute(
            insert(subscriptions).values(
                subscription_id=subscription.subscription_id,
                app_instance_id=subscription.app_instance_id,
                callback_reference=subscription.callback_reference,
                criteria=_dumps(criteria_to_wire(subscription.criteria)),
                expiry_deadline=subscription.expiry_deadline,
                created_at=self._now,
            )
        )

    def get(self, subscription_id: str) -> Subscription | None:
        row = self._conn.execute(
            select(subscriptions).where(subscriptions.c.subscription_id == subscription_id)
        ).first()
        return _subscription_of(row) if row else None

    def list_for_app(self, app_instance_id: str) -> list[Subscription]:
        rows = self._conn.execute(
            select(subscriptions)
            .where(subscriptions.c.app_instance_id == app_instance_id)
            .order_by(subscriptions.c.created_at, subscriptions.c.subscription_id)
        )
        return [_subscription_of(row) for row in rows]

    def list_live(self, now: float) -> list[Subscription]:
        deadline = subscriptions.c.expiry_deadline
        rows = self._conn.execute(
            select(subscriptions)
            .where(or_(deadline.is_(None), deadline > now))
            .order_by(subscriptions.c.created_at, subscriptions.c.subscription_id)
        )
        return [_subscription_of(row) for row in rows]

    def list_expired(self, now: float) -> list[Subscription]:
        rows = self._conn.execute(
            select(subscriptions).where(subscriptions.c.expiry_deadline <= now)
        )
        return [_subscription_of(row) for row in rows]

    def remove(self, subscription_id: str) -> None:
        self._conn.execute(
            delete(subscriptions).where(subscriptions.c.subscription_id == subscription_id)
        )

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(subscriptions)).scalar_one())
