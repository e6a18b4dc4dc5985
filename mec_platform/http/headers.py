"""Response headers every answer carries: no sniffing, no framing, no referrer, and with TLS
on, HSTS; token answers are never cached (RFC 6749 clause 5.1)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000")
_NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
NO_STORE_PREFIXES = ("/oauth2/", "/users/v1/app_instances/")


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp, tls: bool) -> None:
        self.app = app
        self._extra = [*_ALWAYS, _HSTS] if tls else list(_ALWAYS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._extra
        # Answers that may carry a secret: tokens, client credentials (new registrations too).
        path = scope["path"]
        if path.startswith(NO_STORE_PREFIXES) or path.endswith("/registrations"):
            extra = [*extra, *_NO_STORE]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
