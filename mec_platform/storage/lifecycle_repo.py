"""SQLAlchemy repositories of the app lifecycle: MEC 010-2 app instances, operation
occurrences and LCM subscriptions (packages: packages_repo.py).

Documents (AppD, filters, parameters, errors) are JSON text beside the columns that queries
filter on. Occurrences are claimed under leases the way the outbox is: FOR UPDATE SKIP LOCKED
on PostgreSQL; on SQLite the claiming write transaction (BEGIN IMMEDIATE) serialises claimers.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from mec_platform.lifecycle.model import (
    AppOperationalState,
    CancelMode,
    Deployment,
    InstantiationState,
    LcmInstance,
    LcmOperation,
    LcmSubscription,
    LcmSubscriptionType,
    OperationState,
    OpOcc,
)
from mec_platform.storage.json_columns import dumps, maybe_dumps, maybe_loads
from mec_platform.storage.tables import (
    lcm_instances,
    lcm_op_occs,
    lcm_subscriptions,
)

RUNNABLE = (OperationState.STARTING.value, OperationState.PROCESSING.value)


def _deployment_values(deployment: Deployment | None) -> dict[str, Any]:
    if deployment is None:
        return dict.fromkeys(("container_id", "container_name", "image", "ip_address", "ports"))
    return {
        "container_id": deployment.container_id,
        "container_name": deployment.container_name,
        "image": deployment.image,
        "ip_address": deployment.ip_address,
        "ports": dumps(list(deployment.ports)),
    }


def _instance_values(instance: LcmInstance) -> dict[str, Any]:
    state = instance.operational_state
    return {
        "app_d_id": instance.app_d_id,
        "app_pkg_id": instance.app_pkg_id,
        "name": instance.name,
        "description": instance.description,
        "owner": instance.owner,
        "instantiation_state": instance.instantiation_state.value,
        "operational_state": state.value if state else None,
        **_deployment_values(instance.deployment),
        "current_op": instance.current_op,
        "restarts": instance.restarts,
        "runtime_problem": instance.runtime_problem,
    }


def _instance_of(row: Row[Any]) -> LcmInstance:
    deployment = (
        Deployment(
            container_id=row.container_id,
            container_name=row.container_name,
            image=row.image,
            ip_address=row.ip_address,
            ports=tuple(json.loads(row.ports)),
        )
        if row.container_id is not None
        else None
    )
    state = row.operational_state
    return LcmInstance(
        app_instance_id=row.app_instance_id,
        app_d_id=row.app_d_id,
        app_pkg_id=row.app_pkg_id,
        name=row.name,
        description=row.description,
        owner=row.owner,
        instantiation_state=InstantiationState(row.instantiation_state),
        operational_state=AppOperationalState(state) if state else None,
        created_at=row.created_at,
        deployment=deployment,
        current_op=row.current_op,
        restarts=row.restarts,
        runtime_problem=row.runtime_problem,
    )


class SqlLcmInstanceRepository:
    """MEC 010-2 app instances in `lcm_instances`, beside their `app_instances` row."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, instance: LcmInstance) -> None:
        self._conn.execute(
            insert(lcm_instances).values(
                app_instance_id=instance.app_instance_id,
                created_at=instance.created_at,
                **_instance_values(instance),
            )
        )

    def get(self, app_instance_id: str) -> LcmInstance | None:
        t = lcm_instances
        row = self._conn.execute(select(t).where(t.c.app_instance_id == app_instance_id)).first()
        return _instance_of(row) if row else None

    def get_for_update(self, app_instance_id: str) -> LcmInstance | None:
        # Row lock on PostgreSQL (SQLite write transactions are serialised already), so a
        # reconciliation cannot overwrite an operation that started meanwhile.
        t = lcm_instances
        row = self._conn.execute(
            select(t).where(t.c.app_instance_id == app_instance_id).with_for_update()
        ).first()
        return _instance_of(row) if row else None

    def all(self) -> list[LcmInstance]:
        t = lcm_instances
        rows = self._conn.execute(select(t).order_by(t.c.created_at, t.c.app_instance_id))
        return [_instance_of(row) for row in rows]

    def update(self, instance: LcmInstance) -> None:
        t = lcm_instances
        self._conn.execute(
            update(t)
            .where(t.c.app_instance_id == instance.app_instance_id)
            .values(**_instance_values(instance))
        )

    def remove(self, app_instance_id: str) -> None:
        t = lcm_instances
        self._conn.execute(delete(t).where(t.c.app_instance_id == app_instance_id))

    def count_for_package(self, app_pkg_id: str) -> int:
        t = lcm_instances
        query = select(func.count()).select_from(t).where(t.c.app_pkg_id == app_pkg_id)
        return int(self._conn.execute(query).scalar_one())

    def hold(self, app_instance_id: str, op_occ_id: str) -> bool:
        # One conditional UPDATE: on PostgreSQL a concurrent holder's row lock makes the second
        # statement wait, re-read the committed row and then match nothing.
        t = lcm_instances
        statement = (
            update(t)
            .where(t.c.app_instance_id == app_instance_id, t.c.current_op.is_(None))
            .values(current_op=op_occ_id)
        )
        return int(self._conn.execute(statement).rowcount) == 1

    def release(self, app_instance_id: str, op_occ_id: str) -> None:
        t = lcm_instances
        self._conn.execute(
            update(t)
            .where(t.c.app_instance_id == app_instance_id, t.c.current_op == op_occ_id)
            .values(current_op=None)
        )


