"""Entry point of the structural comparison: THEIRS (reference) against OURS.

``compare_specs`` walks THEIRS paths (through optional path renames) and component
schemas and returns every difference as a ``Finding``, including informational OURS-only
additions, sorted by id.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import model as k
from .model import JSON, Finding
from .operations import HTTP_METHODS, Locator, compare_path_item
from .refs import Document, as_dict
from .schemas import SchemaComparer


def compare_specs(
    ours: JSON, theirs: JSON, path_renames: Mapping[str, str] | None = None
) -> list[Finding]:
    """All findings for OURS measured against THEIRS, sorted by id, without duplicates."""
    cmp = SchemaComparer(theirs=Document(theirs), ours=Document(ours))
    _compare_paths(cmp, dict(path_renames or {}))
    _compare_component_schemas(cmp)
    unique = {finding.id: finding for finding in cmp.findings}
    return [unique[key] for key in sorted(unique)]


def _compare_paths(cmp: SchemaComparer, renames: dict[str, str]) -> None:
    t_paths, o_paths = cmp.theirs.paths(), cmp.ours.paths()
    matched: set[str] = set()
    for t_path, t_item in t_paths.items():
        o_path = renames.get(t_path, t_path)
        matched.add(o_path)
        o_item = o_paths.get(o_path, {})
        compare_path_item(cmp, t_item, o_item, _path_locator(t_path), _path_locator(o_path))
    for o_path, o_item in o_paths.items():
        if o_path in matched:
            continue
        item = cmp.ours.resolve(o_item)
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                where = f"{method.upper()} {o_path}"
                cmp.emit(k.OPERATION_EXTRA, where, "operation only in OURS")


def _path_locator(path: str) -> Locator:
    return lambda method: f"{method} {path}"


def _compare_component_schemas(cmp: SchemaComparer) -> None:
    t_schemas, o_schemas = cmp.theirs.schemas(), cmp.ours.schemas()
    for name, t_schema in t_schemas.items():
        if name not in o_schemas:
            cmp.emit(k.SCHEMA_MISSING, name, "component schema missing in OURS")
        else:
            cmp.compare(as_dict(t_schema), as_dict(o_schemas[name]), name)
    for name in o_schemas:
        if name not in t_schemas:
            cmp.emit(k.SCHEMA_EXTRA, name, "component schema only in OURS")
