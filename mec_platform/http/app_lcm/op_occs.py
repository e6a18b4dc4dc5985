"""Operation occurrence handlers (MEC 010-2 clause 7.4.7 to 7.4.10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mec_platform.errors import InvalidInput
from mec_platform.http.attribute_filter import apply_filter
from mec_platform.http.ownership import check_owner
from mec_platform.http.responses import RawResponse, Response, accepted, ok
from mec_platform.lifecycle.model import CancelMode
from mec_platform.lifecycle.service import Lifecycle
from mec_platform.lifecycle.urls import LifecycleUrls
from mec_platform.lifecycle.wire import op_occ_to_wire
from mec_platform.registry.model import Actor


def _check(lifecycle: Lifecycle, caller: Callable[[], Actor], op_occ_id: str) -> None:
    check_owner(caller(), lifecycle.op_occ_owner(op_occ_id), "operation occurrences")


def applcmopoccs_get(
    filter_: str | None = None,
    all_fields: str | None = None,
    fields: str | None = None,
    exclude_fields: str | None = None,
    exclude_default: str | None = None,
    *,
    lifecycle: Lifecycle,
    lcm_urls: LifecycleUrls,
    caller: Callable[[], Actor],
) -> Response:
    """GET /app_lcm_op_occs: occurrences on the caller's instances, optionally filtered."""
    found = [op_occ_to_wire(occ, lcm_urls) for occ in lifecycle.op_occs_of(caller().provider)]
    return ok(apply_filter(found, filter_))


def applcmopoccs_get_applcmopoccid(
    app_lcm_op_occ_id: str,
    *,
    lifecycle: Lifecycle,
    lcm_urls: LifecycleUrls,
    caller: Callable[[], Actor],
) -> Response:
    """GET /app_lcm_op_occs/{appLcmOpOccId}."""
    _check(lifecycle, caller, app_lcm_op_occ_id)
    return ok(op_occ_to_wire(lifecycle.op_occ(app_lcm_op_occ_id), lcm_urls))


def applcmopoccs_cancel_post_applcmopoccid(
    app_lcm_op_occ_id: str,
    body: dict[str, Any] | None = None,
    *,
    lifecycle: Lifecycle,
    caller: Callable[[], Actor],
) -> RawResponse:
    """POST /app_lcm_op_occs/{appLcmOpOccId}/cancel."""
    _check(lifecycle, caller, app_lcm_op_occ_id)
    mode_text = (body or {}).get("cancelMode") or (body or {}).get("CancelMode") or "GRACEFUL"
    if isinstance(mode_text, dict):
        mode_text = mode_text.get("CancelMode", "GRACEFUL")
    try:
        mode = CancelMode(str(mode_text))
    except ValueError:
        raise InvalidInput("cancelMode: must be GRACEFUL or FORCED") from None
    lifecycle.cancel(app_lcm_op_occ_id, mode)
    return accepted()


def applcmopoccs_fail_post_applcmopoccid(
    app_lcm_op_occ_id: str,
    *,
    lifecycle: Lifecycle,
    lcm_urls: LifecycleUrls,
    caller: Callable[[], Actor],
) -> Response:
    """POST /app_lcm_op_occs/{appLcmOpOccId}/fail: FAILED_TEMP -> FAILED."""
    _check(lifecycle, caller, app_lcm_op_occ_id)
    return ok(op_occ_to_wire(lifecycle.fail(app_lcm_op_occ_id), lcm_urls))


def applcmopoccs_retry_post_applcmopoccid(
    app_lcm_op_occ_id: str, *, lifecycle: Lifecycle, caller: Callable[[], Actor]
) -> RawResponse:
    """POST /app_lcm_op_occs/{appLcmOpOccId}/retry."""
    _check(lifecycle, caller, app_lcm_op_occ_id)
    lifecycle.retry(app_lcm_op_occ_id)
    return accepted()
