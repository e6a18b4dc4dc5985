"""Request body validation that honours `readOnly` (OpenAPI 3.0 clause 4.7.25.4).

A property that is both `readOnly` and `required` (e.g. `_links` of ServiceInfo) is required in
responses only; connexion's stock validator requires it in requests too, so we drop such names
from `required` while validating request bodies.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError
from jsonschema.validators import extend

_stock_required = Draft4Validator.VALIDATORS["required"]


def _required_unless_read_only(
    validator: Any, required: list[str], instance: Any, schema: dict[str, Any]
) -> Iterator[Any]:
    properties = schema.get("properties", {})
    writable = [name for name in required if not properties.get(name, {}).get("readOnly")]
    yield from _stock_required(validator, writable, instance, schema)


RequestValidator = extend(Draft4RequestValidator, {"required": _required_unless_read_only})


class ReadOnlyAwareBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """JSON body validator using RequestValidator."""

    @property
    def _validator(self) -> Any:
        return RequestValidator(self._schema, format_checker=Draft4Validator.FORMAT_CHECKER)


class NamingParameterValidator(ParameterValidator):  # type: ignore[misc]
    """Parameter validation whose error names the parameter instead of dumping its schema."""

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        name = param_name or param.get("name", "?")
        if value is None:
            return f"missing {parameter_type} parameter '{name}'" if param.get("required") else None
        try:
            Draft4Validator(
                param.get("schema", param), format_checker=Draft4Validator.FORMAT_CHECKER
            ).validate(value)
        except ValidationError as exc:
            return f"{parameter_type} parameter '{name}': {exc.message}"
        return None


def validator_map() -> dict[str, Any]:
    """connexion's validator map with our body and parameter validators."""
    validators = dict(VALIDATOR_MAP)
    validators["parameter"] = NamingParameterValidator
    validators["body"] = MediaTypeDict(
        {**VALIDATOR_MAP["body"], "*/*json": ReadOnlyAwareBodyValidator}
    )
    return validators
