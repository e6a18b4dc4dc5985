"""Use cases of MEC 011 Application Support (clause 5.2: registration, readiness, termination).

Rules (DNS, traffic) and subscriptions live in `appsupport.rules_service`; this module owns the
life of an application instance on the platform.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from mec_platform.appsupport.limits import SlidingWindowLimiter
from mec_platform.appsupport.model import (
    PLATFORM_FEATURES,
    AppInfo,
    AppState,
    OperationAction,
    PlatformFeature,
    ServiceDependency,
    Termination,
)
from mec_platform.appsupport.ports import AppSupportUnitOfWork, AppSupportUnitOfWorkFactory
from mec_platform.appsupport.rules import DnsRule, RuleState, TrafficRule
from mec_platform.appsupport.rules_service import ensure_domain_free
from mec_platform.appsupport.urls import AppSupportUrls
from mec_platform.appsupport.wire import termination_notification
from mec_platform.auth.credentials import AppCredentials
from mec_platform.auth.model import IssuedCredentials
from mec_platform.errors import Conflict, Forbidden, InvalidInput, NotFound
from mec_platform.notifications.model import NewMessage
from mec_platform.registry.access import check_new_instance_id, insert_app, new_app_instance
from mec_platform.registry.model import (
    PLATFORM,
    Actor,
    AppInstance,
    Service,
    ServiceQuery,
    ServiceState,
)
from mec_platform.registry.ports import Clock, IdGenerator
from mec_platform.registry.service import ServiceRegistry

log = logging.getLogger("mec_platform.appsupport")


@dataclass(frozen=True)
class AppSupportOptions:
    """Tuning of Application Support."""

    default_graceful_timeout: int = 10
    confirm_limit: int = 10
    confirm_window: float = 10.0
    features: tuple[PlatformFeature, ...] = PLATFORM_FEATURES


@dataclass(frozen=True)
class NewAppInstance:
    """An application instance just created, with its client credentials (shown once)."""

    app: AppInstance
    credentials: IssuedCredentials | None


class AppSupport:
    """Registration, readiness and graceful termination of application instances."""

    def __init__(
        self,
        uows: AppSupportUnitOfWorkFactory,
        registry: ServiceRegistry,
        urls: AppSupportUrls,
        clock: Clock,
        new_id: IdGenerator,
        options: AppSupportOptions | None = None,
        notify_dataplane: Callable[[], None] = lambda: None,
        check_rules: Callable[[Sequence[TrafficRule]], None] = lambda rules: None,
        credentials: AppCredentials | None = None,
        keeps_record: Callable[[AppSupportUnitOfWork, str], bool] = lambda uow, app_id: False,
    ) -> None:
        self._uows = uows
        self._keeps_record = keeps_record
        self._registry = registry
        self._urls = urls
        self._clock = clock
        self._new_id = new_id
        self._options = options or AppSupportOptions()
        self._limiter = SlidingWindowLimiter(
            self._options.confirm_limit, self._options.confirm_window, clock
        )
        self._notify_dataplane = notify_dataplane
        self._check_rules = check_rules
        self._credentials = credentials

    # -- instances created by the platform (admin command, lifecycle) ------------------------
    def add_app_instance(
        self,
        name: str,
        app_instance_id: str | None = None,
        dns_rules: Sequence[DnsRule] = (),
        traffic_rules: Sequence[TrafficRule] = (),
        owner: str | None = None,
    ) -> NewAppInstance:
        """Create a managed application instance with the rules of its descriptor."""
        app = replace(new_app_instance(name, app_instance_id or self._new_id()), owner=owner)
        _unique([rule.dns_rule_id for rule in dns_rules], "dnsRuleId")
        _unique([rule.traffic_rule_id for rule in traffic_rules], "trafficRuleId")
        for rule in traffic_rules:
            rule.check_enforceable()
        self._check_rules([rule for rule in traffic_rules if rule.state is RuleState.ACTIVE])
        with self._uows(write=True) as uow:
            insert_app(uow, app)
            for dns in dns_rules:
                if dns.state is RuleState.ACTIVE:
                    ensure_domain_free(uow, dns.domain_name, app.app_instance_id)
            for dns in dns_rules:
                uow.dns_rules.add(app.app_instance_id, dns)
            for traffic in traffic_rules:
                uow.traffic_rules.add(app.app_instance_id, traffic)
            credentials = self._new_credentials(uow, app.app_instance_id)
            uow.commit()
        if dns_rules or traffic_rules:
            self._notify_dataplane()
        return NewAppInstance(app, credentials)

    def remove_app_instance(self, app_instance_id: str) -> None:
        """Delete an instance at once: services, subscriptions and rules go with it."""
        now = self._clock()
        with self._uows(write=True) as uow:
            _locked(uow, app_instance_id)
            if self._keeps_record(uow, app_instance_id):
                raise Conflict(
                    f"appInstanceId: '{app_instance_id}' was created through the app lifecycle "
                    "API; terminate and delete it there (/app_lcm/v1/app_instances)"
                )
            queued = self._remove(uow, app_instance_id, now)
            uow.commit()
        self._registry.after_commit(queued)
        self._notify_dataplane()

    def list_app_instances(self) -> list[AppInstance]:
        """Every application instance."""
        return self._registry.list_app_instances()

    # -- registration (MEC 011 clause 7.2.13/7.2.14) -----------------------------------------
    def register(
        self, info: AppInfo, app_instance_id: str | None, actor: Actor = PLATFORM
    ) -> NewAppInstance:
        """Register an application; the platform allocates the id unless one is given.

        An application instance registers only itself (its id is the default); a new instance
        belongs to the provider registering it and gets client credentials.
        """
        if actor.app_instance_id is not None:
            if app_instance_id not in (None, actor.app_instance_id):
                raise Forbidden("appInstanceId: an application instance may register only itself")
            app_instance_id = actor.app_instance_id
        if info.is_ins_by_mec and app_instance_id is None:
            raise InvalidInput("appInstanceId: required when isInsByMec is true")
        with self._uows(write=True) as uow:
            self._check_dependencies(uow, info)
            existing = uow.apps.get_for_update(app_instance_id) if app_instance_id else None
            # Whether another's instance exists or not, a provider hears the same refusal.
            not_yours = existing is None and info.is_ins_by_mec and actor != PLATFORM
            if not_yours or (existing is not None and not actor.may_act_on(existing)):
                raise Forbidden(
                    "appInstanceId: not an application instance this caller may register"
                )
            if existing is None and info.is_ins_by_mec:
                raise NotFound(
                    f"appInstanceId: no application instance '{app_instance_id}' was "
                    "instantiated by the MEC management"
                )
            if existing is not None and existing.registered:
                raise Conflict(
                    f"appInstanceId: '{app_instance_id}' is registered already; "
                    "use PUT to change its registration"
                )
            credentials = None
            if existing is None:
                app = AppInstance(
                    app_instance_id=(
                        check_new_instance_id(app_instance_id)
                        if app_instance_id
                        else self._new_id()
                    ),
                    name=info.app_name,
                    managed=False,
                    info=info,
                    owner=actor.provider,
                )
                uow.apps.add(app)
                credentials = self._new_credentials(uow, app.app_instance_id)
            else:
                app = replace(existing, info=info, revision=existing.revision + 1)
                uow.apps.update(app)
            uow.commit()
        return NewAppInstance(app, credentials)

    def _new_credentials(
        self, uow: AppSupportUnitOfWork, app_instance_id: str
    ) -> IssuedCredentials | None:
        if self._credentials is None:
            return None
        return self._credentials.create(uow, app_instance_id)

    def registration(self, app_instance_id: str) -> AppInstance:
        """A registered application instance."""
        with self._uows() as uow:
            return _registered(uow, app_instance_id)

    def update_registration(
        self, app_instance_id: str, info: AppInfo, body_app_instance_id: str | None
    ) -> AppInstance:
        """Replace the registration (PUT)."""
        if body_app_instance_id not in (None, app_instance_id):
            raise InvalidInput("appInstanceId: does not match the appInstanceId of the URI")
        with self._uows(write=True) as uow:
            app = _registered(uow, app_instance_id, lock=True)
            self._check_dependencies(uow, info)
            after = replace(app, info=info, revision=app.revision + 1)
            uow.apps.update(after)
            uow.commit()
        return after

    def deregister(self, app_instance_id: str) -> None:
        """End a registration: the application's services and subscriptions are withdrawn.

        An instance that exists only through its registration is deleted with its rules; a
        managed instance stays (with its rules), back to not ready.
        """
        now = self._clock()
        with self._uows(write=True) as uow:
            app = _registered(uow, app_instance_id, lock=True)
            if app.managed:
                queued = self._registry.withdraw_app(uow, app_instance_id, now)
                for subscription in uow.termination_subscriptions.list_for_app(app_instance_id):
                    uow.termination_subscriptions.remove(subscription.subscription_id)
                    uow.outbox.drop_for_subscription(subscription.subscription_id, now)
                uow.apps.update(
                    replace(app, info=None, state=AppState.INSTANTIATED, revision=app.revision + 1)
                )
            else:
                queued = self._remove(uow, app_instance_id, now)
            uow.commit()
        self._registry.after_commit(queued)
        self._notify_dataplane()

    def _check_dependencies(self, uow: AppSupportUnitOfWork, info: AppInfo) -> None:
        offered = {(feature.name, feature.version) for feature in self._options.features}
        for index, feature in enumerate(info.features_required):
            if (feature.feature_name, feature.version) not in offered:
                raise InvalidInput(
                    f"appFeatureRequired[{index}]: feature '{feature.feature_name}' version "
                    f"'{feature.version}' is not offered by this platform"
                )
        for index, dependency in enumerate(info.services_required):
            # A service the application could not discover does not satisfy it either.
            query = ServiceQuery(
                ser_names=(dependency.ser_name,), ready_apps_only=self._registry.require_ready
            )
            candidates = uow.services.query(query)
            if not any(_satisfies(service, dependency) for service in candidates):
                raise InvalidInput(
                    f"appServiceRequired[{index}]: no ACTIVE service '{dependency.ser_name}' "
                    f"version '{dependency.version}' matching the requested category and "
                    "transports is offered on this platform"
                )

    # -- readiness and termination (MEC 011 clauses 7.2.11, 7.2.12) -------------------------
    def confirm_ready(self, app_instance_id: str, indication: str) -> None:
        """The application says it is running; its services become discoverable."""
        self._limiter.check(f"ready:{app_instance_id}", "confirm_ready")
        if indication != "READY":
            raise InvalidInput("indication: must be READY")
        now = self._clock()
        with self._uows(write=True) as uow:
            app = _locked(uow, app_instance_id)
            if app.termination is not None:
                raise _busy(app, "; it cannot become ready now")
            if app.ready:
                raise Conflict(f"appInstanceId: '{app_instance_id}' confirmed ready already")
            uow.apps.update(replace(app, state=AppState.READY, revision=app.revision + 1))
            queued = self._registry.publish_app_services(uow, app_instance_id, now)
            uow.commit()
        self._registry.after_commit(queued)

    def begin_termination(
        self,
        app_instance_id: str,
        action: OperationAction = OperationAction.TERMINATING,
        max_graceful_timeout: int | None = None,
    ) -> AppInstance:
        """Ask an application to stop or terminate gracefully; it has until the deadline."""
        timeout = (
            self._options.default_graceful_timeout
            if max_graceful_timeout is None
            else max_graceful_timeout
        )
        if timeout < 1:
            raise InvalidInput("maxGracefulTimeout: must be at least one second")
        now = self._clock()
        with self._uows(write=True) as uow:
            app = _locked(uow, app_instance_id)
            if app.termination is not None:
                raise _busy(app, " already")
            subscribers = uow.termination_subscriptions.list_for_app(app_instance_id)
            # Nobody to wait for: the operation completes at once.
            deadline = now + timeout if subscribers else now
            app = replace(
                app, termination=Termination(action, deadline, timeout), revision=app.revision + 1
            )
            uow.apps.update(app)
            messages = [
                NewMessage(
                    subscription_id=sub.subscription_id,
                    callback_uri=sub.callback_reference,
                    payload=termination_notification(sub, action.value, timeout, self._urls),
                )
                for sub in subscribers
            ]
            if messages:
                uow.outbox.enqueue(messages, now)
            uow.commit()
        self._registry.after_commit(bool(messages))
        if not subscribers:
            self.finish_due_terminations()
        return app

    def confirm_termination(self, app_instance_id: str, action: OperationAction) -> None:
        """The application finished its graceful stop/termination: complete it now."""
        self._limiter.check(f"termination:{app_instance_id}", "confirm_termination")
        now = self._clock()
        with self._uows(write=True) as uow:
            app = _locked(uow, app_instance_id)
            if app.termination is None:
                raise Conflict(
                    f"appInstanceId: no stop or termination of '{app_instance_id}' is in progress"
                )
            if app.termination.action is not action:
                raise Conflict(
                    f"operationAction: the operation in progress is "
                    f"{app.termination.action.value}, not {action.value}"
                )
            queued = self._complete(uow, app, now)
            uow.commit()
        self._registry.after_commit(queued)
        self._notify_dataplane()

    def finish_due_terminations(self) -> int:
        """Complete stops/terminations whose deadline passed (worker chore); how many."""
        now = self._clock()
        with self._uows() as uow:
            due = uow.apps.terminations_due(now)
        if not due:
            return 0
        finished = 0
        queued = False
        with self._uows(write=True) as uow:
            for candidate in due:
                app = uow.apps.get_for_update(candidate.app_instance_id)
                if app is None or app.termination is None or app.termination.deadline > now:
                    continue  # confirmed in between
                queued = self._complete(uow, app, now) or queued
                finished += 1
                log.info(
                    "graceful operation completed",
                    extra={"app_instance_id": app.app_instance_id, "confirmed": False},
                )
            uow.commit()
        self._registry.after_commit(queued)
        if finished:
            self._notify_dataplane()
        return finished

    def _complete(self, uow: AppSupportUnitOfWork, app: AppInstance, now: float) -> bool:
        assert app.termination is not None
        if app.termination.action is OperationAction.TERMINATING:
            if self._keeps_record(uow, app.app_instance_id):
                return self._wind_down(uow, app, now)
            return self._remove(uow, app.app_instance_id, now)
        # A stopped application keeps its record, rules and subscriptions; its services go
        # and it has to confirm ready again when it is started.
        queued = False
        for service in uow.services.query(ServiceQuery(app_instance_id=app.app_instance_id)):
            queued = self._registry.withdraw_service(uow, service, now) or queued
        uow.apps.update(
            replace(app, state=AppState.INSTANTIATED, termination=None, revision=app.revision + 1)
        )
        return queued

    def wind_down(self, app_instance_id: str, revoke_credentials: bool) -> None:
        """The app's process is gone (its container stopped or removed): its registration,
        services and termination subscriptions end; a restarted app registers afresh."""
        now = self._clock()
        with self._uows(write=True) as uow:
            app = uow.apps.get_for_update(app_instance_id)
            if app is None:
                return
            queued = self._wind_down(uow, app, now, revoke_credentials)
            uow.commit()
        self._registry.after_commit(queued)

    def _wind_down(
        self,
        uow: AppSupportUnitOfWork,
        app: AppInstance,
        now: float,
        revoke_credentials: bool = True,
    ) -> bool:
        # An instance the lifecycle manages outlives TERMINATE (MEC 010-2 keeps its identifier
        # until DELETE): its registration, services, subscriptions and credentials end here.
        queued = self._registry.withdraw_app(uow, app.app_instance_id, now)
        for subscription in uow.termination_subscriptions.list_for_app(app.app_instance_id):
            uow.termination_subscriptions.remove(subscription.subscription_id)
            uow.outbox.drop_for_subscription(subscription.subscription_id, now)
        if revoke_credentials:
            uow.clients.remove_for_app(app.app_instance_id)
        uow.apps.update(
            replace(
                app,
                state=AppState.INSTANTIATED,
                info=None,
                termination=None,
                revision=app.revision + 1,
            )
        )
        return queued

    def _remove(self, uow: AppSupportUnitOfWork, app_instance_id: str, now: float) -> bool:
        queued = self._registry.withdraw_app(uow, app_instance_id, now)
        for subscription in uow.termination_subscriptions.list_for_app(app_instance_id):
            uow.outbox.drop_for_subscription(subscription.subscription_id, now)
        uow.apps.remove(app_instance_id)
        uow.clients.remove_for_app(app_instance_id)
        return queued


def _busy(app: AppInstance, why: str) -> Conflict:
    assert app.termination is not None
    action = app.termination.action.value.lower()
    return Conflict(f"appInstanceId: '{app.app_instance_id}' is being {action}{why}")


def _locked(uow: AppSupportUnitOfWork, app_instance_id: str) -> AppInstance:
    app = uow.apps.get_for_update(app_instance_id)
    if app is None:
        raise NotFound(f"appInstanceId: no application instance '{app_instance_id}'")
    return app


def _registered(uow: AppSupportUnitOfWork, app_instance_id: str, lock: bool = False) -> AppInstance:
    app = uow.apps.get_for_update(app_instance_id) if lock else uow.apps.get(app_instance_id)
    if app is None or not app.registered:
        raise NotFound(f"appInstanceId: no registration of '{app_instance_id}'")
    return app


def _satisfies(service: Service, dependency: ServiceDependency) -> bool:
    category_id = service.ser_category.id if service.ser_category else None
    transport = service.transport_info.type
    return (
        service.state is ServiceState.ACTIVE
        and service.version == dependency.version
        and (dependency.ser_category_id is None or dependency.ser_category_id == category_id)
        and (not dependency.transport_types or transport in dependency.transport_types)
    )


def _unique(ids: list[str], field: str) -> None:
    duplicates = sorted({value for value in ids if ids.count(value) > 1})
    if duplicates:
        raise InvalidInput(f"{field}: given more than once: {', '.join(duplicates)}")
