"""Use cases on AppTerminationNotificationSubscriptions (MEC 011 clauses 7.2.3, 7.2.4)."""

from __future__ import annotations

from mec_platform.appsupport.model import TerminationSubscription
from mec_platform.appsupport.ports import AppSupportUnitOfWork, AppSupportUnitOfWorkFactory
from mec_platform.errors import Forbidden, NotFound
from mec_platform.registry.access import require_app
from mec_platform.registry.ports import Clock, IdGenerator


def _owned(
    uow: AppSupportUnitOfWork, app_instance_id: str, subscription_id: str
) -> TerminationSubscription:
    require_app(uow, app_instance_id)
    subscription = uow.termination_subscriptions.get(subscription_id)
    if subscription is None:
        raise NotFound(f"subscriptionId: no subscription '{subscription_id}'")
    if subscription.app_instance_id != app_instance_id:
        raise Forbidden(
            f"subscriptionId: subscription '{subscription_id}' belongs to another application"
        )
    return subscription


class TerminationSubscriptions:
    """Subscriptions of applications to their own stop/termination notifications."""

    def __init__(self, uows: AppSupportUnitOfWorkFactory, clock: Clock, new_id: IdGenerator):
        self._uows = uows
        self._clock = clock
        self._new_id = new_id

    def subscribe(self, app_instance_id: str, callback_reference: str) -> TerminationSubscription:
        """Create a subscription."""
        subscription = TerminationSubscription(self._new_id(), app_instance_id, callback_reference)
        with self._uows(write=True) as uow:
            require_app(uow, app_instance_id)
            uow.termination_subscriptions.add(subscription)
            uow.commit()
        return subscription

    def list(self, app_instance_id: str) -> list[TerminationSubscription]:
        """The subscriptions of an application."""
        with self._uows() as uow:
            require_app(uow, app_instance_id)
            return uow.termination_subscriptions.list_for_app(app_instance_id)

    def get(self, app_instance_id: str, subscription_id: str) -> TerminationSubscription:
        """One subscription of an application."""
        with self._uows() as uow:
            return _owned(uow, app_instance_id, subscription_id)

    def unsubscribe(self, app_instance_id: str, subscription_id: str) -> None:
        """Delete a subscription; undelivered notifications to it are dropped."""
        with self._uows(write=True) as uow:
            _owned(uow, app_instance_id, subscription_id)
            uow.termination_subscriptions.remove(subscription_id)
            uow.outbox.drop_for_subscription(subscription_id, self._clock())
            uow.commit()
