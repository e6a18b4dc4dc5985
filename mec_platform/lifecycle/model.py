"""App instances and their lifecycle operation occurrences (ETSI GS MEC 010-2 clause 6.2.2),
the state machine that governs them, and LCM subscriptions."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from mec_platform.errors import Conflict
from mec_platform.registry.model import JsonObject


class InstantiationState(StrEnum):
    """AppInstanceInfo.instantiationState."""

    NOT_INSTANTIATED = "NOT_INSTANTIATED"
    INSTANTIATED = "INSTANTIATED"


class AppOperationalState(StrEnum):
    """InstantiatedAppState.operationalState (meaningful once INSTANTIATED)."""

    STARTED = "STARTED"
    STOPPED = "STOPPED"


class LcmOperation(StrEnum):
    """AppLcmOpOcc.lcmOperation."""

    INSTANTIATE = "INSTANTIATE"
    OPERATE = "OPERATE"
    TERMINATE = "TERMINATE"


class OperationState(StrEnum):
    """AppLcmOpOcc.operationState."""

    STARTING = "STARTING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    FAILED_TEMP = "FAILED_TEMP"


# An occurrence in one of these states still holds its instance: no other operation may start.
OPEN_STATES = frozenset(
    {OperationState.STARTING, OperationState.PROCESSING, OperationState.FAILED_TEMP}
)


class CancelMode(StrEnum):
    """CancelMode.CancelMode: how hard a running operation is interrupted."""

    GRACEFUL = "GRACEFUL"
    FORCED = "FORCED"


class StopType(StrEnum):
    """OperateAppRequest.stopType and TerminateAppRequest.terminationType."""

    FORCEFUL = "FORCEFUL"
    GRACEFUL = "GRACEFUL"


class LcmSubscriptionType(StrEnum):
    """subscriptionType of the four LCM subscription kinds."""

    INSTANCE_STATE = "AppInstanceStateChangeSubscription"
    OP_OCC_STATE = "AppLcmOpOccStateChangeSubscription"
    IDENTIFIER_CREATION = "AppIdentifierCreationSubscription"
    IDENTIFIER_DELETION = "AppIdentifierDeletionSubscription"


@dataclass(frozen=True)
class Deployment:
    """Where an instantiated instance runs: its container and what it was given."""

    container_id: str
    container_name: str
    image: str
    ip_address: str | None = None
    ports: tuple[JsonObject, ...] = ()


@dataclass(frozen=True)
class LcmInstance:
    """An app instance as the lifecycle sees it (AppInstanceInfo)."""

    app_instance_id: str
    app_d_id: str
    app_pkg_id: str
    name: str | None
    description: str | None
    owner: str | None
    instantiation_state: InstantiationState
    operational_state: AppOperationalState | None
    created_at: float
    deployment: Deployment | None = None
    # The occurrence that currently holds the instance (one operation at a time).
    current_op: str | None = None
    restarts: int = 0
    # What reconciliation last found wrong with the container, shown to operators.
    runtime_problem: str | None = None

    @property
    def instantiated(self) -> bool:
        """True between a completed INSTANTIATE and a completed TERMINATE."""
        return self.instantiation_state is InstantiationState.INSTANTIATED

    @property
    def state_name(self) -> str:
        """AppInstNotification.appInstanceState: NOT_INSTANTIATED, STARTED or STOPPED."""
        if not self.instantiated or self.operational_state is None:
            return InstantiationState.NOT_INSTANTIATED.value
        return self.operational_state.value


@dataclass(frozen=True)
class OpOcc:
    """One lifecycle operation occurrence (AppLcmOpOcc)."""

    op_occ_id: str
    app_instance_id: str
    operation: LcmOperation
    state: OperationState
    start_time: float
    state_entered_time: float
    params: JsonObject = field(default_factory=dict)
    error: JsonObject | None = None
    cancel_pending: bool = False
    cancel_mode: CancelMode | None = None
    # Which lifecycle process runs it, until when (so a crashed runner's work is taken over).
    lease_owner: str | None = None
    lease_until: float | None = None

    @property
    def open(self) -> bool:
        """True while the occurrence still holds its instance."""
        return self.state in OPEN_STATES

    def moved_to(self, state: OperationState, now: float, **changes: object) -> OpOcc:
        """The occurrence in a new state, entered at `now`."""
        return replace(self, state=state, state_entered_time=now, **changes)  # type: ignore[arg-type]


def require_state(occ: OpOcc, allowed: frozenset[OperationState], action: str) -> None:
    """409 unless the occurrence is in one of the allowed states."""
    if occ.state not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise Conflict(
            f"state: cannot {action} operation occurrence {occ.op_occ_id} in state "
            f"{occ.state.value}; only in {names}"
        )


@dataclass(frozen=True)
class LcmSubscription:
    """One LCM subscription; `request` is the subscription request as the subscriber sent it."""

    subscription_id: str
    subscription_type: LcmSubscriptionType
    callback_uri: str
    request: JsonObject
    owner: str | None
    created_at: float
