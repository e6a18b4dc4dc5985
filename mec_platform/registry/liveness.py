"""Service liveness rules (MEC 011 clause 8.2.10): heartbeat intervals and what silence means."""

from __future__ import annotations

from dataclasses import dataclass

from mec_platform.registry.model import Service, ServiceState


@dataclass(frozen=True)
class LivenessPolicy:
    """How the platform answers proposed heartbeat intervals and treats silent services.

    A service that missed one heartbeat (with `grace` of its interval to spare) is SUSPENDED;
    one silent for `inactive_after` intervals is INACTIVE. A heartbeat revives a SUSPENDED
    service; an INACTIVE one must be re-activated by its producer with a PUT.
    """

    default_interval: int = 30
    min_interval: int = 5
    grace: float = 0.5
    inactive_after: float = 3.0

    def interval_for(self, proposed: int | None) -> int | None:
        """None: no heartbeats required; 0 lets the platform choose."""
        if proposed is None:
            return None
        return self.default_interval if proposed == 0 else max(proposed, self.min_interval)

    def state_after_silence(self, service: Service, now: float) -> ServiceState:
        """The state a heartbeating service should have at `now`, given its last heartbeat."""
        if service.liveness_interval is None or service.last_heartbeat is None:
            return service.state
        if service.state is ServiceState.INACTIVE:
            return service.state
        silent_for = now - service.last_heartbeat
        if silent_for > service.liveness_interval * self.inactive_after:
            return ServiceState.INACTIVE
        if service.state is ServiceState.ACTIVE and silent_for > service.liveness_interval * (
            1 + self.grace
        ):
            return ServiceState.SUSPENDED
        return service.state
