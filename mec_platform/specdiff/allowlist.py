"""Allow-list of intended differences and the verdict it produces over findings.

File format (YAML)::

    path_renames:            # optional, THEIRS path -> OURS path
      /theirs/path: /ours/path
    allow:
      - id: "unwrapped-body:POST /things request:*"   # fnmatch glob over finding ids
        reason: why this difference is intended       # mandatory

Entries are tried in file order; the first match explains a finding. An entry that
matches no finding at all is stale and reported as a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .loader import SpecDiffError, load_yaml
from .model import Finding

_TOP_KEYS = frozenset({"path_renames", "allow"})
_ENTRY_KEYS = frozenset({"id", "reason"})


@dataclass(frozen=True)
class AllowEntry:
    """One intended difference: a finding-id glob and the reason it is accepted."""

    pattern: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        """True when this entry's glob matches the finding id (case-sensitive)."""
        return fnmatchcase(finding.id, self.pattern)


@dataclass(frozen=True)
class AllowList:
    """Parsed allow-list: accepted differences and THEIRS -> OURS path renames."""

    entries: tuple[AllowEntry, ...] = ()
    path_renames: dict[str, str] = field(default_factory=dict)

    def entry_for(self, finding: Finding) -> AllowEntry | None:
        """The first entry that accepts ``finding``, if any."""
        return next((entry for entry in self.entries if entry.matches(finding)), None)


@dataclass(frozen=True)
class Judged:
    """A finding with the allow-list entry that accepts it (None when not allowed)."""

    finding: Finding
    entry: AllowEntry | None

    @property
    def failing(self) -> bool:
        """True for a non-informational finding no entry accepts."""
        return self.entry is None and not self.finding.informational


@dataclass(frozen=True)
class Verdict:
    """Outcome of applying an allow-list to findings."""

    judged: tuple[Judged, ...]
    stale: tuple[AllowEntry, ...]

    @property
    def failures(self) -> list[Judged]:
        """Findings that make the check fail."""
        return [item for item in self.judged if item.failing]

    @property
    def ok(self) -> bool:
        """True when every non-informational finding is allowed."""
        return not self.failures


def judge(findings: Iterable[Finding], allow: AllowList) -> Verdict:
    """Match findings against the allow-list and collect stale entries."""
    judged = tuple(Judged(finding, allow.entry_for(finding)) for finding in findings)
    stale = tuple(
        entry for entry in allow.entries if not any(entry.matches(item.finding) for item in judged)
    )
    return Verdict(judged, stale)


def load_allowlist(path: Path) -> AllowList:
    """Read and validate an allow-list file; problems raise ``SpecDiffError``."""
    data = load_yaml(path, "allow-list")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise SpecDiffError(f"allow-list {path}: unknown top-level keys {unknown}")
    entries = _entries(path, data.get("allow") or [])
    renames = _renames(path, data.get("path_renames") or {})
    return AllowList(entries=entries, path_renames=renames)


def _entries(path: Path, raw: Any) -> tuple[AllowEntry, ...]:
    if not isinstance(raw, list):
        raise SpecDiffError(f"allow-list {path}: 'allow' must be a list of entries")
    entries = tuple(_entry(path, index, item) for index, item in enumerate(raw, start=1))
    patterns = [entry.pattern for entry in entries]
    duplicates = sorted({p for p in patterns if patterns.count(p) > 1})
    if duplicates:
        raise SpecDiffError(f"allow-list {path}: duplicate id patterns {duplicates}")
    return entries


def _entry(path: Path, index: int, item: Any) -> AllowEntry:
    where = f"allow-list {path}: entry {index}"
    if not isinstance(item, dict):
        raise SpecDiffError(f"{where} must be a mapping with 'id' and 'reason'")
    unknown = sorted(set(item) - _ENTRY_KEYS)
    if unknown:
        raise SpecDiffError(f"{where}: unknown keys {unknown}")
    pattern, reason = item.get("id"), item.get("reason")
    if not isinstance(pattern, str) or not pattern.strip():
        raise SpecDiffError(f"{where}: 'id' must be a non-empty finding-id glob")
    if not pattern.strip("*?:- "):
        raise SpecDiffError(f"{where}: id pattern {pattern!r} would accept everything")
    if not isinstance(reason, str) or not reason.strip():
        raise SpecDiffError(f"{where} ({pattern}): a non-empty 'reason' is mandatory")
    return AllowEntry(pattern=pattern, reason=" ".join(reason.split()))


def _renames(path: Path, raw: Any) -> dict[str, str]:
    valid = isinstance(raw, dict) and all(
        isinstance(v, str) and k.startswith("/") and v.startswith("/") for k, v in raw.items()
    )
    if not valid:
        raise SpecDiffError(f"allow-list {path}: 'path_renames' must map /theirs to /ours paths")
    return dict(raw)
