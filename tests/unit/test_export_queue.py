"""Unit tests of the export's on-disk FIFO: order, removal, counters, and what survives a
process killed in the middle of writing (checked by reopening the file)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mec_platform.export.sqlite_queue import SqliteQueue, snapshot

REPO = Path(__file__).resolve().parents[2]


def messages(n: int, start: int = 0) -> list[tuple[str, bytes, int, bool]]:
    return [(f"sensors/s{i}/t", str(i).encode(), 1, i % 7 == 0) for i in range(start, start + n)]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "export" / "queue.sqlite"


def test_fifo_order_and_peek_after(path: Path) -> None:
    fifo = SqliteQueue(path, clock=lambda: 100.0)
    fifo.append_many(messages(5))
    fifo.append_many(messages(5, start=5))
    first = fifo.peek(0, 3)
    assert [m.payload for m in first] == [b"0", b"1", b"2"]
    assert first[0].topic == "sensors/s0/t" and first[0].retain and first[0].qos == 1
    rest = fifo.peek(first[-1].seq, 100)
    assert [m.payload for m in rest] == [str(i).encode() for i in range(3, 10)]
    assert fifo.count() == 10 and fifo.oldest_time() == 100.0


def test_remove_counts_delivered_once(path: Path) -> None:
    fifo = SqliteQueue(path)
    fifo.append_many(messages(6))
    seqs = [m.seq for m in fifo.peek(0, 6)]
    assert fifo.remove([seqs[1], seqs[0]]) == 2
    assert fifo.remove([seqs[0]]) == 0  # already gone: not counted twice
    assert fifo.remove_through(seqs[3]) == 2
    assert fifo.drop([seqs[4]]) == 1
    assert fifo.remove([]) == 0
    assert [m.seq for m in fifo.peek(0, 10)] == [seqs[5]]
    assert (fifo.count(), fifo.delivered(), fifo.dropped()) == (1, 4, 1)


def test_counters_and_messages_survive_reopening(path: Path) -> None:
    fifo = SqliteQueue(path)
    fifo.append_many(messages(4))
    fifo.remove_through(fifo.peek(0, 1)[0].seq)
    fifo.close()
    again = SqliteQueue(path)
    assert (again.count(), again.delivered()) == (3, 1)
    assert [m.payload for m in again.peek(0, 10)] == [b"1", b"2", b"3"]


def test_sequence_numbers_never_come_back(path: Path) -> None:
    # The forwarder reads on after the last seq it sent: a reused seq would never be sent.
    fifo = SqliteQueue(path)
    fifo.append_many(messages(3))
    last = fifo.peek(0, 3)[-1].seq
    fifo.remove_through(last)
    fifo.close()
    again = SqliteQueue(path)
    again.append_many(messages(1))
    assert again.peek(0, 1)[0].seq > last
    assert again.oldest_time() is not None


def test_empty_queue(path: Path) -> None:
    fifo = SqliteQueue(path)
    fifo.append_many([])
    assert (fifo.count(), fifo.oldest_time(), fifo.peek(0, 5)) == (0, None, [])


def test_snapshot_reads_without_creating(tmp_path: Path, path: Path) -> None:
    missing = tmp_path / "nowhere" / "queue.sqlite"
    assert snapshot(missing) is None
    assert not missing.parent.exists()
    fifo = SqliteQueue(path, clock=lambda: 42.0)
    fifo.append_many(messages(3))
    fifo.remove_through(fifo.peek(0, 1)[0].seq)
    seen = snapshot(path)
    assert seen is not None
    assert (seen.backlog, seen.oldest_queued_at, seen.delivered, seen.dropped) == (2, 42.0, 1, 0)


def test_snapshot_of_a_closed_queue_creates_no_files(path: Path) -> None:
    fifo = SqliteQueue(path)
    fifo.append_many(messages(2))
    fifo.close()
    before = sorted(p.name for p in path.parent.iterdir())
    seen = snapshot(path)
    assert seen is not None and seen.backlog == 2
    assert sorted(p.name for p in path.parent.iterdir()) == before == ["queue.sqlite"]


def test_snapshot_of_a_damaged_file_is_none(tmp_path: Path) -> None:
    damaged = tmp_path / "queue.sqlite"
    damaged.write_bytes(b"not a database at all" * 100)
    assert snapshot(damaged) is None


_WRITER = """
import sys
from pathlib import Path
from mec_platform.export.sqlite_queue import SqliteQueue
fifo = SqliteQueue(Path(sys.argv[1]))
batch = 0
while True:
    rows = [(f"b/{batch}", f"{batch}:{i}".encode(), 1, False) for i in range(50)]
    fifo.append_many(rows)
    head = fifo.peek(0, 20)
    if head:
        fifo.remove([m.seq for m in head])
    print(batch, flush=True)
    batch += 1
"""


def test_killed_writer_leaves_whole_batches_and_true_counters(path: Path) -> None:
    """SIGKILL while appending and removing: each batch is all there or gone, in order, and
    the counters agree with the rows."""
    path.parent.mkdir(parents=True)
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    committed = -1
    deadline = time.monotonic() + 20
    while committed < 200 and time.monotonic() < deadline:
        committed = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    fifo = SqliteQueue(path)
    rows = fifo.peek(0, 1_000_000)
    assert len(rows) == fifo.count()
    total = fifo.count() + fifo.delivered()
    # The writer may have committed one more batch after the last line it printed.
    assert total % 50 == 0 and total // 50 in (committed + 1, committed + 2)
    assert fifo.delivered() % 20 == 0
    appended = [(b, i) for b in range(total // 50) for i in range(50)]
    left = [tuple(map(int, m.payload.decode().split(":"))) for m in rows]
    assert left == appended[fifo.delivered() :]
