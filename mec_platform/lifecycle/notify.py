"""Queue LCM notifications in the caller's transaction (the outbox delivers them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mec_platform.lifecycle.model import LcmInstance, LcmSubscription, LcmSubscriptionType, OpOcc
from mec_platform.lifecycle.ports import LifecycleUnitOfWork
from mec_platform.lifecycle.subscriptions import (
    wants_identifier,
    wants_instance_state,
    wants_op_occ,
)
from mec_platform.lifecycle.urls import LifecycleUrls
from mec_platform.lifecycle.wire import (
    identifier_notification,
    instance_notification,
    op_occ_notification,
)
from mec_platform.notifications.model import NewMessage
from mec_platform.registry.model import JsonObject
from mec_platform.registry.ports import Clock, IdGenerator


def package_fields(uow: LifecycleUnitOfWork, instance: LcmInstance) -> JsonObject:
    """appProvider, appName, appSoftVersion, appDVersion of the instance's package."""
    package = uow.packages.get(instance.app_pkg_id)
    content = package.content if package else None
    if content is None:
        return {"appProvider": "", "appName": "", "appSoftVersion": "", "appDVersion": ""}
    return {
        "appProvider": content.app_provider,
        "appName": content.app_name,
        "appSoftVersion": content.app_soft_version,
        "appDVersion": content.app_d_version,
    }


@dataclass(frozen=True)
class LcmNotifier:
    """Builds and queues the four kinds of LCM notification."""

    urls: LifecycleUrls
    clock: Clock
    new_id: IdGenerator

    def instance_state(self, uow: LifecycleUnitOfWork, instance: LcmInstance) -> bool:
        """AppInstNotification to matching subscribers; True when something was queued."""
        app = package_fields(uow, instance)
        return self._send(
            uow,
            lambda s: wants_instance_state(s, instance, app),
            lambda event, s, now: instance_notification(event, s, instance, now, self.urls),
        )

    def op_occ(self, uow: LifecycleUnitOfWork, occ: OpOcc, instance: LcmInstance) -> bool:
        """AppLcmOpOccNotification to matching subscribers."""
        app = package_fields(uow, instance)
        return self._send(
            uow,
            lambda s: wants_op_occ(s, occ, instance, app),
            lambda event, s, now: op_occ_notification(event, s, occ, now, self.urls),
        )

    def identifier(
        self, uow: LifecycleUnitOfWork, kind: LcmSubscriptionType, instance: LcmInstance
    ) -> bool:
        """Identifier creation or deletion notification to matching subscribers."""
        app = package_fields(uow, instance)
        app_id = instance.app_instance_id
        return self._send(
            uow,
            lambda s: wants_identifier(s, kind, instance, app),
            lambda event, s, now: identifier_notification(event, s, app_id, now, self.urls),
        )

    def _send(
        self,
        uow: LifecycleUnitOfWork,
        wants: Callable[[LcmSubscription], bool],
        payload: Callable[[str, LcmSubscription, float], JsonObject],
    ) -> bool:
        now = self.clock()
        # One event, one notification id, however many subscriptions receive a copy.
        event = self.new_id()
        return self._queue(
            uow,
            [
                NewMessage(s.subscription_id, s.callback_uri, payload(event, s, now))
                for s in uow.lcm_subscriptions.all()
                if wants(s)
            ],
        )

    def _queue(self, uow: LifecycleUnitOfWork, messages: list[NewMessage]) -> bool:
        if messages:
            uow.outbox.enqueue(messages, self.clock())
        return bool(messages)
