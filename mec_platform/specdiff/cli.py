"""Command line: ``spec-diff OURS THEIRS [--allow FILE] [--all] [--verbose] [--json]``.

Exit status: 0 when every non-informational finding is allowed, 1 otherwise, 2 on usage
or input errors (reported in one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .allowlist import AllowList, judge, load_allowlist
from .compare import compare_specs
from .loader import SpecDiffError, load_spec
from .report import ReportOptions, render_json, render_text, stale_warnings

EXIT_OK, EXIT_DIFFERENCES, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run spec-diff with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return _run(args)
    except SpecDiffError as exc:
        print(f"spec-diff: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the umbrella ``mec-platform`` command)."""
    parser = argparse.ArgumentParser(
        prog="spec-diff",
        description=(
            "Structurally compare our OpenAPI document (OURS) against a reference one "
            "(THEIRS, e.g. the ETSI file) and fail on differences the allow-list does not "
            "explain. Informational findings are additions present only in OURS."
        ),
    )
    parser.add_argument("ours", type=Path, metavar="OURS", help="our OpenAPI document")
    parser.add_argument("theirs", type=Path, metavar="THEIRS", help="reference OpenAPI document")
    parser.add_argument("--allow", type=Path, metavar="FILE", help="allow-list YAML file")
    parser.add_argument(
        "--all", action="store_true", help="also list informational (OURS-only) findings"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also list allowed findings with their reason"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report instead")
    return parser


def _run(args: argparse.Namespace) -> int:
    ours = load_spec(args.ours, "OURS")
    theirs = load_spec(args.theirs, "THEIRS")
    allow = load_allowlist(args.allow) if args.allow is not None else AllowList()
    verdict = judge(compare_specs(ours, theirs, allow.path_renames), allow)
    for warning in stale_warnings(verdict.stale):
        print(warning, file=sys.stderr)
    if args.json:
        sources = {
            "ours": str(args.ours),
            "theirs": str(args.theirs),
            "allow_list": None if args.allow is None else str(args.allow),
        }
        sys.stdout.write(render_json(verdict, sources))
    else:
        header = f"spec-diff: OURS {args.ours} against THEIRS {args.theirs}"
        if args.allow is not None:
            header += f" (allow-list {args.allow}, {len(allow.entries)} entries)"
        options = ReportOptions(show_informational=args.all, verbose=args.verbose)
        sys.stdout.write(render_text(verdict, header, options))
    return EXIT_OK if verdict.ok else EXIT_DIFFERENCES
