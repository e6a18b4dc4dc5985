"""Lookups that enforce existence and ownership (404 unknown, 403 another app's resource),
and the creation of application instances that every creator shares."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from mec_platform.errors import Conflict, Forbidden, InvalidInput, NotFound
from mec_platform.registry.model import AppInstance, Service, Subscription
from mec_platform.registry.ports import UnitOfWork

# A new instance's id is also its OAuth 2.0 client id, a path segment of every URL about it
# and an HTTP header value: characters a path segment holds unescaped (RFC 3986), 256 at most.
_INSTANCE_ID = re.compile(r"[A-Za-z0-9._~:@!$&'()*+,;=-]{1,256}")


def check_new_instance_id(app_instance_id: str) -> str:
    """The id chosen for a new application instance, if it is usable everywhere it appears."""
    if not _INSTANCE_ID.fullmatch(app_instance_id):
        shown = app_instance_id[:80].encode("ascii", "backslashreplace").decode()
        raise InvalidInput(
            f"appInstanceId: '{shown}' cannot name a new instance: use at most 256 letters, "
            "digits and -._~:@!$&'()*+,;="
        )
    return app_instance_id


def new_app_instance(name: str, app_instance_id: str) -> AppInstance:
    """A managed application instance record, not stored yet; the name must not be blank."""
    if not name.strip():
        raise InvalidInput("name: must not be empty")
    return AppInstance(app_instance_id=check_new_instance_id(app_instance_id), name=name)


def insert_app(uow: UnitOfWork, app: AppInstance) -> None:
    """Store a new application instance; its id must not be taken."""
    if uow.apps.get(app.app_instance_id) is not None:
        raise Conflict(f"appInstanceId: '{app.app_instance_id}' exists already")
    uow.apps.add(app)


def require_app(uow: UnitOfWork, app_instance_id: str) -> AppInstance:
    """The application instance named in a path, or NotFound."""
    app = uow.apps.get(app_instance_id)
    if app is None:
        raise NotFound(f"appInstanceId: no application instance '{app_instance_id}'")
    return app


def owned_service(uow: UnitOfWork, app_instance_id: str, ser_instance_id: str) -> Service:
    """A service registered by the given application."""
    require_app(uow, app_instance_id)
    service = uow.services.get(ser_instance_id)
    if service is None:
        raise NotFound(f"serviceId: no service '{ser_instance_id}'")
    if service.app_instance_id != app_instance_id:
        raise Forbidden(
            f"serviceId: service '{ser_instance_id}' was not registered by '{app_instance_id}'"
        )
    return service


def owned_subscription(uow: UnitOfWork, app_instance_id: str, subscription_id: str) -> Subscription:
    """A subscription created by the given application."""
    require_app(uow, app_instance_id)
    subscription = uow.subscriptions.get(subscription_id)
    if subscription is None:
        raise NotFound(f"subscriptionId: no subscription '{subscription_id}'")
    if subscription.app_instance_id != app_instance_id:
        raise Forbidden(
            f"subscriptionId: subscription '{subscription_id}' belongs to another application"
        )
    return subscription


def check_callback_uri(uri: str, field: str = "callbackUri") -> str:
    """An absolute http(s) URI, or InvalidInput naming the field."""
    parts = urlsplit(uri)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidInput(f"{field}: '{uri[:200]}' is not an absolute http(s) URI")
    return uri
