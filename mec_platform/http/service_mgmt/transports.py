"""Transport information handler (tag `transports`)."""

from __future__ import annotations

from mec_platform.http.responses import Response, ok
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.wire import transport_to_wire


def transports_get(*, registry: ServiceRegistry) -> Response:
    """GET /transports: what the platform offers to service producers."""
    return ok([transport_to_wire(t) for t in registry.list_transports()])
