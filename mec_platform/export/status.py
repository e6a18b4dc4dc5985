"""The exporter's status file and the reader the web API uses.

The exporter rewrites `<data_dir>/export/status.json` every second (a temporary file renamed
over the old one, so readers never see half of it). The web API combines that file with a
read-only look at the queue: the backlog and its age are always current, even while the
exporter is down. A status older than STALE_AFTER seconds means the exporter is not running,
so it no longer counts as connected.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mec_platform.export.model import EXPORT_NAME, ExportStatus
from mec_platform.export.sqlite_queue import QUEUE_FILE, snapshot

STATUS_FILE = "status.json"
STALE_AFTER = 5.0


@dataclass(frozen=True)
class ExporterReport:
    """What the exporter says about itself."""

    upstream: str
    topics: tuple[str, ...]
    connected: bool
    last_error: str | None
    delivered: int
    dropped: int
    queue_full: int  # times the queue reached its limit since the exporter started
    updated_at: float
    local_connected: bool = False  # subscribed on the box's broker
    name: str = EXPORT_NAME


def export_dir(data_dir: Path) -> Path:
    """Where the export keeps its queue and status."""
    return data_dir / "export"


def queue_path(data_dir: Path) -> Path:
    """The export's queue database."""
    return export_dir(data_dir) / QUEUE_FILE


def write_status(data_dir: Path, report: ExporterReport) -> None:
    """Replace status.json with `report`; readers see the old file or the new one."""
    directory = export_dir(data_dir)
    body = json.dumps({**asdict(report), "topics": list(report.topics)})
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{STATUS_FILE}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(body)
        # No fsync: the status is rewritten every second and worthless after a power cut,
        # while an fsync per second wears the SD cards such boxes run on.
        os.replace(temporary, directory / STATUS_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_export_status(
    data_dir: Path, clock: Callable[[], float] = time.time
) -> list[ExportStatus]:
    """Every export's status: none when no exporter ever ran. Reads only, never waits long."""
    report = _read_report(export_dir(data_dir) / STATUS_FILE)
    queue = snapshot(queue_path(data_dir))
    if not report and queue is None:
        return []
    updated_at = _number(report.get("updated_at"))
    fresh = updated_at is not None and clock() - updated_at <= STALE_AFTER
    # The queue's counter is current even while the exporter is down; the file may lag a second.
    delivered = queue.delivered if queue is not None else _number(report.get("delivered"))
    last_error = report.get("last_error")
    topics = report.get("topics")
    return [
        ExportStatus(
            name=str(report.get("name") or EXPORT_NAME),
            upstream=str(report.get("upstream") or ""),
            topics=tuple(str(t) for t in topics) if isinstance(topics, list) else (),
            backlog=0 if queue is None else queue.backlog,
            oldest_queued_at=None if queue is None else queue.oldest_queued_at,
            delivered=int(delivered or 0),
            connected=fresh and report.get("connected") is True,
            last_error=str(last_error) if last_error else None,
            updated_at=updated_at,
        )
    ]


def _read_report(path: Path) -> dict[str, Any]:
    # Missing or unreadable: the exporter never ran here (or its file was damaged).
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
