"""The audit log as a JSON Lines file: one record per line, appended by any number of platform
processes at once, readable back from its end. Records say who did what with which outcome;
detail keys that look like secrets are refused, so a caller's mistake cannot leak one."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SECRET_HINTS = ("secret", "token", "password", "signature", "private", "authorization")
_RESERVED = ("ts", "who", "action", "outcome")
_CHUNK = 64 * 1024
# Processes stamp a record just before they append it, so the file is in time order only to
# within the moment between the two; reading back for `since` looks this far past the first
# older record before it stops.
_SKEW = timedelta(seconds=60)


def looks_secret(key: str) -> bool:
    """True for a detail key whose value is probably a credential."""
    lowered = key.lower()
    return any(hint in lowered for hint in _SECRET_HINTS)


def _timestamp(at: float) -> str:
    """ISO-8601 in UTC with milliseconds and a `Z`, e.g. 2024-05-01T12:00:00.123Z."""
    moment = datetime.fromtimestamp(at, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLinesAuditLog:
    """AuditLog appending to one file; I/O errors are logged, never raised into the caller."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock

    def record(self, who: str, action: str, outcome: str, **details: object) -> None:
        entry: dict[str, object] = {
            "ts": _timestamp(self._clock()),
            "who": who,
            "action": action,
            "outcome": outcome,
        }
        entry.update(self._safe(details))
        try:
            line = json.dumps(entry, separators=(",", ":"), default=str, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError) as exc:  # e.g. a dict with tuple keys
            log.warning("audit: details of %r not recorded, not JSON: %s", action, exc)
            fixed = {key: entry[key] for key in _RESERVED}
            line = json.dumps(fixed, separators=(",", ":"), default=str, ensure_ascii=False)
        # A lone surrogate (from text that was never valid UTF-8) cannot be encoded; JSON
        # escapes every backslash it writes, so `\udXXX` here is read back as that surrogate.
        self._append((line + "\n").encode("utf-8", errors="backslashreplace"))

    def _safe(self, details: dict[str, object]) -> dict[str, object]:
        kept: dict[str, object] = {}
        for key, value in details.items():
            if looks_secret(key):
                log.warning("audit: dropped detail %r, it looks like a secret", key)
            elif key in _RESERVED:
                log.warning("audit: dropped detail %r, the name is reserved", key)
            else:
                kept[key] = value
        return kept

    def _append(self, data: bytes) -> None:
        # Opened per record, so a rotated file is followed; O_APPEND with one write() per
        # record keeps concurrent writers' lines whole.
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                written = os.write(fd, data)
            finally:
                os.close(fd)
        except OSError as exc:
            log.warning("audit: could not append to %s: %s", self.path, exc.strerror or exc)
            return
        if written != len(data):
            log.warning("audit: short write to %s (%d of %d bytes)", self.path, written, len(data))


def _lines_backwards(path: Path) -> Iterator[bytes]:
    """The file's lines from last to first, read in chunks from the end."""
    with path.open("rb") as file:
        position = file.seek(0, os.SEEK_END)
        rest = b""
        while position > 0:
            step = min(_CHUNK, position)
            position -= step
            file.seek(position)
            parts = (file.read(step) + rest).split(b"\n")
            rest = parts[0]
            yield from reversed(parts[1:])
        yield rest


def _parse(line: bytes) -> dict[str, Any] | None:
    """One record, or None for a blank, torn or foreign line."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _moment(record: dict[str, Any]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(record.get("ts")))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _earliest(since: datetime) -> datetime:
    """How far back reading for `since` goes: _SKEW before it, or the first moment there is."""
    try:
        return since - _SKEW
    except OverflowError:  # `since` is within _SKEW of 0001-01-01
        return datetime.min.replace(tzinfo=UTC)


def _verdict(record: dict[str, Any], since: datetime | None) -> bool | None:
    """True to keep the record, False to skip it, None once older records cannot follow."""
    if since is None:
        return True
    moment = _moment(record)
    if moment is None:
        return False
    if moment < _earliest(since):
        return None
    return moment >= since


def read_audit(path: Path, limit: int, since: datetime | None = None) -> list[dict[str, Any]]:
    """The last `limit` records, oldest first; with `since`, only those stamped at or after it."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    found: list[dict[str, Any]] = []
    try:
        for line in _lines_backwards(path):
            if len(found) >= limit:
                break
            record = _parse(line)
            verdict = _verdict(record, since) if record is not None else False
            if verdict is None:
                break
            if verdict and record is not None:
                found.append(record)
    except (FileNotFoundError, NotADirectoryError):  # nothing was ever recorded there
        return []
    found.reverse()
    return found
