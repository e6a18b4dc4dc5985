"""Export status handler: the store-and-forward exports to upstream brokers."""

from __future__ import annotations

from collections.abc import Callable

from mec_platform.export.model import ExportStatus
from mec_platform.http.responses import Response, ok
from mec_platform.sensors.wire import export_status_to_wire


def exports_get(*, export_status: Callable[[], list[ExportStatus]]) -> Response:
    """GET /exports: one ExportStatus per configured export."""
    return ok([export_status_to_wire(status) for status in export_status()])
