"""The SQLite write gate queues writers across threads and processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from mec_platform.storage.write_gate import SqliteWriteGate


def test_a_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    gate = SqliteWriteGate(tmp_path / "mec.db")
    order: list[str] = []
    gate.acquire()

    def second() -> None:
        gate.acquire()
        order.append("second")
        gate.release()

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.2)
    order.append("first")
    gate.release()
    thread.join(2)
    assert order == ["first", "second"]


def test_the_gate_holds_across_processes(tmp_path: Path) -> None:
    gate = SqliteWriteGate(tmp_path / "mec.db")
    gate.acquire()
    script = (
        "import sys, time; from pathlib import Path;"
        "from mec_platform.storage.write_gate import SqliteWriteGate;"
        "g = SqliteWriteGate(Path(sys.argv[1])); t = time.monotonic(); g.acquire();"
        "print(round(time.monotonic() - t, 2)); g.release()"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "mec.db")], stdout=subprocess.PIPE, text=True
    )
    time.sleep(0.5)
    gate.release()
    waited, _ = child.communicate(timeout=10)
    assert float(waited) >= 0.3
