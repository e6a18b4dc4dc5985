"""Errors -> RFC 7807 ProblemDetails (`application/problem+json`), never a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from urllib.parse import quote

from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from mec_platform import errors
from mec_platform.lifecycle.runtime import ContainerRuntimeError, ImageNotFound, RuntimeUnavailable

log = logging.getLogger("mec_platform.http")

PROBLEM_JSON = "application/problem+json"
_PATH_SAFE = "/:@!$&'()*+,;=-._~"

STATUS_OF: dict[type[errors.PlatformError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.PreconditionFailed: 412,
    errors.TooManyRequests: 429,
    errors.StorageUnavailable: 503,
    RuntimeUnavailable: 503,
    ImageNotFound: 400,
    ContainerRuntimeError: 502,
    errors.MaintenanceAccessUnavailable: 503,
}


def problem_body(
    status: int, title: str, detail: str, instance: str | None = None
) -> dict[str, object]:
    """The ProblemDetails fields (RFC 7807, as ETSI GS MEC 009 uses them)."""
    body: dict[str, object] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    return body


def problem_response(
    status: int,
    title: str,
    detail: str,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> ConnexionResponse:
    """A ProblemDetails response with the ETSI fields; `instance` is an absolute URI."""
    body = problem_body(status, title, detail, instance)
    return ConnexionResponse(
        status_code=status,
        mimetype=PROBLEM_JSON,
        content_type=PROBLEM_JSON,
        body=json.dumps(body),
        headers={**(headers or {}), "Content-Type": PROBLEM_JSON},
    )


def status_of(exc: BaseException) -> int:
    """The status the exception handlers below answer `exc` with."""
    if isinstance(exc, errors.OAuthError):
        return 401 if exc.error == "invalid_client" else 400
    if isinstance(exc, errors.PlatformError):
        return next((code for kind, code in STATUS_OF.items() if isinstance(exc, kind)), 400)
    if isinstance(exc, HTTPException):
        return exc.status_code
    status = getattr(exc, "status", None)  # connexion's ProblemException family
    if isinstance(status, int):
        return status
    if isinstance(exc, UnicodeDecodeError):
        return 400
    return 500


def platform_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Render an error raised on purpose by the core."""
    assert isinstance(exc, errors.PlatformError)
    if isinstance(exc, errors.OAuthError):
        return _oauth_error(request, exc)
    status = status_of(exc)
    log.info("request refused", extra={"status": status, "detail": exc.detail})
    headers: dict[str, str] = {}
    if isinstance(exc, errors.TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.Unauthorized):
        headers["WWW-Authenticate"] = BEARER_CHALLENGE
    return problem_response(status, exc.title, exc.detail, _instance(request), headers)


BEARER_CHALLENGE = 'Bearer realm="mec-platform"'


def _oauth_error(request: ConnexionRequest, exc: errors.OAuthError) -> ConnexionResponse:
    """RFC 6749 clause 5.2: the error code rides along as extra ProblemDetails members."""
    status = status_of(exc)
    log.info("token request refused", extra={"status": status, "error": exc.error})
    body = problem_body(status, exc.title, exc.detail, _instance(request))
    body.update(error=exc.error, error_description=exc.detail)
    headers = {"Content-Type": PROBLEM_JSON}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="mec-platform"'
    return ConnexionResponse(
        status_code=status,
        mimetype=PROBLEM_JSON,
        content_type=PROBLEM_JSON,
        body=json.dumps(body),
        headers=headers,
    )


def http_error_handler(
    allowed: Callable[[str], str | None],
) -> Callable[[ConnexionRequest, Exception], ConnexionResponse]:
    """Render routing errors (404 unknown path, 405 wrong method) as ProblemDetails.

    `allowed` gives the methods of a path, so a 405 lists every one of them in `Allow`.
    """

    def http_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        assert isinstance(exc, HTTPException)
        detail = exc.detail or "request refused"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            detail = f"method {request.method} is not allowed on {request.url.path}"
            headers["Allow"] = allowed(request.url.path) or headers.get("Allow", "")
        elif exc.status_code == 404:
            detail = f"no resource at {request.url.path}"
        status = exc.status_code
        return problem_response(status, _title(status), detail, _instance(request), headers)

    return http_error


def undecodable_body(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """A JSON body that is not UTF-8 is the client's error, not ours."""
    return problem_response(
        400, "Bad Request", "request body: not valid UTF-8 JSON", _instance(request)
    )


def unexpected_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """Last resort: log the failure with its traceback, answer without one."""
    log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
    return problem_response(
        500, "Internal server error", "the platform failed to process the request; see its log"
    )


def _instance(request: ConnexionRequest) -> str:
    """The absolute URI of the request, without its query (ProblemDetails.instance)."""
    url = request.url
    # The path arrives percent-decoded; encode it again so the instance is a valid URI.
    return f"{url.scheme}://{url.netloc}{quote(url.path, safe=_PATH_SAFE)}"


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
