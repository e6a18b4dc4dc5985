"""Finding kinds and the Finding record produced by the spec comparison.

A finding id is ``<kind>:<location>``; the location names the THEIRS side (path as
THEIRS spells it, schema names, property paths) so ids stay stable when OURS changes.
Location grammar: ``GET /path`` for an operation, followed by `` query:name`` for a
parameter, `` request:<media>`` or `` <status>[:<media>]`` for bodies and responses,
`` callback:<name> <expression> <METHOD>`` for callback operations; a component schema is
its bare name. Schema paths append ``.property``, ``.<items>``, ``.<additionalProperties>``
or ``.<allOf:N>``; an enum value is appended as ``=VALUE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

# THEIRS declares something OURS lacks or declares differently.
OPERATION_MISSING = "operation-missing"
OPERATION_ID_DIFFERS = "operation-id-differs"
PARAMETER_MISSING = "parameter-missing"
PARAMETER_REQUIRED_DIFFERS = "parameter-required-differs"
PARAMETER_EXTRA_REQUIRED = "parameter-extra-required"
REQUEST_BODY_MISSING = "request-body-missing"
REQUEST_BODY_REQUIRED_DIFFERS = "request-body-required-differs"
RESPONSE_MISSING = "response-missing"
MEDIA_TYPE_MISSING = "media-type-missing"
UNWRAPPED_BODY = "unwrapped-body"
CALLBACK_MISSING = "callback-missing"
CALLBACK_EXPRESSION_MISSING = "callback-expression-missing"
SCHEMA_MISSING = "schema-missing"
TYPE_DIFFERS = "type-differs"
FORMAT_DIFFERS = "format-differs"
NULLABLE_DIFFERS = "nullable-differs"
REF_DIFFERS = "ref-differs"
PROPERTY_MISSING = "property-missing"
ENUM_VALUE_MISSING = "enum-value-missing"
ENUM_VALUE_EXTRA = "enum-value-extra"
REQUIRED_MISSING = "required-missing"
REQUIRED_EXTRA = "required-extra"
COMPOSITION_DIFFERS = "composition-differs"

# OURS-only additions: reported with --all, never fail the check.
OPERATION_EXTRA = "operation-extra"
PARAMETER_EXTRA = "parameter-extra"
REQUEST_BODY_EXTRA = "request-body-extra"
RESPONSE_EXTRA = "response-extra"
MEDIA_TYPE_EXTRA = "media-type-extra"
CALLBACK_EXTRA = "callback-extra"
SCHEMA_EXTRA = "schema-extra"
PROPERTY_EXTRA = "property-extra"
REF_EXTRA = "ref-extra"

INFORMATIONAL_KINDS = frozenset(
    {
        OPERATION_EXTRA,
        PARAMETER_EXTRA,
        REQUEST_BODY_EXTRA,
        RESPONSE_EXTRA,
        MEDIA_TYPE_EXTRA,
        CALLBACK_EXTRA,
        SCHEMA_EXTRA,
        PROPERTY_EXTRA,
        REF_EXTRA,
    }
)


@dataclass(frozen=True)
class Finding:
    """One difference between THEIRS and OURS."""

    kind: str
    location: str
    message: str

    @property
    def id(self) -> str:
        """Stable identifier matched by allow-list globs."""
        return f"{self.kind}:{self.location}"

    @property
    def informational(self) -> bool:
        """True for OURS-only additions, which never fail the check."""
        return self.kind in INFORMATIONAL_KINDS


def show(value: object) -> str:
    """Render a schema fact for a message; absent values read as ``(none)``."""
    return "(none)" if value is None else str(value)
