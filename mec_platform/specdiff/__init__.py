"""spec-diff: structural OpenAPI compatibility checker (OURS against a reference spec).

``compare_specs`` returns findings with stable ids; an allow-list (``allowlist``) marks
intended differences; ``cli.main`` is the ``spec-diff`` command.
"""

from __future__ import annotations

from .allowlist import AllowEntry, AllowList, Verdict, judge, load_allowlist
from .compare import compare_specs
from .loader import SpecDiffError
from .model import Finding

__all__ = [
    "AllowEntry",
    "AllowList",
    "Finding",
    "SpecDiffError",
    "Verdict",
    "compare_specs",
    "judge",
    "load_allowlist",
]
