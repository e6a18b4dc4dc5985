"""Onboarded application package handlers (MEC 010-2 clause 7.3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask

from mec_platform.errors import InvalidInput
from mec_platform.http.attribute_filter import apply_filter
from mec_platform.http.ownership import check_owner, owner_of, visible
from mec_platform.http.responses import RawResponse, Response, accepted, no_content, ok
from mec_platform.packages.model import PackageOperationalState, PackageRequest
from mec_platform.packages.service import PackageCatalog
from mec_platform.packages.urls import PackageUrls
from mec_platform.packages.wire import package_key, package_to_wire
from mec_platform.registry.model import Actor

ZIP = "application/zip"


def onboardedapppackages_get(
    filter_: str | None = None,
    all_fields: str | None = None,
    fields: str | None = None,
    exclude_fields: str | None = None,
    exclude_default: str | None = None,
    *,
    packages: PackageCatalog,
    package_urls: PackageUrls,
    caller: Callable[[], Actor],
) -> Response:
    """GET /onboarded_app_packages: the caller's packages, optionally filtered."""
    found = visible(caller(), packages.all(), lambda p: p.owner)
    return ok(apply_filter([package_to_wire(p, package_urls) for p in found], filter_))


def onboardedapppackages_post(
    body: dict[str, Any],
    *,
    packages: PackageCatalog,
    package_urls: PackageUrls,
    caller: Callable[[], Actor],
) -> Response:
    """POST /onboarded_app_packages: a package resource waiting for its content."""
    checksum = body["checksum"]
    request = PackageRequest(
        name=body["appPkgName"],
        version=body["appPkgVersion"],
        provider=body.get("appProvider"),
        checksum_algorithm=checksum["algorithm"],
        checksum_hash=checksum["hash"],
        path=body["appPkgPath"],
        user_defined_data=body.get("userDefinedData") or {},
    )
    package = packages.create(request, owner_of(caller()))
    location = package_urls.package(package_key(package))
    return ok(package_to_wire(package, package_urls), 201, Location=location)


def onboardedapppackages_get_appdid(
    app_d_id: str,
    *,
    packages: PackageCatalog,
    package_urls: PackageUrls,
    caller: Callable[[], Actor],
) -> Response:
    """GET /onboarded_app_packages/{appDId}."""
    package = packages.get(app_d_id)
    check_owner(caller(), package.owner, "packages")
    return ok(package_to_wire(package, package_urls))


def onboardedapppackages_patch_appdid(
    app_d_id: str,
    body: dict[str, Any],
    *,
    packages: PackageCatalog,
    caller: Callable[[], Actor],
) -> Response:
    """PATCH /onboarded_app_packages/{appDId}: enable or disable the package."""
    check_owner(caller(), packages.get(app_d_id).owner, "packages")
    state = PackageOperationalState(body["operationalState"])
    packages.change_state(app_d_id, state)
    return ok({"operationalState": state.value})


def onboardedapppackages_delete_appdid(
    app_d_id: str, *, packages: PackageCatalog, caller: Callable[[], Actor]
) -> RawResponse:
    """DELETE /onboarded_app_packages/{appDId}."""
    check_owner(caller(), packages.get(app_d_id).owner, "packages")
    packages.delete(app_d_id)
    return no_content()


def onboardedapppackages_appd_get_appdid(
    app_d_id: str,
    filter_: str | None = None,
    all_fields: str | None = None,
    fields: str | None = None,
    exclude_fields: str | None = None,
    exclude_default: str | None = None,
    *,
    packages: PackageCatalog,
    caller: Callable[[], Actor],
) -> Response:
    """GET /onboarded_app_packages/{appDId}/appd: the AppD as onboarded."""
    check_owner(caller(), packages.get(app_d_id).owner, "packages")
    return ok(packages.appd(app_d_id))


def onboardedapppackages_packagecontent_get_appdid(
    app_d_id: str, *, packages: PackageCatalog, caller: Callable[[], Actor]
) -> RawResponse:
    """GET /onboarded_app_packages/{appDId}/package_content (Range requests answered)."""
    check_owner(caller(), packages.get(app_d_id).owner, "packages")
    path = packages.content_file(app_d_id)
    return flask.send_file(path, mimetype=ZIP, conditional=True, download_name="package.zip")


def onboardedapppackages_packagecontent_put_appdid(
    app_d_id: str,
    body: bytes | None = None,
    *,
    packages: PackageCatalog,
    caller: Callable[[], Actor],
) -> RawResponse:
    """PUT /onboarded_app_packages/{appDId}/package_content: upload and onboard."""
    check_owner(caller(), packages.get(app_d_id).owner, "packages")
    content = body if isinstance(body, bytes) else flask.request.get_data()
    if not content:
        raise InvalidInput("package_content: the request body is empty")
    packages.upload(app_d_id, content)
    return accepted()
