"""Structural comparison of one THEIRS schema against one OURS schema.

References are followed on both sides. A THEIRS reference against a differently named
OURS reference (or an inline OURS schema) is reported as ``ref-differs``, the reverse as
informational ``ref-extra``; either way the content is still compared, so a renamed or
inlined type is checked field by field. Two references to the same component stop the
walk: components are compared on their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import model as k
from .model import JSON, Finding, show
from .refs import Document, as_dict, schema_ref_name

_COMPOSITIONS = ("allOf", "oneOf", "anyOf")


@dataclass
class SchemaComparer:
    """Collects findings while walking a THEIRS schema next to the matching OURS schema."""

    theirs: Document
    ours: Document
    findings: list[Finding] = field(default_factory=list)

    def emit(self, kind: str, where: str, message: str) -> None:
        """Record one finding."""
        self.findings.append(Finding(kind, where, message))

    def compare(self, t: Any, o: Any, where: str, stack: frozenset[str] = frozenset()) -> None:
        """Compare schema ``t`` (THEIRS) with ``o`` (OURS) at location ``where``."""
        t_ref, o_ref = schema_ref_name(t), schema_ref_name(o)
        if t_ref is not None and t_ref == o_ref:
            return
        if t_ref != o_ref:
            kind = k.REF_EXTRA if t_ref is None else k.REF_DIFFERS
            self.emit(kind, where, f"THEIRS {_ref(t_ref)}, OURS {_ref(o_ref)}")
            pair = f"{t_ref}|{o_ref}"
            if pair in stack:
                return
            stack = stack | {pair}
        self._compare_resolved(self.theirs.resolve(t), self.ours.resolve(o), where, stack)

    def _compare_resolved(self, t: JSON, o: JSON, where: str, stack: frozenset[str]) -> None:
        self._compare_types(t, o, where)
        self._compare_enum(t, o, where)
        self._compare_required(t, o, where)
        self._compare_properties(t, o, where, stack)
        self._compare_items(t, o, where, stack)
        self._compare_additional(t, o, where, stack)
        for key in _COMPOSITIONS:
            self._compare_composition(key, t, o, where, stack)

    def _compare_types(self, t: JSON, o: JSON, where: str) -> None:
        (t_types, t_null), (o_types, o_null) = schema_types(t), schema_types(o)
        if t_types != o_types:
            self.emit(k.TYPE_DIFFERS, where, f"THEIRS {_types(t_types)}, OURS {_types(o_types)}")
        if t_null != o_null:
            self.emit(k.NULLABLE_DIFFERS, where, f"THEIRS nullable={t_null}, OURS {o_null}")
        if t.get("format") != o.get("format"):
            t_fmt, o_fmt = show(t.get("format")), show(o.get("format"))
            self.emit(k.FORMAT_DIFFERS, where, f"THEIRS {t_fmt}, OURS {o_fmt}")

    def _compare_enum(self, t: JSON, o: JSON, where: str) -> None:
        t_enum, o_enum = t.get("enum"), o.get("enum")
        t_vals = t_enum if isinstance(t_enum, list) else []
        o_vals = o_enum if isinstance(o_enum, list) else []
        for value in t_vals:
            if value not in o_vals:
                note = "OURS has no enum" if o_enum is None else f"OURS {o_vals}"
                self.emit(k.ENUM_VALUE_MISSING, f"{where}={value}", f"not in OURS ({note})")
        for value in o_vals:
            if value not in t_vals:
                note = "THEIRS has no enum" if t_enum is None else f"THEIRS {t_vals}"
                self.emit(k.ENUM_VALUE_EXTRA, f"{where}={value}", f"only in OURS ({note})")

    def _compare_required(self, t: JSON, o: JSON, where: str) -> None:
        t_req, o_req = _names(t.get("required")), _names(o.get("required"))
        for name in sorted(t_req - o_req):
            self.emit(k.REQUIRED_MISSING, f"{where}.{name}", "required in THEIRS, optional in OURS")
        for name in sorted(o_req - t_req):
            self.emit(k.REQUIRED_EXTRA, f"{where}.{name}", "required in OURS, optional in THEIRS")

    def _compare_properties(self, t: JSON, o: JSON, where: str, stack: frozenset[str]) -> None:
        t_props, o_props = as_dict(t.get("properties")), as_dict(o.get("properties"))
        for name, t_prop in t_props.items():
            if name not in o_props:
                self.emit(k.PROPERTY_MISSING, f"{where}.{name}", "property missing in OURS")
            else:
                self.compare(t_prop, o_props[name], f"{where}.{name}", stack)
        for name in o_props:
            if name not in t_props:
                self.emit(k.PROPERTY_EXTRA, f"{where}.{name}", "property only in OURS")

    def _compare_items(self, t: JSON, o: JSON, where: str, stack: frozenset[str]) -> None:
        t_items, o_items = t.get("items"), o.get("items")
        if t_items is None and o_items is None:
            return
        both_arrays = "array" in schema_types(t)[0] and "array" in schema_types(o)[0]
        if (t_items is None or o_items is None) and not both_arrays:
            return  # the type difference is already reported
        self.compare(t_items or {}, o_items or {}, f"{where}.<items>", stack)

    def _compare_additional(self, t: JSON, o: JSON, where: str, stack: frozenset[str]) -> None:
        t_add, o_add = t.get("additionalProperties"), o.get("additionalProperties")
        here = f"{where}.<additionalProperties>"
        if isinstance(t_add, dict) and isinstance(o_add, dict):
            self.compare(t_add, o_add, here, stack)
        elif t_add != o_add:
            self.emit(k.COMPOSITION_DIFFERS, here, f"THEIRS {_brief(t_add)}, OURS {_brief(o_add)}")

    def _compare_composition(
        self, key: str, t: JSON, o: JSON, where: str, stack: frozenset[str]
    ) -> None:
        t_list, o_list = _list(t.get(key)), _list(o.get(key))
        if len(t_list) != len(o_list):
            message = f"THEIRS {len(t_list)} {key} entries, OURS {len(o_list)}"
            self.emit(k.COMPOSITION_DIFFERS, f"{where}.<{key}>", message)
            return
        for index, (t_sub, o_sub) in enumerate(zip(t_list, o_list, strict=True)):
            self.compare(t_sub, o_sub, f"{where}.<{key}:{index}>", stack)


def schema_types(schema: JSON) -> tuple[frozenset[str], bool]:
    """Declared (or implied) types without ``null``, and whether null is allowed.

    OAS 3.1 writes ``type: [string, "null"]``, OAS 3.0 ``nullable: true``; both map to the
    same pair. A schema without ``type`` but with ``properties``/``items`` counts as
    object/array, as code generators read it that way.
    """
    raw = schema.get("type")
    declared = raw if isinstance(raw, list) else ([] if raw is None else [raw])
    types = frozenset(str(t) for t in declared if t != "null")
    nullable = "null" in declared or schema.get("nullable") is True
    if not types and "properties" in schema:
        types = frozenset({"object"})
    elif not types and "items" in schema:
        types = frozenset({"array"})
    return types, nullable


def _types(types: frozenset[str]) -> str:
    return "|".join(sorted(types)) if types else "(none)"


def _ref(name: str | None) -> str:
    return "(inline)" if name is None else f"-> {name}"


def _names(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _brief(value: Any) -> str:
    return "schema" if isinstance(value, dict) else show(value)
