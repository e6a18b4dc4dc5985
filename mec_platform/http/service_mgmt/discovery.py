"""Discovery answers rendered once per query and reused while the registry is unchanged.

Discovery is the hot path of the API (every consumer polls it). Rendering a hundred services
costs far more than checking the registry version, a single-row read that changes in the
same transaction as any write to services or app instances; so an answer is served from the
cache only when it was rendered at the current version, in any gunicorn worker.

The handler renders and caches under the parsed query and also remembers the raw request
(path and query string) it answered; `DiscoveryFastPath` then answers the same raw request
straight from the cache, after routing and security but before validation and Flask: a
request that passed validation once passes it again.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from mec_platform.registry.model import ServiceQuery
from mec_platform.registry.service import ServiceRegistry
from mec_platform.registry.urls import ResourceUrls
from mec_platform.registry.wire import service_to_wire

RawRequest = tuple[str, bytes]
DISCOVERY_OPERATIONS = frozenset({"ServicesGET", "ApplicationsServicesGETAppinstanceid"})


class _Lru(OrderedDict[Any, Any]):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class DiscoveryCache:
    """Bounded LRU of JSON bodies keyed by query, each tagged with the registry version."""

    def __init__(self, registry: ServiceRegistry, urls: ResourceUrls, max_entries: int = 256):
        self._registry = registry
        self._urls = urls
        self._entries = _Lru(max_entries)
        self._raw = _Lru(max_entries * 4)
        self._lock = threading.Lock()

    def answer(self, query: ServiceQuery, raw: RawRequest | None = None) -> bytes:
        """The JSON array of services matching `query`, as of now."""
        body = self._current(query)
        if body is None:
            # Version and rows come from one read, so the body is never older than its tag.
            version, services = self._registry.discover_versioned(query)
            rendered = [service_to_wire(service, self._urls) for service in services]
            body = json.dumps(rendered, separators=(",", ":")).encode()
            with self._lock:
                self._entries.put(query, (version, body))
        if raw is not None:
            with self._lock:
                self._raw.put(raw, query)
        return body

    def answer_raw(self, raw: RawRequest) -> bytes | None:
        """The cached answer to a raw request seen before, if still current."""
        with self._lock:
            query = self._raw.get(raw)
        return None if query is None else self._current(query)

    def _current(self, query: ServiceQuery) -> bytes | None:
        version = self._registry.registry_version()
        with self._lock:
            entry = self._entries.get(query)
            if entry is None or entry[0] != version:
                return None
            self._entries.move_to_end(query)
            return bytes(entry[1])


class DiscoveryFastPath:
    """ASGI middleware answering repeated discovery requests from the cache."""

    def __init__(self, app: ASGIApp, cache: DiscoveryCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routing = scope.get("extensions", {}).get("connexion_routing", {})
        if scope["type"] == "http" and routing.get("operation_id") in DISCOVERY_OPERATIONS:
            raw = (scope["path"], scope["query_string"])
            body = await run_in_threadpool(self.cache.answer_raw, raw)
            if body is not None:
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
