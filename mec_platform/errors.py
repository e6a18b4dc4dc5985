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


class Unauthorized(PlatformError):
    """The request carries no valid credentials (no token, or a bad one)."""

    title = "Unauthorized"
    # connexion picks the most specific error of its security checks by this attribute.
    status = 401


class OAuthError(PlatformError):
    """A token request refused with an error code of RFC 6749 clause 5.2.

    `invalid_client` is answered 401, every other code 400, as the RFC asks.
    """

    title = "Token request refused"

    def __init__(self, detail: str, error: str) -> None:
        super().__init__(detail)
        self.error = error


class Forbidden(PlatformError):
    """The caller may not act on this resource (it belongs to another application instance)."""

    title = "Forbidden"
    # connexion picks the most specific error of its security checks by this attribute.
    status = 403


class Conflict(PlatformError):
    """The operation conflicts with the current state of the resource."""

    title = "Conflict"


class PayloadTooLarge(PlatformError):
    """The request body is larger than the platform accepts for this resource."""

    title = "Payload too large"


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


class MaintenanceAccessUnavailable(PlatformError):
    """The SSH maintenance access files could not be written (permissions, disk, settings)."""

    title = "Service unavailable"
