"""The export process: forwards the export topics of the box's broker to the upstream broker
through the on-disk queue under `<data_dir>/export/`. One per box: a lock file makes a second
one give up instead of fighting the first for the same MQTT sessions and queue.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType

from mec_platform.export.model import ExportSettings
from mec_platform.export.paho_clients import LocalBroker, Timing
from mec_platform.export.paho_forwarder import PahoForwarder
from mec_platform.export.sqlite_queue import SqliteQueue
from mec_platform.export.status import (
    STATUS_FILE,
    ExporterReport,
    export_dir,
    queue_path,
    write_status,
)

log = logging.getLogger("mec_platform.export")

LOCAL_CLIENT_ID = "umec-export"


def run_export(
    settings: ExportSettings,
    data_dir: Path,
    local_host: str,
    local_port: int,
    username: str,
    password: str,
    timing: Timing | None = None,
) -> int:
    """Run until SIGTERM/SIGINT; 1 when another exporter already runs on this data dir."""
    directory = export_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    lock = _single_instance(directory / "exporter.lock")
    if lock is None:
        log.error("another exporter runs on this data directory", extra={"dir": str(directory)})
        return 1
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    fifo = SqliteQueue(queue_path(data_dir))
    try:
        forwarder = PahoForwarder(
            settings,
            fifo,
            LocalBroker(local_host, local_port, username, password, LOCAL_CLIENT_ID),
            lambda report: _write_status(data_dir, report),
            timing,
            previous_topics=_previous_topics(directory / STATUS_FILE),
        )
        log.info(
            "export started",
            extra={
                "upstream": settings.upstream.display,
                "topics": list(settings.topics),
                "backlog": fifo.count(),
            },
        )
        forwarder.run(stop)
    finally:
        fifo.close()
        os.close(lock)
    log.info("export stopped")
    return 0


def _write_status(data_dir: Path, report: ExporterReport) -> None:
    try:
        write_status(data_dir, report)
    except OSError as exc:
        log.error("export status not written", extra={"error": str(exc)})


def _single_instance(path: Path) -> int | None:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def _previous_topics(path: Path) -> tuple[str, ...]:
    # The topics the last run subscribed to live on in the broker's persistent session.
    try:
        topics = json.loads(path.read_text(encoding="utf-8")).get("topics", [])
    except (OSError, ValueError, AttributeError):
        return ()
    return tuple(t for t in topics if isinstance(t, str)) if isinstance(topics, list) else ()
