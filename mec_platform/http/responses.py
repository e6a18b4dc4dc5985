"""Response helpers shared by the handlers of every API (explicit Content-Type)."""

from __future__ import annotations

from typing import Any

import flask

JSON = "application/json"

Response = tuple[Any, int, dict[str, str]]
RawResponse = flask.Response


def ok(body: Any, status: int = 200, **headers: str) -> Response:
    """A JSON success response; extra headers are given as keyword arguments (ETag, Location)."""
    return body, status, {"Content-Type": JSON, **headers}


def json_bytes(body: bytes) -> RawResponse:
    """A 200 response whose JSON body is already encoded."""
    return flask.Response(body, 200, mimetype=JSON)


def no_content() -> RawResponse:
    """204 without a body or Content-Type (connexion cannot infer one for an empty body)."""
    response = flask.Response(status=204)
    response.headers.pop("Content-Type", None)
    return response


def accepted(location: str | None = None) -> RawResponse:
    """202 without a body (the work goes on elsewhere), pointing at it when there is a URI."""
    response = flask.Response(status=202)
    response.headers.pop("Content-Type", None)
    if location is not None:
        response.headers["Location"] = location
    return response


def subscription_links(collection: str, links: list[tuple[str, str]]) -> Response:
    """A subscription link list: the collection's own link and (href, subscriptionType) pairs."""
    return ok(
        {
            "_links": {
                "self": {"href": collection},
                "subscriptions": [{"href": href, "subscriptionType": kind} for href, kind in links],
            }
        }
    )


def raw_request() -> tuple[str, bytes]:
    """Path and raw query string of the request, as the ASGI scope carries them."""
    return flask.request.path, flask.request.query_string


def if_match() -> str | None:
    """The request's If-Match header, if any."""
    return flask.request.headers.get("If-Match")
