"""Unit tests of the export status: the exporter's file plus a read-only look at its queue."""

from __future__ import annotations

from pathlib import Path

from mec_platform.export.model import ExportStatus
from mec_platform.export.sqlite_queue import SqliteQueue
from mec_platform.export.status import (
    STALE_AFTER,
    ExporterReport,
    export_dir,
    queue_path,
    read_export_status,
    write_status,
)

NOW = 1_750_000_000.0


def report(**changes: object) -> ExporterReport:
    fields: dict[str, object] = {
        "upstream": "mqtt://cloud.example:1883",
        "topics": ("sensors/#",),
        "connected": True,
        "last_error": None,
        "delivered": 7,
        "dropped": 0,
        "queue_full": 0,
        "updated_at": NOW - 1,
    }
    fields.update(changes)
    return ExporterReport(**fields)  # type: ignore[arg-type]


def test_nothing_when_no_exporter_ever_ran(tmp_path: Path) -> None:
    assert read_export_status(tmp_path) == []
    assert list(tmp_path.iterdir()) == []  # the reader creates nothing


def test_status_combines_file_and_queue(tmp_path: Path) -> None:
    fifo = SqliteQueue(queue_path(tmp_path), clock=lambda: NOW - 30)
    fifo.append_many([("sensors/a/t", b"1", 1, False), ("sensors/a/t", b"2", 1, False)])
    fifo.remove_through(fifo.peek(0, 1)[0].seq)
    write_status(tmp_path, report(last_error="upstream connection lost: timeout"))
    assert read_export_status(tmp_path, clock=lambda: NOW) == [
        ExportStatus(
            name="default",
            upstream="mqtt://cloud.example:1883",
            topics=("sensors/#",),
            backlog=1,
            oldest_queued_at=NOW - 30,
            delivered=1,  # the queue's counter, current even when the file lags
            connected=True,
            last_error="upstream connection lost: timeout",
            updated_at=NOW - 1,
        )
    ]


def test_a_silent_exporter_is_not_connected(tmp_path: Path) -> None:
    export_dir(tmp_path).mkdir()
    write_status(tmp_path, report(updated_at=NOW - STALE_AFTER - 1))
    (status,) = read_export_status(tmp_path, clock=lambda: NOW)
    assert status.connected is False
    assert (status.backlog, status.oldest_queued_at, status.delivered) == (0, None, 7)


def test_a_queue_without_status_still_shows_its_backlog(tmp_path: Path) -> None:
    SqliteQueue(queue_path(tmp_path)).append_many([("sensors/a/t", b"1", 1, False)])
    (status,) = read_export_status(tmp_path, clock=lambda: NOW)
    assert (status.name, status.backlog, status.connected, status.updated_at) == (
        "default",
        1,
        False,
        None,
    )


def test_a_damaged_status_file_is_ignored(tmp_path: Path) -> None:
    export_dir(tmp_path).mkdir()
    (export_dir(tmp_path) / "status.json").write_text("{half", encoding="utf-8")
    assert read_export_status(tmp_path) == []
