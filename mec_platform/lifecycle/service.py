"""Lifecycle use cases behind the MEC 010-2 app_lcm API: instance identifiers, the requests
that start INSTANTIATE / OPERATE / TERMINATE occurrences, and cancel / fail / retry.

Requests only record an occurrence (STARTING) and wake the lifecycle process, which does the
work against the container runtime (lifecycle.runner); nothing slow runs inside a request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from mec_platform.appsupport.rules import RuleState, TrafficRule
from mec_platform.appsupport.rules_service import ensure_domain_free
from mec_platform.auth.credentials import AppCredentials
from mec_platform.errors import Conflict, InvalidInput, NotFound
from mec_platform.lifecycle.descriptors import (
    dns_rules_of,
    requested_resources,
    traffic_rules_of,
)
from mec_platform.lifecycle.model import (
    AppOperationalState,
    CancelMode,
    InstantiationState,
    LcmInstance,
    LcmOperation,
    LcmSubscription,
    LcmSubscriptionType,
    OperationState,
    OpOcc,
    StopType,
    require_state,
)
from mec_platform.lifecycle.notify import LcmNotifier, package_fields
from mec_platform.lifecycle.ports import LifecycleUnitOfWork, LifecycleUnitOfWorkFactory
from mec_platform.lifecycle.runtime import HostResources
from mec_platform.lifecycle.subscriptions import parse_subscription_type
from mec_platform.packages.model import (
    AppPackage,
    OnboardingState,
    PackageOperationalState,
    UsageState,
)
from mec_platform.registry.access import check_callback_uri, insert_app, new_app_instance
from mec_platform.registry.model import JsonObject
from mec_platform.registry.ports import Clock, IdGenerator
from mec_platform.registry.service import ServiceRegistry

_E = TypeVar("_E", AppOperationalState, StopType)

InstanceView = tuple[LcmInstance, JsonObject]
"""An instance with the package fields AppInstanceInfo repeats."""


@dataclass(frozen=True)
class LifecycleHooks:
    """Who to wake after a commit."""

    lifecycle: Callable[[], None] = lambda: None
    worker: Callable[[], None] = lambda: None
    dataplane: Callable[[], None] = lambda: None


class Lifecycle:
    """App instances of this MEC host and the operations on them."""

    def __init__(
        self,
        uows: LifecycleUnitOfWorkFactory,
        registry: ServiceRegistry,
        credentials: AppCredentials,
        notifier: LcmNotifier,
        clock: Clock,
        new_id: IdGenerator,
        hooks: LifecycleHooks | None = None,
        host: Callable[[], HostResources | None] = lambda: None,
        traffic_rules_enforced: bool = False,
    ) -> None:
        self._uows = uows
        self._registry = registry
        self._credentials = credentials
        self._notifier = notifier
        self._clock = clock
        self._new_id = new_id
        self._hooks = hooks or LifecycleHooks()
        self._host = host
        self._traffic_rules_enforced = traffic_rules_enforced

    # -- identifiers ------------------------------------------------------------------------
    def create_instance(
        self, app_d_id: str, name: str | None, description: str | None, owner: str | None
    ) -> InstanceView:
        """A new instance identifier (NOT_INSTANTIATED) with its MEC 011 record and rules."""
        with self._uows(write=True) as uow:
            package = _usable_package(uow, app_d_id)
            assert package.content is not None
            instance = LcmInstance(
                app_instance_id=self._new_id(),
                app_d_id=package.content.app_d_id,
                app_pkg_id=package.app_pkg_id,
                name=name,
                description=description,
                owner=owner,
                instantiation_state=InstantiationState.NOT_INSTANTIATED,
                operational_state=None,
                created_at=self._clock(),
            )
            record = new_app_instance(name or package.content.app_name, instance.app_instance_id)
            insert_app(uow, replace(record, owner=owner))
            self._credentials.create(uow, instance.app_instance_id)
            self._add_rules(uow, instance.app_instance_id, package.content.appd)
            uow.lcm_instances.add(instance)
            _set_usage(uow, package)
            queued = self._notifier.identifier(
                uow, LcmSubscriptionType.IDENTIFIER_CREATION, instance
            )
            view = (instance, package_fields(uow, instance))
            uow.commit()
        self._after(queued, rules=True)
        return view

    def _add_rules(self, uow: LifecycleUnitOfWork, app_instance_id: str, appd: JsonObject) -> None:
        for dns in dns_rules_of(appd):
            if dns.state is RuleState.ACTIVE:
                try:
                    ensure_domain_free(uow, dns.domain_name, app_instance_id)
                except Conflict:
                    # Another instance (often of the same package) answers for this name: the
                    # rule waits INACTIVE until the app activates it through MEC 011.
                    dns = replace(dns, state=RuleState.INACTIVE)
            uow.dns_rules.add(app_instance_id, dns)
        for traffic in self.traffic_rules_of(appd):
            uow.traffic_rules.add(app_instance_id, traffic)

    def traffic_rules_of(self, appd: JsonObject) -> list[TrafficRule]:
        """The AppD's traffic rules; ACTIVE where this host enforces traffic rules."""
        state = RuleState.ACTIVE if self._traffic_rules_enforced else RuleState.INACTIVE
        return traffic_rules_of(appd, state)

    def instances(self) -> list[InstanceView]:
        """Every instance, oldest first."""
        with self._uows() as uow:
            found = sorted(uow.lcm_instances.all(), key=lambda i: i.created_at)
            return [(i, package_fields(uow, i)) for i in found]

    def instance(self, app_instance_id: str) -> InstanceView:
        """One instance."""
        with self._uows() as uow:
            instance = _instance(uow, app_instance_id)
            return instance, package_fields(uow, instance)

    def delete_instance(self, app_instance_id: str) -> None:
        """Delete a NOT_INSTANTIATED identifier with its MEC 011 record, rules and credentials."""
        now = self._clock()
        with self._uows(write=True) as uow:
            instance = _instance(uow, app_instance_id)
            if instance.instantiated or instance.current_op is not None:
                raise Conflict(
                    f"instantiationState: app instance '{app_instance_id}' is "
                    f"{instance.instantiation_state.value}"
                    + (
                        f" and operation {instance.current_op} holds it"
                        if instance.current_op
                        else ""
                    )
                    + "; terminate it first"
                )
            queued = self._notifier.identifier(
                uow, LcmSubscriptionType.IDENTIFIER_DELETION, instance
            )
            uow.lcm_instances.remove(app_instance_id)
            queued = self._registry.withdraw_app(uow, app_instance_id, now) or queued
            for sub in uow.termination_subscriptions.list_for_app(app_instance_id):
                uow.termination_subscriptions.remove(sub.subscription_id)
                uow.outbox.drop_for_subscription(sub.subscription_id, now)
            uow.clients.remove_for_app(app_instance_id)
            uow.apps.remove(app_instance_id)
            package = uow.packages.get(instance.app_pkg_id)
            if package is not None:
                _set_usage(uow, package)
            uow.commit()
        self._after(queued, rules=True)

    # -- operations -------------------------------------------------------------------------
    def instantiate(self, app_instance_id: str, params: JsonObject) -> OpOcc:
        """Start an INSTANTIATE occurrence."""
        with self._uows(write=True) as uow:
            instance = _instance(uow, app_instance_id)
            if instance.instantiated:
                raise Conflict(
                    f"instantiationState: app instance '{app_instance_id}' is INSTANTIATED"
                )
            package = _usable_package(uow, instance.app_d_id)
            assert package.content is not None
            self._check_fits(package.content.appd, params)
            return self._start(uow, instance, LcmOperation.INSTANTIATE, params)

    def operate(self, app_instance_id: str, params: JsonObject) -> OpOcc:
        """Start an OPERATE occurrence (changeStateTo STARTED or STOPPED)."""
        target = _enum(AppOperationalState, params.get("changeStateTo"), "changeStateTo")
        _enum(StopType, params.get("stopType", StopType.FORCEFUL.value), "stopType")
        _non_negative(params, "gracefulStopTimeout")
        with self._uows(write=True) as uow:
            instance = _instantiated(uow, app_instance_id)
            if instance.operational_state is target:
                raise Conflict(
                    f"operationalState: app instance '{app_instance_id}' is {target.value} already"
                )
            return self._start(uow, instance, LcmOperation.OPERATE, params)

    def terminate(self, app_instance_id: str, params: JsonObject) -> OpOcc:
        """Start a TERMINATE occurrence (FORCEFUL or GRACEFUL)."""
        _enum(StopType, params.get("terminationType"), "terminationType")
        _non_negative(params, "gracefulTerminationTimeout")
        with self._uows(write=True) as uow:
            instance = _instantiated(uow, app_instance_id)
            return self._start(uow, instance, LcmOperation.TERMINATE, params)

    def _start(
        self,
        uow: LifecycleUnitOfWork,
        instance: LcmInstance,
        operation: LcmOperation,
        params: JsonObject,
    ) -> OpOcc:
        now = self._clock()
        occ = OpOcc(
            op_occ_id=self._new_id(),
            app_instance_id=instance.app_instance_id,
            operation=operation,
            state=OperationState.STARTING,
            start_time=now,
            state_entered_time=now,
            params=dict(params),
        )
        uow.op_occs.add(occ)
        if not uow.lcm_instances.hold(instance.app_instance_id, occ.op_occ_id):
            raise Conflict(
                f"appInstanceId: app instance '{instance.app_instance_id}' has an operation in "
                "progress; wait for it to complete, or fail/cancel it"
            )
        queued = self._notifier.op_occ(uow, occ, instance)
        uow.commit()
        self._after(queued, wake_lifecycle=True)
        return occ

    def _check_fits(self, appd: JsonObject, params: JsonObject) -> None:
        host = self._host()
        if host is None:
            return  # the lifecycle process checks again when the runtime answers
        cpus, memory_mib = requested_resources(appd, params)
        if cpus is not None and cpus > host.cpus:
            raise InvalidInput(
                f"virtualComputeDescriptor.virtualCpu.numVirtualCpu: {cpus:g} CPUs requested, "
                f"this MEC host has {host.cpus}"
            )
        if memory_mib is not None and memory_mib * 2**20 > host.memory_bytes:
            raise InvalidInput(
                f"virtualComputeDescriptor.virtualMemory.virtualMemSize: {memory_mib} MiB "
                f"requested, this MEC host has {host.memory_bytes // 2**20} MiB"
            )

    def op_occs(self, app_instance_id: str | None = None) -> list[OpOcc]:
        """Occurrences, oldest first."""
        with self._uows() as uow:
            return uow.op_occs.all(app_instance_id)

    def op_occs_of(self, provider: str | None) -> list[OpOcc]:
        """Occurrences on the instances an app provider owns (None: every occurrence)."""
        with self._uows() as uow:
            occurrences = uow.op_occs.all()
            if provider is None:
                return occurrences
            owners = {i.app_instance_id: i.owner for i in uow.lcm_instances.all()}
        return [occ for occ in occurrences if owners.get(occ.app_instance_id) == provider]

    def op_occ(self, op_occ_id: str) -> OpOcc:
        """One occurrence."""
        with self._uows() as uow:
            return _occ(uow, op_occ_id)

    def op_occ_owner(self, op_occ_id: str) -> str | None:
        """The owner of the instance an occurrence belongs to (None: the platform's admins,
        or an instance deleted since)."""
        with self._uows() as uow:
            instance = uow.lcm_instances.get(_occ(uow, op_occ_id).app_instance_id)
        return instance.owner if instance else None

    def cancel(self, op_occ_id: str, mode: CancelMode) -> OpOcc:
        """Cancel a STARTING or PROCESSING occurrence; it ends in FAILED_TEMP."""
        with self._uows(write=True) as uow:
            occ = _occ(uow, op_occ_id, lock=True)
            require_state(
                occ, frozenset({OperationState.STARTING, OperationState.PROCESSING}), "cancel"
            )
            if occ.state is OperationState.STARTING:
                occ = occ.moved_to(
                    OperationState.FAILED_TEMP,
                    self._clock(),
                    cancel_mode=mode,
                    lease_owner=None,
                    lease_until=None,
                    error=cancelled_problem(occ),
                )
            else:
                occ = replace(occ, cancel_pending=True, cancel_mode=mode)
            uow.op_occs.update(occ)
            queued = occ.state is OperationState.FAILED_TEMP and self._notifier.op_occ(
                uow, occ, _instance(uow, occ.app_instance_id)
            )
            uow.commit()
        self._after(queued, wake_lifecycle=True)
        return occ

    def fail(self, op_occ_id: str) -> OpOcc:
        """Give up a FAILED_TEMP occurrence: FAILED, and the instance is free again."""
        with self._uows(write=True) as uow:
            occ = _occ(uow, op_occ_id, lock=True)
            require_state(occ, frozenset({OperationState.FAILED_TEMP}), "fail")
            occ = occ.moved_to(OperationState.FAILED, self._clock())
            uow.op_occs.update(occ)
            uow.lcm_instances.release(occ.app_instance_id, occ.op_occ_id)
            instance = uow.lcm_instances.get(occ.app_instance_id)
            queued = instance is not None and self._notifier.op_occ(uow, occ, instance)
            uow.commit()
        self._after(queued)
        return occ

    def retry(self, op_occ_id: str) -> OpOcc:
        """Run a FAILED_TEMP occurrence again from the start."""
        with self._uows(write=True) as uow:
            occ = _occ(uow, op_occ_id, lock=True)
            require_state(occ, frozenset({OperationState.FAILED_TEMP}), "retry")
            occ = occ.moved_to(
                OperationState.STARTING,
                self._clock(),
                error=None,
                cancel_pending=False,
                cancel_mode=None,
                lease_owner=None,
                lease_until=None,
            )
            uow.op_occs.update(occ)
            queued = self._notifier.op_occ(uow, occ, _instance(uow, occ.app_instance_id))
            uow.commit()
        self._after(queued, wake_lifecycle=True)
        return occ

    def configure_platform(self, app_instance_id: str, config: JsonObject) -> None:
        """ConfigPlatformForAppRequest: add or update the instance's DNS and traffic rules."""
        dns = dns_rules_of(config) if "appDNSRule" in config else None
        traffic = self.traffic_rules_of(config) if "appTrafficRule" in config else None
        with self._uows(write=True) as uow:
            _instantiated(uow, app_instance_id)
            known_dns = {r.dns_rule_id for r in uow.dns_rules.list_for_app(app_instance_id)}
            for rule in dns or []:
                ensure_domain_free(uow, rule.domain_name, app_instance_id)
                if rule.dns_rule_id in known_dns:
                    uow.dns_rules.update(app_instance_id, rule)
                else:
                    uow.dns_rules.add(app_instance_id, rule)
            known = {r.traffic_rule_id for r in uow.traffic_rules.list_for_app(app_instance_id)}
            for traffic_rule in traffic or []:
                if traffic_rule.traffic_rule_id in known:
                    uow.traffic_rules.update(app_instance_id, traffic_rule)
                else:
                    uow.traffic_rules.add(app_instance_id, traffic_rule)
            uow.commit()
        self._after(False, rules=True)

    # -- subscriptions ----------------------------------------------------------------------
    def subscribe(self, request: JsonObject, owner: str | None) -> LcmSubscription:
        """A new LCM subscription of any of the four kinds."""
        subscription = LcmSubscription(
            subscription_id=self._new_id(),
            subscription_type=parse_subscription_type(request.get("subscriptionType")),
            callback_uri=check_callback_uri(str(request.get("callbackUri", ""))),
            request=dict(request),
            owner=owner,
            created_at=self._clock(),
        )
        with self._uows(write=True) as uow:
            uow.lcm_subscriptions.add(subscription)
            uow.commit()
        return subscription

    def subscriptions(self) -> list[LcmSubscription]:
        """Every LCM subscription."""
        with self._uows() as uow:
            return uow.lcm_subscriptions.all()

    def subscription(self, subscription_id: str) -> LcmSubscription:
        """One LCM subscription."""
        with self._uows() as uow:
            found = uow.lcm_subscriptions.get(subscription_id)
        if found is None:
            raise NotFound(f"subscriptionId: no subscription '{subscription_id[:200]}'")
        return found

    def unsubscribe(self, subscription_id: str) -> None:
        """End a subscription; undelivered notifications go with it."""
        with self._uows(write=True) as uow:
            if uow.lcm_subscriptions.get(subscription_id) is None:
                raise NotFound(f"subscriptionId: no subscription '{subscription_id[:200]}'")
            uow.lcm_subscriptions.remove(subscription_id)
            uow.outbox.drop_for_subscription(subscription_id, self._clock())
            uow.commit()

    def _after(self, queued: bool, wake_lifecycle: bool = False, rules: bool = False) -> None:
        if queued:
            self._hooks.worker()
        if wake_lifecycle:
            self._hooks.lifecycle()
        if rules:
            self._hooks.dataplane()


