"""Who may see and change packages, instances and LCM subscriptions: an app provider only its
own, platform admins (and the platform itself when authentication is off) everything."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from mec_platform.errors import Forbidden
from mec_platform.registry.model import Actor

T = TypeVar("T")


def owner_of(actor: Actor) -> str | None:
    """The owner recorded for what this caller creates (None: the platform's admins)."""
    return actor.provider


def check_owner(actor: Actor, owner: str | None, what: str) -> None:
    """Forbidden unless the caller may act on a resource owned by `owner`."""
    if actor.provider is not None and owner != actor.provider:
        raise Forbidden(f"app-provider '{actor.provider}' may act only on its own {what}")


def visible(actor: Actor, items: Iterable[T], owner: Callable[[T], str | None]) -> list[T]:
    """The items this caller may see."""
    return [item for item in items if actor.provider is None or owner(item) == actor.provider]
