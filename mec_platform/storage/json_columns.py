"""JSON documents stored as text columns: one spelling for every repository that keeps them."""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> str:
    """Compact JSON text."""
    return json.dumps(value, separators=(",", ":"))


def maybe_dumps(value: Any) -> str | None:
    """JSON text, or NULL for None."""
    return None if value is None else dumps(value)


def maybe_loads(text: str | None) -> Any:
    """The document, or None for NULL."""
    return None if text is None else json.loads(text)
