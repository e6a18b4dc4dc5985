"""The attribute filter of ETSI GS MEC 009 clause 6.19 (`filter=(eq,attr,value);(in,attr,a,b)`)
applied to JSON representations; attribute paths use `/` between nested names."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from mec_platform.errors import InvalidInput

_TERM = re.compile(r"\((eq|neq|gt|lt|gte|lte|in|nin|cont|ncont),([^,()]+)((?:,[^,()]*)+)\)")


def _value_at(document: Any, path: str) -> list[Any]:
    values = [document]
    for name in path.split("/"):
        step: list[Any] = []
        for value in values:
            if isinstance(value, dict) and name in value:
                item = value[name]
                step.extend(item if isinstance(item, list) else [item])
        values = step
    return values


def _text(value: Any) -> str:
    # As the value is written in JSON: true/false/null, numbers and strings as they are.
    return value if isinstance(value, str) else json.dumps(value)


SINGLE_VALUE = frozenset({"eq", "neq", "gt", "lt", "gte", "lte"})


def _compare(op: str, found: list[Any], wanted: Sequence[str]) -> bool:
    texts = [_text(v) for v in found]
    checks: dict[str, Callable[[], bool]] = {
        "eq": lambda: wanted[0] in texts,
        "neq": lambda: wanted[0] not in texts,
        "in": lambda: any(w in texts for w in wanted),
        "nin": lambda: not any(w in texts for w in wanted),
        "cont": lambda: any(w in t for t in texts for w in wanted),
        "ncont": lambda: not any(w in t for t in texts for w in wanted),
        "gt": lambda: any(_num(t) > _num(wanted[0]) for t in texts),
        "lt": lambda: any(_num(t) < _num(wanted[0]) for t in texts),
        "gte": lambda: any(_num(t) >= _num(wanted[0]) for t in texts),
        "lte": lambda: any(_num(t) <= _num(wanted[0]) for t in texts),
    }
    return checks[op]()


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"filter: '{text[:40]}' is not a number") from None


def parse_filter(expression: str | None) -> list[tuple[str, str, list[str]]]:
    """The terms of a filter expression, or InvalidInput naming the part that is wrong."""
    if not expression:
        return []
    terms = []
    for part in expression.split(";"):
        match = _TERM.fullmatch(part)
        if match is None:
            raise InvalidInput(f"filter: '{part[:80]}' is not a term like (eq,attribute,value)")
        values = match.group(3)[1:].split(",")
        if match.group(1) in SINGLE_VALUE and len(values) != 1:
            raise InvalidInput(f"filter: '{part[:80]}' compares with one value only")
        terms.append((match.group(1), match.group(2), values))
    return terms


def apply_filter(documents: list[dict[str, Any]], expression: str | None) -> list[dict[str, Any]]:
    """The documents every term matches (terms are AND'd, values within `in` OR'd)."""
    terms = parse_filter(expression)
    return [
        document
        for document in documents
        if all(_compare(op, _value_at(document, path), values) for op, path, values in terms)
    ]
