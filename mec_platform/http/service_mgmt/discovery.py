"""Discovery answers rendered once per query and reused while the registry is unchanged.

Discovery is the hot path of the API (every consumer polls it). Rendering a hundred services
costs far more than checking the registry version, a single-row read that changes in the
same transaction as any write to services or app instances; so an answer is served from the
cache only when it was rendered at the current version, in any gunicorn worker.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

from mec_platform.registry.model import ServiceQuery
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.urls import ResourceUrls
from mec_platform.registry.wire import service_to_wire


class DiscoveryCache:
    """Bounded LRU of JSON bodies keyed by query, each tagged with the registry version."""

    def __init__(self, registry: ServiceRegistry, urls: ResourceUrls, max_entries: int = 256):
        self._registry = registry
        self._urls = urls
        self._max_entries = max_entries
        self._entries: OrderedDict[ServiceQuery, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def answer(self, query: ServiceQuery) -> bytes:
        """The JSON array of services matching `query`, as of now."""
        current = self._registry.registry_version()
        with self._lock:
            entry = self._entries.get(query)
            if entry is not None and entry[0] == current:
                self._entries.move_to_end(query)
                return entry[1]
        # Version and rows come from one read, so the body is never older than its tag.
        version, services = self._registry.discover_versioned(query)
        body = json.dumps(
            [service_to_wire(service, self._urls) for service in services], separators=(",", ":")
        ).encode()
        with self._lock:
            self._entries[query] = (version, body)
            self._entries.move_to_end(query)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return body
