"""Callback sender over HTTP with httpx: any 2xx counts as delivered, anything else is retried."""

from __future__ import annotations

import httpx

from mec_platform.notifications.model import DeliveryResult
from mec_platform.registry.model import JsonObject


class HttpxCallbackSender:
    """POSTs JSON notifications with a per-request timeout over a shared connection pool."""

    def __init__(self, timeout: float, max_connections: int = 32) -> None:
        self._client = httpx.Client(
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections),
            headers={"Content-Type": "application/json", "User-Agent": "mec-platform"},
            follow_redirects=False,
        )

    def send(self, message_id: int, uri: str, payload: JsonObject) -> DeliveryResult:
        try:
            response = self._client.post(uri, json=dict(payload))
        except httpx.HTTPError as exc:
            return DeliveryResult(message_id, False, error=f"{type(exc).__name__}: {exc}"[:500])
        delivered = 200 <= response.status_code < 300
        error = None if delivered else f"callback answered HTTP {response.status_code}"
        return DeliveryResult(message_id, delivered, response.status_code, error)

    def close(self) -> None:
        self._client.close()
