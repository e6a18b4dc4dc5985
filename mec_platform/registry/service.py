"""Use cases of the service registry (MEC 011 Service Management, clause 5.2 procedures)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from mec_platform.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from mec_platform.notifications.model import NewMessage
from mec_platform.registry.access import (
    insert_app,
    new_app_instance,
    owned_service,
    owned_subscription,
    require_app,
)
from mec_platform.registry.liveness import LivenessPolicy
from mec_platform.registry.model import (
    AppInstance,
    ChangeType,
    FilteringCriteria,
    LivenessInfo,
    Service,
    ServiceDraft,
    ServiceQuery,
    ServiceState,
    Subscription,
    TransportInfo,
)
from mec_platform.registry.ports import Clock, IdGenerator, UnitOfWork, UnitOfWorkFactory
from mec_platform.registry.urls import ResourceUrls
from mec_platform.registry.wire import availability_notification


class ServiceRegistry:
    """Registration, discovery, subscriptions and liveness of MEC services."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        urls: ResourceUrls,
        transports: tuple[TransportInfo, ...],
        clock: Clock,
        new_id: IdGenerator,
        liveness: LivenessPolicy | None = None,
        notify_worker: Callable[[], None] = lambda: None,
        read_version: Callable[[], int] | None = None,
        require_ready: bool = False,
    ) -> None:
        self._uows = uows
        self._urls = urls
        self._transports = {transport.id: transport for transport in transports}
        self._clock = clock
        self._new_id = new_id
        self._liveness = liveness or LivenessPolicy()
        # Told after a commit that queued notifications (a wake-up hint for the worker).
        self._notify_worker = notify_worker
        self._read_version = read_version
        # When set, an application's services are discoverable (and announced) only once the
        # application confirmed it is ready (MEC 011 clause 5.2.2, confirm_ready).
        self._require_ready = require_ready

    # -- application instances -------------------------------------------------------------
    def add_app_instance(self, name: str, app_instance_id: str | None = None) -> AppInstance:
        """Create an application instance record (admin command; extended by later features)."""
        app = new_app_instance(name, app_instance_id or self._new_id())
        with self._uows(write=True) as uow:
            insert_app(uow, app)
            uow.commit()
        return app

    def list_app_instances(self) -> list[AppInstance]:
        """Every application instance known to the registry."""
        with self._uows() as uow:
            return uow.apps.all()

    # -- discovery -------------------------------------------------------------------------
    def discover(self, query: ServiceQuery) -> list[Service]:
        """Services matching the query; an application-scoped query needs a known application."""
        return self.discover_versioned(query)[1]

    def discover_versioned(self, query: ServiceQuery) -> tuple[int, list[Service]]:
        """`discover` plus the registry version it reflects (one consistent read)."""
        if self._require_ready and query.app_instance_id is None:
            query = replace(query, ready_apps_only=True)
        with self._uows() as uow:
            if query.app_instance_id is not None:
                require_app(uow, query.app_instance_id)
            return uow.services.version(), uow.services.query(query)

    def registry_version(self) -> int:
        """Changes whenever any service or application instance changes."""
        if self._read_version is not None:
            return self._read_version()
        with self._uows() as uow:
            return uow.services.version()

    def get_service(self, ser_instance_id: str) -> Service:
        """One service, as any application may read it."""
        with self._uows() as uow:
            service = uow.services.get(ser_instance_id)
            visible = service is not None and self._visible(uow, service.app_instance_id)
        if service is None or not visible:
            raise NotFound(f"serviceId: no service '{ser_instance_id}'")
        return service

    def get_app_service(self, app_instance_id: str, ser_instance_id: str) -> Service:
        """One service of the given producing application."""
        with self._uows() as uow:
            return owned_service(uow, app_instance_id, ser_instance_id)

    def list_transports(self) -> list[TransportInfo]:
        """The transports the platform provides."""
        return list(self._transports.values())

    # -- registration ----------------------------------------------------------------------
    def _transport_of(self, draft: ServiceDraft, creating: bool) -> TransportInfo | None:
        if draft.transport_id is not None and not creating:
            raise InvalidInput("transportId: only allowed when registering (POST)")
        if draft.transport_id is not None and draft.transport_info is not None:
            raise InvalidInput("transportId and transportInfo: give one of them, not both")
        if draft.transport_id is None:
            if creating and draft.transport_info is None:
                raise InvalidInput("transportId or transportInfo: one of them is required")
            return draft.transport_info
        transport = self._transports.get(draft.transport_id)
        if transport is None:
            raise InvalidInput(
                f"transportId: unknown transport '{draft.transport_id}' (see GET /transports)"
            )
        return transport

    def register_service(self, app_instance_id: str, draft: ServiceDraft) -> Service:
        """Register a new service for a producing application and announce it."""
        # The request is checked before the database is asked about the application.
        transport = self._transport_of(draft, creating=True)
        now = self._clock()
        with self._uows(write=True) as uow:
            require_app(uow, app_instance_id)
            service, queued = self._add(uow, app_instance_id, draft, transport, now)
            uow.commit()
        self.after_commit(queued)
        return service

    def register_in(
        self, uow: UnitOfWork, app_instance_id: str, draft: ServiceDraft, now: float
    ) -> tuple[Service, bool]:
        """Register a service inside the caller's transaction; (service, notifications queued)."""
        transport = self._transport_of(draft, creating=True)
        return self._add(uow, app_instance_id, draft, transport, now)

    def _add(
        self,
        uow: UnitOfWork,
        app_instance_id: str,
        draft: ServiceDraft,
        transport: TransportInfo | None,
        now: float,
    ) -> tuple[Service, bool]:
        assert transport is not None
        interval = self._liveness.interval_for(draft.liveness_interval)
        service = Service(
            ser_instance_id=self._new_id(),
            app_instance_id=app_instance_id,
            ser_name=draft.ser_name,
            version=draft.version,
            state=draft.state,
            serializer=draft.serializer,
            transport_info=transport,
            ser_category=draft.ser_category,
            scope_of_locality=draft.scope_of_locality,
            consumed_local_only=draft.consumed_local_only,
            is_local=draft.is_local,
            liveness_interval=interval,
            last_heartbeat=now if interval is not None else None,
        )
        uow.services.add(service)
        return service, self._announce(uow, service, ChangeType.ADDED, now)

    def set_state_in(
        self, uow: UnitOfWork, ser_instance_id: str, state: ServiceState, now: float
    ) -> bool:
        """Change a service's state inside the caller's transaction and announce the change."""
        before = uow.services.get_for_update(ser_instance_id)
        if before is None or before.state is state:
            return False
        after = replace(before, state=state, revision=before.revision + 1)
        uow.services.update(after)
        return self._announce(uow, after, after.changes_from(before), now)

    def update_service(
        self, app_instance_id: str, ser_instance_id: str, draft: ServiceDraft, if_match: str | None
    ) -> Service:
        """Replace a service's attributes (PUT) under optimistic concurrency."""
        if draft.ser_instance_id not in (None, ser_instance_id):
            raise InvalidInput("serInstanceId: does not match the serviceId of the URI")
        transport = self._transport_of(draft, creating=False)
        now = self._clock()
        with self._uows(write=True) as uow:
            before = owned_service(uow, app_instance_id, ser_instance_id)
            if if_match is not None and not before.matches_if_match(if_match):
                raise PreconditionFailed(
                    f"If-Match: {if_match} does not match the current entity tag {before.etag}"
                )
            interval = (
                self._liveness.interval_for(draft.liveness_interval)
                if draft.liveness_interval is not None
                else before.liveness_interval
            )
            after = replace(
                before,
                ser_name=draft.ser_name,
                version=draft.version,
                state=draft.state,
                serializer=draft.serializer,
                transport_info=transport or before.transport_info,
                ser_category=draft.ser_category,
                scope_of_locality=draft.scope_of_locality,
                consumed_local_only=draft.consumed_local_only,
                is_local=draft.is_local,
                liveness_interval=interval,
                last_heartbeat=before.last_heartbeat or (now if interval is not None else None),
            )
            if after == before:
                return before
            after = replace(after, revision=before.revision + 1)
            uow.services.update(after)
            queued = self._announce(uow, after, after.changes_from(before), now)
            uow.commit()
        self.after_commit(queued)
        return after

    def deregister_service(self, app_instance_id: str, ser_instance_id: str) -> None:
        """Remove a service and tell its subscribers."""
        now = self._clock()
        with self._uows(write=True) as uow:
            service = owned_service(uow, app_instance_id, ser_instance_id)
            uow.services.remove(ser_instance_id)
            queued = self._announce(uow, service, ChangeType.REMOVED, now)
            uow.commit()
        self.after_commit(queued)

    @property
    def require_ready(self) -> bool:
        """True when services count only once their application confirmed ready."""
        return self._require_ready

    def _visible(self, uow: UnitOfWork, app_instance_id: str) -> bool:
        if not self._require_ready:
            return True
        app = uow.apps.get(app_instance_id)
        return app is not None and app.ready

    def _announce(self, uow: UnitOfWork, service: Service, change: ChangeType, now: float) -> bool:
        if not self._visible(uow, service.app_instance_id):
            return False
        messages = [
            NewMessage(
                subscription_id=sub.subscription_id,
                callback_uri=sub.callback_reference,
                payload=availability_notification(sub, service, change, self._urls),
            )
            for sub in uow.subscriptions.list_live(now)
            if sub.criteria.matches(service)
        ]
        if messages:
            uow.outbox.enqueue(messages, now)
        return bool(messages)

    # -- application life (used by Application Support inside its own transaction) --------
    def publish_app_services(self, uow: UnitOfWork, app_instance_id: str, now: float) -> bool:
        """Announce an application's services once it became ready (if readiness gates them)."""
        if not self._require_ready:
            return False
        query = ServiceQuery(app_instance_id=app_instance_id)
        queued = [
            self._announce(uow, service, ChangeType.ADDED, now)
            for service in uow.services.query(query)
        ]
        return any(queued)

    def withdraw_service(self, uow: UnitOfWork, service: Service, now: float) -> bool:
        """Remove one service inside the caller's transaction and announce it."""
        queued = self._announce(uow, service, ChangeType.REMOVED, now)
        uow.services.remove(service.ser_instance_id)
        return queued

    def withdraw_app(self, uow: UnitOfWork, app_instance_id: str, now: float) -> bool:
        """Remove an application's services (announced) and its availability subscriptions."""
        queued = False
        for service in uow.services.query(ServiceQuery(app_instance_id=app_instance_id)):
            queued = self.withdraw_service(uow, service, now) or queued
        for subscription in uow.subscriptions.list_for_app(app_instance_id):
            uow.subscriptions.remove(subscription.subscription_id)
            uow.outbox.drop_for_subscription(subscription.subscription_id, now)
        return queued

    def after_commit(self, queued: bool) -> None:
        """Wake the notification worker when the committed transaction queued messages."""
        if queued:
            self._notify_worker()

    # -- subscriptions ---------------------------------------------------------------------
    def subscribe(
        self,
        app_instance_id: str,
        callback_reference: str,
        criteria: FilteringCriteria,
        expiry_deadline: float | None = None,
    ) -> Subscription:
        """Create a service availability subscription."""
        now = self._clock()
        if expiry_deadline is not None and expiry_deadline <= now:
            raise InvalidInput("expiryDeadline: lies in the past")
        subscription = Subscription(
            subscription_id=self._new_id(),
            app_instance_id=app_instance_id,
            callback_reference=callback_reference,
            criteria=criteria,
            expiry_deadline=expiry_deadline,
        )
        with self._uows(write=True) as uow:
            require_app(uow, app_instance_id)
            uow.subscriptions.add(subscription)
            uow.commit()
        return subscription

    def list_subscriptions(self, app_instance_id: str) -> list[Subscription]:
        """The subscriptions of one application instance."""
        with self._uows() as uow:
            require_app(uow, app_instance_id)
            return uow.subscriptions.list_for_app(app_instance_id)

    def get_subscription(self, app_instance_id: str, subscription_id: str) -> Subscription:
        """One subscription of an application instance."""
        with self._uows() as uow:
            return owned_subscription(uow, app_instance_id, subscription_id)

    def unsubscribe(self, app_instance_id: str, subscription_id: str) -> None:
        """Delete a subscription; notifications not yet delivered to it are dropped."""
        now = self._clock()
        with self._uows(write=True) as uow:
            owned_subscription(uow, app_instance_id, subscription_id)
            uow.subscriptions.remove(subscription_id)
            uow.outbox.drop_for_subscription(subscription_id, now)
            uow.commit()

    # -- liveness (MEC 011 clause 8.2.10) --------------------------------------------------
    def liveness(self, app_instance_id: str, ser_instance_id: str) -> LivenessInfo:
        """The liveness resource of a service that sends heartbeats."""
        with self._uows() as uow:
            service = owned_service(uow, app_instance_id, ser_instance_id)
        return self._liveness_of(service)

    def heartbeat(
        self, app_instance_id: str, ser_instance_id: str, state: ServiceState
    ) -> LivenessInfo:
        """Record a heartbeat; a SUSPENDED service becomes ACTIVE again."""
        if state is not ServiceState.ACTIVE:
            raise InvalidInput("state: a heartbeat must set the state to ACTIVE")
        now = self._clock()
        with self._uows(write=True) as uow:
            service = owned_service(uow, app_instance_id, ser_instance_id)
            self._liveness_of(service)
            if service.state is ServiceState.INACTIVE:
                raise Conflict(f"serviceId: service '{ser_instance_id}' is INACTIVE")
            after = replace(service, state=ServiceState.ACTIVE, last_heartbeat=now)
            queued = False
            if service.state is ServiceState.ACTIVE:
                # The representation is unchanged: only the liveness timestamp moves, so
                # discovery caches stay valid (no registry version bump).
                uow.services.record_heartbeat(ser_instance_id, now)
            else:
                after = replace(after, revision=service.revision + 1)
                queued = self._announce(uow, after, ChangeType.STATE_CHANGED, now)
                uow.services.update(after)
            uow.commit()
        self.after_commit(queued)
        return self._liveness_of(after)

    def sweep_liveness(self) -> int:
        """Suspend or deactivate services whose heartbeats stopped; returns how many changed."""
        now = self._clock()
        with self._uows() as uow:
            due = [
                s
                for s in uow.services.heartbeating()
                if self._liveness.state_after_silence(s, now) is not s.state
            ]
        if not due:
            return 0
        changed = 0
        with self._uows(write=True) as uow:
            for candidate in due:
                # Locked: two workers sweeping at once must not both announce the change.
                service = uow.services.get_for_update(candidate.ser_instance_id)
                if service is None:
                    continue
                state = self._liveness.state_after_silence(service, now)
                if state is service.state:
                    continue  # a heartbeat arrived in between
                after = replace(service, state=state, revision=service.revision + 1)
                uow.services.update(after)
                self._announce(uow, after, ChangeType.STATE_CHANGED, now)
                changed += 1
            uow.commit()
        self.after_commit(changed > 0)
        return changed

    def _liveness_of(self, service: Service) -> LivenessInfo:
        if service.liveness_interval is None or service.last_heartbeat is None:
            raise NotFound(
                f"serviceId: service '{service.ser_instance_id}' does not send heartbeats"
            )
        return LivenessInfo(service.state, service.last_heartbeat, service.liveness_interval)
