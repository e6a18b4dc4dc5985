"""Users API handler reading the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mec_platform.http.responses import Response, ok

AuditReader = Callable[[int, str | None], list[dict[str, Any]]]
"""(limit, since as RFC 3339 text) -> the latest audit records."""


def audit_get(limit: int = 100, since: str | None = None, *, audit_reader: AuditReader) -> Response:
    """GET /audit: the latest records, oldest first."""
    return ok(audit_reader(limit, since))