# -- operation occurrences ------------------------------------------------------------------
def _occ_values(occ: OpOcc) -> dict[str, Any]:
    return {
        "app_instance_id": occ.app_instance_id,
        "operation": occ.operation.value,
        "state": occ.state.value,
        "start_time": occ.start_time,
        "state_entered_time": occ.state_entered_time,
        "params": dumps(occ.params),
        "error": maybe_dumps(occ.error),
        "cancel_pending": occ.cancel_pending,
        "cancel_mode": occ.cancel_mode.value if occ.cancel_mode else None,
        "lease_owner": occ.lease_owner,
        "lease_until": occ.lease_until,
    }


def _occ_of(row: Row[Any]) -> OpOcc:
    return OpOcc(
        op_occ_id=row.op_occ_id,
        app_instance_id=row.app_instance_id,
        operation=LcmOperation(row.operation),
        state=OperationState(row.state),
        start_time=row.start_time,
        state_entered_time=row.state_entered_time,
        params=json.loads(row.params),
        error=maybe_loads(row.error),
        cancel_pending=bool(row.cancel_pending),
        cancel_mode=CancelMode(row.cancel_mode) if row.cancel_mode else None,
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
    )


class SqlOpOccRepository:
    """Lifecycle operation occurrences in `lcm_op_occs`, run under leases."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, occ: OpOcc) -> None:
        self._conn.execute(insert(lcm_op_occs).values(op_occ_id=occ.op_occ_id, **_occ_values(occ)))

    def get(self, op_occ_id: str) -> OpOcc | None:
        t = lcm_op_occs
        row = self._conn.execute(select(t).where(t.c.op_occ_id == op_occ_id)).first()
        return _occ_of(row) if row else None

    def get_for_update(self, op_occ_id: str) -> OpOcc | None:
        # Row lock on PostgreSQL: a cancel and the runner finishing cannot both write back
        # what they read (SQLite write transactions are serialised already).
        t = lcm_op_occs
        row = self._conn.execute(
            select(t).where(t.c.op_occ_id == op_occ_id).with_for_update()
        ).first()
        return _occ_of(row) if row else None

    def all(self, app_instance_id: str | None = None) -> list[OpOcc]:
        c = lcm_op_occs.c
        query = select(lcm_op_occs).order_by(c.start_time, c.op_occ_id)
        if app_instance_id is not None:
            query = query.where(c.app_instance_id == app_instance_id)
        return [_occ_of(row) for row in self._conn.execute(query)]

    def update(self, occ: OpOcc) -> None:
        t = lcm_op_occs
        self._conn.execute(
            update(t).where(t.c.op_occ_id == occ.op_occ_id).values(**_occ_values(occ))
        )

    def claim(self, owner: str, now: float, lease_until: float, limit: int) -> list[OpOcc]:
        c = lcm_op_occs.c
        runnable = c.state.in_(RUNNABLE)
        free = or_(c.lease_until.is_(None), c.lease_until < now)
        ids = list(
            self._conn.execute(
                select(c.op_occ_id)
                .where(runnable, free)
                .order_by(c.start_time, c.op_occ_id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        if not ids:
            return []
        # The conditions again: a row changed since the SELECT must not be leased twice.
        self._conn.execute(
            update(lcm_op_occs)
            .where(c.op_occ_id.in_(ids), runnable, free)
            .values(lease_owner=owner, lease_until=lease_until)
        )
        rows = self._conn.execute(
            select(lcm_op_occs)
            .where(c.op_occ_id.in_(ids), c.lease_owner == owner)
            .order_by(c.start_time, c.op_occ_id)
        )
        return [_occ_of(row) for row in rows]

    def remove_for_instance(self, app_instance_id: str) -> None:
        t = lcm_op_occs
        self._conn.execute(delete(t).where(t.c.app_instance_id == app_instance_id))


# -- LCM subscriptions ----------------------------------------------------------------------
def _lcm_subscription_of(row: Row[Any]) -> LcmSubscription:
    return LcmSubscription(
        subscription_id=row.subscription_id,
        subscription_type=LcmSubscriptionType(row.subscription_type),
        callback_uri=row.callback_uri,
        request=json.loads(row.request),
        owner=row.owner,
        created_at=row.created_at,
    )


class SqlLcmSubscriptionRepository:
    """LCM subscriptions of every kind in `lcm_subscriptions`."""

    def __init__(self, conn: Connection, now: float) -> None:
        self._conn = conn
        self._now = now

    def add(self, subscription: LcmSubscription) -> None:
        self._conn.execute(
            insert(lcm_subscriptions).values(
                subscription_id=subscription.subscription_id,
                subscription_type=subscription.subscription_type.value,
                callback_uri=subscription.callback_uri,
                request=dumps(subscription.request),
                owner=subscription.owner,
                created_at=subscription.created_at,
            )
        )

    def get(self, subscription_id: str) -> LcmSubscription | None:
        t = lcm_subscriptions
        row = self._conn.execute(select(t).where(t.c.subscription_id == subscription_id)).first()
        return _lcm_subscription_of(row) if row else None

    def all(self) -> list[LcmSubscription]:
        t = lcm_subscriptions
        rows = self._conn.execute(select(t).order_by(t.c.created_at, t.c.subscription_id))
        return [_lcm_subscription_of(row) for row in rows]

    def remove(self, subscription_id: str) -> None:
        t = lcm_subscriptions
        self._conn.execute(delete(t).where(t.c.subscription_id == subscription_id))
