"""The worker wake-up hint over a real Unix datagram socket."""

from __future__ import annotations

import threading
from pathlib import Path

from mec_platform.notifications.wakeup import WakeupListener, WakeupSender, wakeup_path


def test_a_hint_reaches_the_listener(tmp_path: Path) -> None:
    woken = threading.Event()
    path = tmp_path / "w.wake"
    listener = WakeupListener(path, woken.set).start()
    sender = WakeupSender(path)
    try:
        sender()
        assert woken.wait(2)
    finally:
        sender.close()
        listener.close()
    assert not path.exists()


def test_a_hint_without_listener_is_harmless(tmp_path: Path) -> None:
    sender = WakeupSender(tmp_path / "nobody.wake")
    sender()
    sender.close()


def test_the_path_is_per_database_and_short() -> None:
    first = wakeup_path("sqlite:////var/lib/mec-platform/mec.db")
    assert first == wakeup_path("sqlite:////var/lib/mec-platform/mec.db")
    assert first != wakeup_path("postgresql://mec@db/mec")
    assert len(str(first)) < 100  # Unix socket paths are limited to 108 bytes
