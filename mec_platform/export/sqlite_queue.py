"""The export's on-disk FIFO (SQLite, standard library): messages taken from the box's broker
wait here until the upstream broker acknowledged them.

Crash safety comes from transactions: a batch is appended in one transaction and the local
broker is told "received" only after it committed; a message leaves the queue only after the
upstream broker acknowledged it. Whenever the process dies, each message is therefore either
in the queue or already acknowledged upstream (at worst it is sent twice, never lost).

Durability: WAL journal. Appends commit with synchronous=FULL, so the WAL is on disk before
the local broker forgets the messages: a power cut cannot lose what was acknowledged. Removals
commit with synchronous=NORMAL (no fsync of their own; the next append's fsync covers them):
losing one to a power cut only sends a message upstream once more, and halves the fsyncs of a
busy exporter, which matters on SD cards. A process crash loses neither in WAL mode.

Sequence numbers come from AUTOINCREMENT so that they only ever grow, even after the queue was
empty: the forwarder remembers the last one it sent and reads on from there.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from mec_platform.errors import PlatformError

QUEUE_FILE = "queue.sqlite"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL,
        qos INTEGER NOT NULL,
        retain INTEGER NOT NULL,
        queued_at REAL NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO counters VALUES ('queued', 0), ('delivered', 0), ('dropped', 0)",
)

Incoming = tuple[str, bytes | bytearray, int, bool]  # topic, payload, qos, retain


class QueueError(PlatformError):
    """The queue could not be read or written (disk full, database damaged or locked)."""

    title = "Export queue error"


@dataclass(frozen=True)
class QueuedMessage:
    """One message waiting for the upstream broker."""

    seq: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    queued_at: float


@dataclass(frozen=True)
class QueueSnapshot:
    """What a reader sees of a queue without writing to it."""

    backlog: int
    oldest_queued_at: float | None
    delivered: int
    dropped: int


class SqliteQueue:
    """The FIFO; one writer (the exporter's main thread) at a time."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        with _translated():
            # Autocommit mode: every transaction below is opened explicitly (BEGIN IMMEDIATE).
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
        with self._transaction():
            for statement in _SCHEMA:
                self._db.execute(statement)

    def append_many(self, messages: Sequence[Incoming]) -> None:
        """Queue the messages in order, all or none, durably."""
        if not messages:
            return
        now = self._clock()
        rows = [(t, bytes(p), q, int(r), now) for t, p, q, r in messages]
        with self._transaction():
            self._db.executemany(
                "INSERT INTO messages (topic, payload, qos, retain, queued_at)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            self._bump("queued", len(rows))

    def peek(self, after_seq: int, n: int) -> list[QueuedMessage]:
        """Up to `n` messages after sequence number `after_seq`, oldest first."""
        with _translated():
            rows = self._db.execute(
                "SELECT seq, topic, payload, qos, retain, queued_at FROM messages"
                " WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, n),
            ).fetchall()
        return [QueuedMessage(s, t, bytes(p), q, bool(r), at) for s, t, p, q, r, at in rows]

    def remove(self, seqs: Iterable[int]) -> int:
        """Forget messages the upstream broker acknowledged; returns how many were queued."""
        return self._delete("delivered", [(s,) for s in seqs])

    def remove_through(self, seq: int) -> int:
        """Forget every message up to and including `seq` as delivered."""
        return self._delete("delivered", None, seq)

    def drop(self, seqs: Iterable[int]) -> int:
        """Forget messages that can never be delivered (counted apart; there should be none)."""
        return self._delete("dropped", [(s,) for s in seqs])

    def count(self) -> int:
        """Messages waiting."""
        return self._counter("queued")

    def oldest_time(self) -> float | None:
        """When the oldest waiting message was queued (Unix seconds)."""
        with _translated():
            row = self._db.execute("SELECT queued_at FROM messages ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else float(row[0])

    def delivered(self) -> int:
        """Messages acknowledged upstream since the queue was created."""
        return self._counter("delivered")

    def dropped(self) -> int:
        """Messages given up on since the queue was created."""
        return self._counter("dropped")

    def close(self) -> None:
        """Close the database (a clean close also folds the WAL into the file)."""
        self._db.close()

    def _delete(self, outcome: str, seqs: list[tuple[int]] | None, through: int = 0) -> int:
        if seqs == []:
            return 0
        with _translated():
            self._db.execute("PRAGMA synchronous=NORMAL")
        try:
            with self._transaction():
                before = self._db.total_changes
                if seqs is None:
                    self._db.execute("DELETE FROM messages WHERE seq <= ?", (through,))
                else:
                    self._db.executemany("DELETE FROM messages WHERE seq = ?", seqs)
                removed = self._db.total_changes - before
                self._bump("queued", -removed)
                self._bump(outcome, removed)
        finally:
            with _translated():
                self._db.execute("PRAGMA synchronous=FULL")
        return removed

    def _bump(self, name: str, by: int) -> None:
        if by:
            self._db.execute("UPDATE counters SET value = value + ? WHERE name = ?", (by, name))

    def _counter(self, name: str) -> int:
        with _translated():
            row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when anything failed."""
        with _translated():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise QueueError(f"export queue: {exc}") from exc


def snapshot(path: Path, timeout: float = 0.25) -> QueueSnapshot | None:
    """Read a queue without creating or changing it; None when there is none (yet)."""
    if not path.is_file():
        return None
    # mode=ro never creates the database; a short timeout keeps a web request from waiting
    # on the exporter (WAL readers do not wait on its writes, only on a rare recovery). With
    # no WAL file the exporter is not running (a clean close removes it): read the file as
    # immutable, or SQLite would create the WAL and shared-memory files, as the web server's
    # user, next to the exporter's queue.
    wal = path.with_name(f"{path.name}-wal")
    mode = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    uri = f"file:{quote(str(path.resolve()))}?{mode}"
    try:
        db = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        db.execute("BEGIN")  # one read snapshot for the counters and the oldest row
        counters = dict(db.execute("SELECT name, value FROM counters").fetchall())
        oldest = db.execute("SELECT queued_at FROM messages ORDER BY seq LIMIT 1").fetchone()
        db.execute("COMMIT")
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return QueueSnapshot(
        backlog=int(counters.get("queued", 0)),
        oldest_queued_at=None if oldest is None else float(oldest[0]),
        delivered=int(counters.get("delivered", 0)),
        dropped=int(counters.get("dropped", 0)),
    )
