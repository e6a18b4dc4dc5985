"""Local ``$ref`` handling for one OpenAPI document.

Only references inside the same document (``#/...``) are followed; anything else stays
opaque and is compared by its target name.
"""

from __future__ import annotations

from typing import Any

from .model import JSON

_SCHEMA_PREFIX = "#/components/schemas/"


def ref_of(node: Any) -> str | None:
    """The ``$ref`` string of ``node``, or None when it is not a reference."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            return ref
    return None


def ref_name(node: Any) -> str | None:
    """The last segment of ``node``'s ``$ref`` (e.g. the component schema name)."""
    ref = ref_of(node)
    if ref is None:
        return None
    return _unescape(ref.rsplit("/", 1)[-1])


def schema_ref_name(node: Any) -> str | None:
    """The component schema name ``node`` refers to, if it is a schema reference."""
    ref = ref_of(node)
    if ref is None or not ref.startswith(_SCHEMA_PREFIX):
        return None
    return _unescape(ref[len(_SCHEMA_PREFIX) :])


def as_dict(node: Any) -> JSON:
    """``node`` if it is a mapping, else an empty one (tolerates malformed input)."""
    return node if isinstance(node, dict) else {}


class Document:
    """An OpenAPI document with helpers to follow its local references."""

    def __init__(self, doc: JSON) -> None:
        self.doc = doc

    def resolve(self, node: Any) -> JSON:
        """Follow local ``$ref`` chains from ``node`` to the referenced mapping."""
        seen: set[str] = set()
        current = node
        while (ref := ref_of(current)) is not None and ref.startswith("#/"):
            if ref in seen:
                return {}
            seen.add(ref)
            target = self.lookup(ref)
            if target is None:
                return as_dict(current)
            current = target
        return as_dict(current)

    def lookup(self, ref: str) -> Any:
        """The node at local JSON pointer ``ref`` (``#/a/b``), or None."""
        node: Any = self.doc
        for part in ref[2:].split("/"):
            if not isinstance(node, dict):
                return None
            node = node.get(_unescape(part))
        return node

    def schemas(self) -> JSON:
        """``components.schemas`` as a mapping."""
        return as_dict(as_dict(self.doc.get("components")).get("schemas"))

    def schema(self, name: str) -> JSON | None:
        """The component schema called ``name``, if any."""
        found = self.schemas().get(name)
        return found if isinstance(found, dict) else None

    def paths(self) -> JSON:
        """``paths`` as a mapping."""
        return as_dict(self.doc.get("paths"))


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")