def cancelled_problem(occ: OpOcc) -> JsonObject:
    """The `error` of an occurrence stopped by a cancel request."""
    return {
        "title": "Operation cancelled",
        "status": 409,
        "detail": f"{occ.operation.value} was cancelled; retry or fail the occurrence",
    }


def _enum(kind: type[_E], value: object, field: str) -> _E:
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(f"{field}: '{str(value)[:40]}' is not one of {allowed}") from None


def _non_negative(params: JsonObject, key: str) -> None:
    value = params.get(key)
    if value is not None and (not isinstance(value, int) or value < 0):
        raise InvalidInput(f"{key}: must be a non-negative whole number of seconds")


def _instance(uow: LifecycleUnitOfWork, app_instance_id: str) -> LcmInstance:
    instance = uow.lcm_instances.get(app_instance_id)
    if instance is None:
        raise NotFound(f"appInstanceId: no app instance '{app_instance_id[:200]}'")
    return instance


def _instantiated(uow: LifecycleUnitOfWork, app_instance_id: str) -> LcmInstance:
    instance = _instance(uow, app_instance_id)
    if not instance.instantiated:
        raise Conflict(f"instantiationState: app instance '{app_instance_id}' is NOT_INSTANTIATED")
    return instance


def _occ(uow: LifecycleUnitOfWork, op_occ_id: str, lock: bool = False) -> OpOcc:
    occ = uow.op_occs.get_for_update(op_occ_id) if lock else uow.op_occs.get(op_occ_id)
    if occ is None:
        raise NotFound(f"appLcmOpOccId: no operation occurrence '{op_occ_id[:200]}'")
    return occ


def _usable_package(uow: LifecycleUnitOfWork, app_d_id: str) -> AppPackage:
    package = uow.packages.by_app_d_id(app_d_id)
    if package is None or package.onboarding_state is not OnboardingState.ONBOARDED:
        raise NotFound(f"appDId: no onboarded application package '{app_d_id[:200]}'")
    if package.operational_state is not PackageOperationalState.ENABLED:
        raise Conflict(f"operationalState: application package '{app_d_id}' is DISABLED")
    return package


def _set_usage(uow: LifecycleUnitOfWork, package: AppPackage) -> None:
    used = uow.lcm_instances.count_for_package(package.app_pkg_id) > 0
    state = UsageState.IN_USE if used else UsageState.NOT_IN_USE
    if package.usage_state is not state:
        uow.packages.update(replace(package, usage_state=state))
