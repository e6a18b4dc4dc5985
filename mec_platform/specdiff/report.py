"""Rendering of a spec-diff verdict as human-readable text or JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .allowlist import AllowEntry, Judged, Verdict


@dataclass(frozen=True)
class ReportOptions:
    """What the text report shows beyond the failing findings."""

    show_informational: bool = False
    verbose: bool = False


def sections(verdict: Verdict) -> tuple[list[Judged], list[Judged], list[Judged]]:
    """Split judged findings into (failing, allowed, informational-not-allowed)."""
    failing = [item for item in verdict.judged if item.failing]
    allowed = [item for item in verdict.judged if item.entry is not None]
    info = [item for item in verdict.judged if item.entry is None and item.finding.informational]
    return failing, allowed, info


def render_text(verdict: Verdict, header: str, options: ReportOptions) -> str:
    """The text report: failing findings always, the rest on request, then a summary."""
    failing, allowed, info = sections(verdict)
    lines = [header, ""]
    lines += _section("NOT ALLOWED", failing, show_reason=False)
    if options.verbose:
        lines += _section("ALLOWED", allowed, show_reason=True)
    if options.show_informational:
        lines += _section("INFORMATIONAL (OURS-only additions)", info, show_reason=False)
    allowed_hint = "" if options.verbose or not allowed else " (--verbose lists them)"
    info_hint = "" if options.show_informational or not info else " (--all lists them)"
    outcome = "OK" if verdict.ok else "FAIL"
    lines.append(
        f"{outcome}: {len(failing)} not allowed, {len(allowed)} allowed{allowed_hint}, "
        f"{len(info)} informational{info_hint}, {len(verdict.stale)} stale allow-list entries"
    )
    return "\n".join(lines) + "\n"


def _section(title: str, items: list[Judged], show_reason: bool) -> list[str]:
    if not items:
        return []
    lines = [f"{title} ({len(items)})"]
    by_kind: dict[str, list[Judged]] = defaultdict(list)
    for item in items:
        by_kind[item.finding.kind].append(item)
    for kind in sorted(by_kind):
        lines.append(f"  {kind} ({len(by_kind[kind])})")
        for item in by_kind[kind]:
            lines.append(f"    {item.finding.id}")
            lines.append(f"        {item.finding.message}")
            if show_reason and item.entry is not None:
                lines.append(f"        allowed by {item.entry.pattern!r}: {item.entry.reason}")
    lines.append("")
    return lines


def stale_warnings(stale: Iterable[AllowEntry]) -> list[str]:
    """One warning line per allow-list entry that matched no finding."""
    return [f"warning: allow-list entry {entry.pattern!r} matched no finding" for entry in stale]


def render_json(verdict: Verdict, sources: dict[str, str | None]) -> str:
    """A machine-readable report with every finding and its allow-list status."""
    failing, allowed, info = sections(verdict)
    document = {
        **sources,
        "ok": verdict.ok,
        "summary": {
            "failing": len(failing),
            "allowed": len(allowed),
            "informational": len(info),
            "stale_allow_entries": len(verdict.stale),
        },
        "findings": [_finding_json(item) for item in verdict.judged],
        "stale_allow_entries": [
            {"id": entry.pattern, "reason": entry.reason} for entry in verdict.stale
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _finding_json(item: Judged) -> dict[str, object]:
    finding = item.finding
    return {
        "id": finding.id,
        "kind": finding.kind,
        "location": finding.location,
        "message": finding.message,
        "informational": finding.informational,
        "allowed": item.entry is not None,
        "allowed_by": None if item.entry is None else item.entry.pattern,
        "reason": None if item.entry is None else item.entry.reason,
    }
