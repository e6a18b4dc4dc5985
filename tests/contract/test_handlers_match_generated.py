"""Each hand-written handler takes exactly the request parameters of its generated controller.

The generated controllers are parsed with `ast` (not imported), so this test needs neither
flask models nor a writable generated/ folder.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest
import yaml

from mec_platform.http import (
    app_lcm,
    app_pkgm,
    app_support,
    iot,
    oauth2,
    platform_users,
    sensors,
    service_mgmt,
)
from mec_platform.http.resolver import handlers_in, request_parameters, snake_case

REPO = Path(__file__).resolve().parents[2]
# connexion 3 never passes header parameters to handlers (If-Match is read from the request).
HEADER_PARAMETERS = {"if_match"}
# Where connexion's pythonic names differ from the generator's: camel-case splitting
# (appDId) and names that shadow a Python builtin, which connexion suffixes with "_".
CONNEXION_NAMES = {"app_did": "app_d_id", "filter": "filter_"}

APIS = [
    ("mec011_service_mgmt", service_mgmt.HANDLER_MODULES),
    ("mec011_app_support", app_support.HANDLER_MODULES),
    ("platform_users", platform_users.HANDLER_MODULES),
    ("platform_oauth2", oauth2.HANDLER_MODULES),
    ("mec010_2_app_pkgm", app_pkgm.HANDLER_MODULES),
    ("mec010_2_app_lcm", app_lcm.HANDLER_MODULES),
    ("mec033_iot", iot.HANDLER_MODULES),
    ("platform_sensors", sensors.HANDLER_MODULES),
]


def _generated_signatures(spec_name: str) -> dict[str, list[str]]:
    folder = REPO / "generated" / spec_name / f"{spec_name}_gen" / "controllers"
    signatures: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*_controller.py")):
        if path.name == "security_controller.py":
            continue
        with warnings.catch_warnings():
            # Generated docstrings may hold escapes like "\&" that Python warns about.
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                names = [arg.arg for arg in node.args.args]
                signatures[node.name] = [
                    CONNEXION_NAMES.get(n, n) for n in names if n not in HEADER_PARAMETERS
                ]
    return signatures


FORM = "application/x-www-form-urlencoded"


def _form_fields(spec_name: str) -> dict[str, set[str]]:
    """Per handler name, the fields of a form body.

    The generator spreads form fields over the controller's parameters (connexion 2 style);
    connexion 3 hands an OpenAPI 3 form to the handler whole, as `body`.
    """
    spec = yaml.safe_load((REPO / "specs" / f"{spec_name}.yaml").read_text())
    fields: dict[str, set[str]] = {}
    for item in spec["paths"].values():
        for operation in item.values():
            content = (
                (operation.get("requestBody") or {}).get("content", {})
                if isinstance(operation, dict)
                else {}
            )
            if FORM in content:
                schema = content[FORM]["schema"]
                if "$ref" in schema:
                    schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
                fields[snake_case(operation["operationId"])] = set(schema["properties"])
    return fields


def _operation_ids(spec_name: str) -> list[str]:
    spec = yaml.safe_load((REPO / "specs" / f"{spec_name}.yaml").read_text())
    return [
        operation["operationId"]
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    ]


@pytest.mark.parametrize(("spec_name", "modules"), APIS)
def test_every_operation_has_a_handler_with_the_generated_parameters(
    spec_name: str, modules: tuple[object, ...]
) -> None:
    generated = _generated_signatures(spec_name)
    for name, fields in _form_fields(spec_name).items():
        generated[name] = [p for p in generated.get(name, []) if p not in fields] + ["body"]
    handlers = handlers_in(modules)  # type: ignore[arg-type]
    operation_ids = _operation_ids(spec_name)
    assert operation_ids, "spec has no operations"
    for operation_id in operation_ids:
        name = snake_case(operation_id)
        assert name in generated, f"codegen produced no controller for {operation_id}"
        assert name in handlers, f"no handler {name} for {operation_id}"
        assert sorted(request_parameters(handlers[name])) == sorted(generated[name]), name


@pytest.mark.parametrize(("spec_name", "modules"), APIS)
def test_no_handler_without_an_operation(spec_name: str, modules: tuple[object, ...]) -> None:
    known = {snake_case(op) for op in _operation_ids(spec_name)}
    extra = set(handlers_in(modules)) - known  # type: ignore[arg-type]
    assert not extra, f"handlers without an operation in the spec: {sorted(extra)}"
