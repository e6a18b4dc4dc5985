"""HTTP-agnostic errors raised by the core and rendered as ProblemDetails at the edge."""

from __future__ import annotations


class PlatformError(Exception):
    """Base of every error the core raises on purpose; `detail` is safe to show to clients."""

    title = "Platform error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(PlatformError):
    """The request is well-formed JSON but breaks a rule of the standard or of the platform."""

    title = "Invalid input"


class NotFound(PlatformError):
    """The addressed resource does not exist."""

    title = "Not found"


class Forbidden(PlatformError):
    """The caller may not act on this resource (it belongs to another application instance)."""

    title = "Forbidden"


class Conflict(PlatformError):
    """The operation conflicts with the current state of the resource."""

    title = "Conflict"


class PreconditionFailed(PlatformError):
    """A conditional request (If-Match) does not match the resource's current entity tag."""

    title = "Precondition failed"


class TooManyRequests(PlatformError):
    """The caller repeats a request faster than the platform accepts it."""

    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class StorageUnavailable(PlatformError):
    """The database cannot be reached or is locked beyond the configured timeout."""

    title = "Service unavailable"
