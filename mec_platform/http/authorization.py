"""ASGI middleware applying the policy point (auth.policy) to every routed request, after the
token check and before validation, and auditing what admins and providers do and every
request refused with 401 or 403, whoever made it.

Refusing before validation means a request on another instance's path gets the same 403
whatever its body holds, so it learns nothing about that instance. Only app providers need a
database read (who owns the instance); it runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mec_platform.auth.model import Principal, Role
from mec_platform.auth.policy import Operation, OwnerLookup, decide
from mec_platform.auth.ports import AuditLog
from mec_platform.http.problems import PROBLEM_JSON, problem_body, status_of
from mec_platform.http.security import client_address, describe, principal_of

AUDITED_ROLES = frozenset({Role.ADMIN, Role.PROVIDER})
READS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSALS = frozenset({401, 403})


class PolicyEnforcement:
    """403 ProblemDetails for requests the policy refuses; audit lines for the rest."""

    def __init__(self, app: ASGIApp, owner_of: OwnerLookup, audit: AuditLog) -> None:
        self.app = app
        self._owner_of = owner_of
        self._audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = principal_of(scope) if scope["type"] == "http" else None
        if principal is None:
            await self.app(scope, receive, send)
            return
        operation = Operation(
            scope["method"],
            scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id", ""),
            scope.get("path_params") or {},
        )
        decision = await self._decide(principal, operation)
        if not decision.allowed:
            self._record(principal, scope, "refused 403", reason=decision.reason)
            await _forbidden(send, decision.reason)
            return
        # Admins' and providers' changes are recorded whatever their outcome; anyone's refusals.
        everything = principal.role in AUDITED_ROLES and scope["method"] not in READS
        await self._call_audited(principal, scope, receive, send, everything)

    async def _decide(self, principal: Principal, operation: Operation) -> Any:
        if principal.role is Role.PROVIDER and "appInstanceId" in operation.path_params:
            lookup = self._owner_of
            return await anyio.to_thread.run_sync(lambda: decide(principal, operation, lookup))
        return decide(principal, operation, self._owner_of)

    async def _call_audited(
        self, principal: Principal, scope: Scope, receive: Receive, send: Send, everything: bool
    ) -> None:
        """Run the request and record its outcome (every outcome, or only 401 and 403): the
        status it answered with, or the one the exception handlers (outside this middleware)
        will give the error it raised."""
        answered = False

        def record(status: int) -> None:
            if everything or status in REFUSALS:
                outcome = "done" if status < 400 else "refused" if status in REFUSALS else "failed"
                self._record(principal, scope, f"{outcome} {status}")

        async def audited_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                record(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, audited_send)
        except Exception as exc:
            if not answered:
                record(status_of(exc))
            raise

    def _record(self, principal: Principal, scope: Scope, outcome: str, **details: object) -> None:
        self._audit.record(
            describe(principal),
            f"{scope['method']} {scope['path']}",
            outcome,
            source=client_address(scope),
            **details,
        )


async def _forbidden(send: Send, reason: str) -> None:
    body = json.dumps(problem_body(403, "Forbidden", reason)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
