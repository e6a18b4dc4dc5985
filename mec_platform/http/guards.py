"""Requests refused before routing, with ProblemDetails, because the router cannot handle them.

Starlette's path patterns do not match a newline, so a path parameter holding a control
character finds no operation while Flask still routes it; connexion then fails with a 500.
Such a path can never name one of our resources: answer 404 at the door (documented on
every operation, unlike 400).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from mec_platform.http.problems import PROBLEM_JSON, problem_body

_CONTROL = {chr(code) for code in range(0x20)} | {"\x7f"}


class ControlCharacterGuard:
    """ASGI middleware: 404 ProblemDetails for paths with control characters."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _CONTROL.intersection(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        detail = "path: contains control characters, so it names no resource"
        body = json.dumps(problem_body(404, "Not Found", detail)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
