"""Read YAML/JSON documents for spec-diff and normalise them for comparison.

YAML keys such as response codes may load as ints (``200:``) or bools (``on:``); every
mapping key is turned into a string so both documents compare key by key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .model import JSON


class SpecDiffError(Exception):
    """A usage or input problem reported to the user without a traceback (exit 2)."""


def load_yaml(path: Path, what: str) -> JSON:
    """Load a YAML (or JSON) mapping from ``path``; ``what`` names it in error messages."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SpecDiffError(f"{what} file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecDiffError(f"cannot read {what} file {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecDiffError(f"{what} file {path} is not valid YAML: {_one_line(exc)}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecDiffError(f"{what} file {path} must hold a mapping at the top level")
    normalised: JSON = normalise_keys(data)
    return normalised


def load_spec(path: Path, what: str) -> JSON:
    """Load an OpenAPI document and check it looks like one."""
    doc = load_yaml(path, what)
    if "openapi" not in doc and "swagger" not in doc:
        raise SpecDiffError(f"{what} file {path} is not an OpenAPI document (no 'openapi' key)")
    for key in ("paths", "components"):
        if not isinstance(doc.get(key, {}) or {}, dict):
            raise SpecDiffError(f"{what} file {path}: '{key}' must be a mapping")
    return doc


def normalise_keys(value: Any) -> Any:
    """Return ``value`` with every mapping key converted to a string, recursively."""
    if isinstance(value, dict):
        return {_key(k): normalise_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_keys(v) for v in value]
    return value


def _key(key: object) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _one_line(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{exc.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(exc).split())
