"""Routes operationIds to hand-written handlers and binds their dependencies.

A handler is named after its snake-cased operationId (as openapi-generator names the generated
controller function) and declares its dependencies as keyword-only parameters; the resolver
fills those from the dependency map, so connexion only sees the request parameters.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

from connexion.resolver import Resolution, Resolver


def snake_case(operation_id: str) -> str:
    """`ApplicationsServicesGETAppinstanceid` -> `applications_services_get_appinstanceid`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", operation_id)
    name = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name)
    return name.replace("-", "_").lower()


def handlers_in(modules: Iterable[ModuleType]) -> dict[str, Callable[..., Any]]:
    """Public functions of the handler modules by name; a name may appear only once."""
    found: dict[str, Callable[..., Any]] = {}
    for module in modules:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            if name in found:
                raise ValueError(f"handler {name} is defined twice")
            found[name] = function
    return found


def bind(handler: Callable[..., Any], dependencies: Mapping[str, Any]) -> Callable[..., Any]:
    """The handler with its keyword-only dependencies filled in."""
    wanted = [
        name
        for name, parameter in inspect.signature(handler).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    missing = [name for name in wanted if name not in dependencies]
    if missing:
        raise LookupError(f"{handler.__name__} needs {', '.join(missing)}")
    bound = functools.partial(handler, **{name: dependencies[name] for name in wanted})
    # No __wrapped__ here: connexion would unwrap it and inspect the dependencies as well.
    bound.__name__ = handler.__name__  # type: ignore[attr-defined]
    bound.__doc__ = handler.__doc__
    return bound


def request_parameters(handler: Callable[..., Any]) -> list[str]:
    """Names of the parameters connexion fills from the request (not the dependencies)."""
    return [
        name
        for name, parameter in inspect.signature(handler).parameters.items()
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY
    ]


class HandlerResolver(Resolver):  # type: ignore[misc]
    """connexion resolver over a fixed set of handler modules and dependencies."""

    def __init__(self, modules: Iterable[ModuleType], dependencies: Mapping[str, Any]) -> None:
        super().__init__()
        self._handlers = handlers_in(modules)
        self._dependencies = dependencies

    def handler_for(self, operation_id: str) -> Callable[..., Any]:
        """The unbound handler of an operationId."""
        name = snake_case(operation_id)
        if name not in self._handlers:
            raise LookupError(f"no handler {name} for operationId {operation_id}")
        return self._handlers[name]

    def resolve(self, operation: Any) -> Resolution:
        operation_id = self.resolve_operation_id(operation)
        return Resolution(bind(self.handler_for(operation_id), self._dependencies), operation_id)
