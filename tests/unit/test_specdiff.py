"""Unit tests for spec-diff on small synthetic OpenAPI documents."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mec_platform.specdiff import (
    AllowEntry,
    AllowList,
    SpecDiffError,
    compare_specs,
    judge,
    load_allowlist,
)
from mec_platform.specdiff.cli import main
from mec_platform.specdiff.operations import wrapped_type

REPO = Path(__file__).resolve().parents[2]

Spec = dict[str, Any]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: Any) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def wrapper(name: str) -> dict[str, Any]:
    return {"type": "object", "properties": {name: ref(name)}}


def base_spec() -> Spec:
    """A small valid document used as both sides; tests mutate a copy."""
    thing = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "size": {"type": "integer", "format": "int32"},
            "state": ref("State"),
            "tags": {"type": "array", "items": {"type": "string"}},
            "owner": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
        "required": ["id", "state"],
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "get": {
                    "operationId": "ThingsGET",
                    "parameters": [
                        {"name": "state", "in": "query", "schema": ref("State")},
                        {
                            "name": "tag",
                            "in": "query",
                            "schema": {"type": "array", "items": {"type": "string"}},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            **json_body({"type": "array", "items": ref("Thing")}),
                        },
                        "404": {"$ref": "#/components/responses/NotFound"},
                    },
                },
                "post": {
                    "operationId": "ThingsPOST",
                    "requestBody": {"required": True, **json_body(ref("Thing"))},
                    "responses": {"201": {"description": "made", **json_body(ref("Thing"))}},
                    "callbacks": {
                        "thingEvent": {
                            "{$request.body#/callbackReference}": {
                                "post": {
                                    "requestBody": json_body(ref("Thing")),
                                    "responses": {"204": {"description": "done"}},
                                }
                            }
                        }
                    },
                },
            },
            "/things/{thingId}": {
                "parameters": [
                    {
                        "name": "thingId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "get": {
                    "operationId": "ThingGET",
                    "responses": {"200": {"description": "ok", **json_body(ref("Thing"))}},
                },
            },
        },
        "components": {
            "schemas": {
                "State": {"type": "string", "enum": ["ON", "OFF"]},
                "Thing": thing,
                "Problem": {"type": "object", "properties": {"title": {"type": "string"}}},
            },
            "responses": {
                "NotFound": {
                    "description": "nope",
                    "content": {"application/problem+json": {"schema": ref("Problem")}},
                }
            },
        },
    }


def ids(ours: Spec, theirs: Spec, renames: dict[str, str] | None = None) -> set[str]:
    return {finding.id for finding in compare_specs(ours, theirs, renames)}


def diff(mutate_ours: Any = None, mutate_theirs: Any = None) -> set[str]:
    ours, theirs = base_spec(), base_spec()
    if mutate_ours is not None:
        mutate_ours(ours)
    if mutate_theirs is not None:
        mutate_theirs(theirs)
    return ids(ours, theirs)


def thing(spec: Spec) -> Spec:
    schema: Spec = spec["components"]["schemas"]["Thing"]
    return schema


def get_things(spec: Spec) -> Spec:
    operation: Spec = spec["paths"]["/things"]["get"]
    return operation


def post_things(spec: Spec) -> Spec:
    operation: Spec = spec["paths"]["/things"]["post"]
    return operation


# --- paths and operations -------------------------------------------------------------


def test_identical_specs_have_no_findings() -> None:
    assert diff() == set()


def test_missing_and_extra_operations() -> None:
    def drop_post(spec: Spec) -> None:
        del spec["paths"]["/things"]["post"]

    assert diff(mutate_ours=drop_post) == {"operation-missing:POST /things"}
    assert diff(mutate_theirs=drop_post) == {"operation-extra:POST /things"}


def test_ours_only_path_is_informational() -> None:
    ours, theirs = base_spec(), base_spec()
    ours["paths"]["/extra"] = {"get": {"responses": {"200": {"description": "x"}}}}
    findings = compare_specs(ours, theirs)
    assert [(f.id, f.informational) for f in findings] == [("operation-extra:GET /extra", True)]


def test_operation_id_difference() -> None:
    found = diff(mutate_ours=lambda s: get_things(s).update(operationId="listThings"))
    assert found == {"operation-id-differs:GET /things"}


def test_parameter_missing_and_extra() -> None:
    def drop_tag(spec: Spec) -> None:
        get_things(spec)["parameters"].pop()

    assert diff(mutate_ours=drop_tag) == {"parameter-missing:GET /things query:tag"}
    assert diff(mutate_theirs=drop_tag) == {"parameter-extra:GET /things query:tag"}


def test_extra_required_parameter_is_not_informational() -> None:
    def add_required(spec: Spec) -> None:
        param = {"name": "must", "in": "header", "required": True, "schema": {"type": "string"}}
        get_things(spec)["parameters"].append(param)

    findings = compare_specs(_mutated(add_required), base_spec())
    assert [(f.id, f.informational) for f in findings] == [
        ("parameter-extra-required:GET /things header:must", False)
    ]


def test_parameter_required_type_enum_and_items_differences() -> None:
    def change(spec: Spec) -> None:
        state, tag = get_things(spec)["parameters"]
        state.update(required=True, schema={"type": "string", "enum": ["ON"]})
        tag["schema"]["items"] = {"type": "integer"}

    assert diff(mutate_ours=change) == {
        "parameter-required-differs:GET /things query:state",
        "ref-differs:GET /things query:state",
        "enum-value-missing:GET /things query:state=OFF",
        "type-differs:GET /things query:tag.<items>",
    }


def test_parameters_resolve_refs_and_path_level_declarations() -> None:
    def via_component(spec: Spec) -> None:
        param = get_things(spec)["parameters"][1]
        spec["components"]["parameters"] = {"Tag": param}
        get_things(spec)["parameters"][1] = {"$ref": "#/components/parameters/Tag"}
        item = spec["paths"]["/things/{thingId}"]
        item["get"]["parameters"] = item.pop("parameters")

    assert diff(mutate_ours=via_component) == set()


# --- bodies and responses ---------------------------------------------------------------


def test_request_body_missing_extra_and_required() -> None:
    def drop_body(spec: Spec) -> None:
        del post_things(spec)["requestBody"]

    assert diff(mutate_ours=drop_body) == {"request-body-missing:POST /things request"}
    assert diff(mutate_theirs=drop_body) == {"request-body-extra:POST /things request"}
    optional = diff(mutate_ours=lambda s: post_things(s)["requestBody"].update(required=False))
    assert optional == {"request-body-required-differs:POST /things request"}


def test_status_codes_missing_and_extra() -> None:
    def drop_404(spec: Spec) -> None:
        del get_things(spec)["responses"]["404"]

    assert diff(mutate_ours=drop_404) == {"response-missing:GET /things 404"}
    assert diff(mutate_theirs=drop_404) == {"response-extra:GET /things 404"}


def test_response_refs_are_resolved_before_comparing() -> None:
    def inline_404(spec: Spec) -> None:
        problem = {"type": "object", "properties": {"title": {"type": "integer"}}}
        get_things(spec)["responses"]["404"] = {
            "description": "nope",
            "content": {"application/problem+json": {"schema": problem}},
        }

    assert diff(mutate_ours=inline_404) == {
        "ref-differs:GET /things 404:application/problem+json",
        "type-differs:GET /things 404:application/problem+json.title",
    }


def test_media_type_missing_and_extra() -> None:
    def xml(spec: Spec) -> None:
        content = post_things(spec)["responses"]["201"]["content"]
        content["application/xml"] = content.pop("application/json")

    assert diff(mutate_ours=xml) == {
        "media-type-missing:POST /things 201:application/json",
        "media-type-extra:POST /things 201:application/xml",
    }


def test_wrapped_theirs_body_against_bare_ours_is_one_unwrapped_finding() -> None:
    def wrap(spec: Spec) -> None:
        post_things(spec)["requestBody"]["content"]["application/json"]["schema"] = wrapper("Thing")

    assert diff(mutate_theirs=wrap) == {"unwrapped-body:POST /things request:application/json"}
    assert diff(mutate_theirs=wrap, mutate_ours=wrap) == set()


def test_wrapper_inner_type_is_compared_with_our_bare_body() -> None:
    def wrap_state(spec: Spec) -> None:
        post_things(spec)["requestBody"]["content"]["application/json"]["schema"] = wrapper("State")

    assert diff(mutate_theirs=wrap_state) == {
        "unwrapped-body:POST /things request:application/json",
        "ref-differs:POST /things request:application/json",
        "type-differs:POST /things request:application/json",
        "enum-value-missing:POST /things request:application/json=ON",
        "enum-value-missing:POST /things request:application/json=OFF",
        "required-extra:POST /things request:application/json.id",
        "required-extra:POST /things request:application/json.state",
        "property-extra:POST /things request:application/json.id",
        "property-extra:POST /things request:application/json.size",
        "property-extra:POST /things request:application/json.state",
        "property-extra:POST /things request:application/json.tags",
        "property-extra:POST /things request:application/json.owner",
    }


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (wrapper("Thing"), "Thing"),
        ({"properties": {"Thing": ref("Thing")}}, "Thing"),
        ({"type": "object", "properties": {"thing": ref("Thing")}}, None),
        ({"type": "object", "properties": {"Thing": ref("Thing"), "x": {}}}, None),
        ({"type": "array", "items": ref("Thing")}, None),
        ({**wrapper("Thing"), "additionalProperties": False}, None),
        (ref("Thing"), None),
    ],
)
def test_wrapper_detection(schema: Any, expected: str | None) -> None:
    assert wrapped_type(schema) == expected


# --- component schemas ------------------------------------------------------------------


def test_schema_missing_and_extra() -> None:
    def drop_problem(spec: Spec) -> None:
        del spec["components"]["schemas"]["Problem"]
        del spec["components"]["responses"]
        del get_things(spec)["responses"]["404"]

    assert diff(mutate_ours=drop_problem) == {
        "schema-missing:Problem",
        "response-missing:GET /things 404",
    }
    assert diff(mutate_theirs=drop_problem) == {
        "schema-extra:Problem",
        "response-extra:GET /things 404",
    }


def test_schema_and_property_type_and_format() -> None:
    def change(spec: Spec) -> None:
        thing(spec)["properties"]["size"] = {"type": "number"}
        spec["components"]["schemas"]["State"]["type"] = "integer"

    assert diff(mutate_ours=change) == {
        "type-differs:Thing.size",
        "format-differs:Thing.size",
        "type-differs:State",
    }


def test_missing_type_in_theirs_is_a_type_difference() -> None:
    def untyped(spec: Spec) -> None:
        thing(spec)["properties"]["id"] = {"description": "no type"}

    assert diff(mutate_theirs=untyped) == {"type-differs:Thing.id"}


def test_nullable_forms_of_oas30_and_oas31_are_equal() -> None:
    def oas31(spec: Spec) -> None:
        thing(spec)["properties"]["id"] = {"type": ["string", "null"]}

    def oas30(spec: Spec) -> None:
        thing(spec)["properties"]["id"] = {"type": "string", "nullable": True}

    assert diff(mutate_theirs=oas31, mutate_ours=oas30) == set()
    assert diff(mutate_theirs=oas31) == {"nullable-differs:Thing.id"}


def test_property_missing_and_extra() -> None:
    def drop_size(spec: Spec) -> None:
        del thing(spec)["properties"]["size"]

    assert diff(mutate_ours=drop_size) == {"property-missing:Thing.size"}
    assert diff(mutate_theirs=drop_size) == {"property-extra:Thing.size"}


def test_enum_values_missing_and_extra_are_separate_kinds() -> None:
    def change(spec: Spec) -> None:
        spec["components"]["schemas"]["State"]["enum"] = ["ON", "BROKEN"]

    assert diff(mutate_ours=change) == {
        "enum-value-missing:State=OFF",
        "enum-value-extra:State=BROKEN",
    }


def test_required_differences_in_both_directions() -> None:
    def change(spec: Spec) -> None:
        thing(spec)["required"] = ["id", "size"]

    assert diff(mutate_ours=change) == {
        "required-missing:Thing.state",
        "required-extra:Thing.size",
    }


def test_array_items_type_and_ref_differences() -> None:
    def change(spec: Spec) -> None:
        thing(spec)["properties"]["tags"]["items"] = ref("State")

    assert diff(mutate_ours=change) == {
        "ref-extra:Thing.tags.<items>",
        "enum-value-extra:Thing.tags.<items>=ON",
        "enum-value-extra:Thing.tags.<items>=OFF",
    }
    assert diff(mutate_theirs=change) == {
        "ref-differs:Thing.tags.<items>",
        "enum-value-missing:Thing.tags.<items>=ON",
        "enum-value-missing:Thing.tags.<items>=OFF",
    }


def test_inline_nested_objects_are_compared_recursively() -> None:
    def change(spec: Spec) -> None:
        thing(spec)["properties"]["owner"]["properties"]["name"]["format"] = "email"

    assert diff(mutate_ours=change) == {"format-differs:Thing.owner.name"}


def test_different_ref_target_is_reported_and_content_still_compared() -> None:
    def renamed(spec: Spec) -> None:
        schemas = spec["components"]["schemas"]
        schemas["Status"] = {"type": "string", "enum": ["ON"]}
        thing(spec)["properties"]["state"] = ref("Status")

    assert diff(mutate_ours=renamed) == {
        "ref-differs:Thing.state",
        "enum-value-missing:Thing.state=OFF",
        "schema-extra:Status",
    }


def test_recursive_schemas_terminate() -> None:
    ours, theirs = base_spec(), base_spec()
    for spec, name in ((theirs, "Node"), (ours, "Link")):
        node = {"type": "object", "properties": {"next": ref(name)}}
        spec["components"]["schemas"][name] = node
        thing(spec)["properties"]["tree"] = ref(name)
    assert ids(ours, theirs) == {
        "ref-differs:Thing.tree",
        "ref-differs:Thing.tree.next",
        "schema-missing:Node",
        "schema-extra:Link",
    }


def test_composition_differences() -> None:
    def one_of(spec: Spec) -> None:
        thing(spec)["properties"]["size"] = {"oneOf": [{"type": "integer"}, {"type": "string"}]}

    assert "composition-differs:Thing.size.<oneOf>" in diff(mutate_ours=one_of)
    assert diff(mutate_ours=one_of, mutate_theirs=one_of) == set()


# --- callbacks and path renames ---------------------------------------------------------


def test_callback_missing_expression_and_body_differences() -> None:
    def rename_callback(spec: Spec) -> None:
        callbacks = post_things(spec)["callbacks"]
        callbacks["other"] = callbacks.pop("thingEvent")

    assert diff(mutate_ours=rename_callback) == {
        "callback-missing:POST /things callback:thingEvent",
        "callback-extra:POST /things callback:other",
    }

    def change_expression(spec: Spec) -> None:
        callback = post_things(spec)["callbacks"]["thingEvent"]
        callback["{$request.body#/callbackUri}"] = callback.pop(
            "{$request.body#/callbackReference}"
        )

    where = "POST /things callback:thingEvent {$request.body#/callbackReference}"
    assert diff(mutate_ours=change_expression) == {
        f"callback-expression-missing:{where}",
        "callback-extra:POST /things callback:thingEvent {$request.body#/callbackUri}",
    }

    def change_payload(spec: Spec) -> None:
        callback = post_things(spec)["callbacks"]["thingEvent"]
        operation = callback["{$request.body#/callbackReference}"]["post"]
        operation["requestBody"] = json_body(ref("State"))

    assert f"ref-differs:{where} POST request:application/json" in diff(mutate_ours=change_payload)


def test_path_renames_match_operations_and_tolerate_new_path_parameters() -> None:
    ours, theirs = base_spec(), base_spec()
    theirs["paths"]["/placeholder"] = {"get": {"operationId": "Probe", "responses": {}}}
    param = {"name": "thingId", "in": "path", "required": True, "schema": {"type": "string"}}
    ours["paths"]["/things/{thingId}/probe"] = {
        "get": {"operationId": "Probe", "parameters": [param], "responses": {}}
    }
    assert ids(ours, theirs) == {
        "operation-missing:GET /placeholder",
        "operation-extra:GET /things/{thingId}/probe",
    }
    renamed = compare_specs(ours, theirs, {"/placeholder": "/things/{thingId}/probe"})
    assert [(f.id, f.informational) for f in renamed] == [
        ("parameter-extra:GET /placeholder path:thingId", True)
    ]


# --- allow-list -------------------------------------------------------------------------


def test_allow_list_globs_first_match_and_stale_entries() -> None:
    ours, theirs = base_spec(), base_spec()
    del thing(ours)["properties"]["size"]
    del ours["paths"]["/things"]["post"]
    allow = AllowList(
        entries=(
            AllowEntry("property-missing:Thing.*", "first"),
            AllowEntry("property-missing:Thing.size", "shadowed but matching"),
            AllowEntry("schema-missing:Nothing", "stale"),
        )
    )
    verdict = judge(compare_specs(ours, theirs), allow)
    assert [(j.finding.id, j.entry) for j in verdict.judged] == [
        ("operation-missing:POST /things", None),
        ("property-missing:Thing.size", allow.entries[0]),
    ]
    assert [e.pattern for e in verdict.stale] == ["schema-missing:Nothing"]
    assert not verdict.ok
    assert [j.finding.id for j in verdict.failures] == ["operation-missing:POST /things"]


def test_informational_findings_never_fail() -> None:
    ours, theirs = base_spec(), base_spec()
    thing(ours)["properties"]["extra"] = {"type": "string"}
    verdict = judge(compare_specs(ours, theirs), AllowList())
    assert verdict.ok
    assert [j.finding.id for j in verdict.judged] == ["property-extra:Thing.extra"]


def test_load_allow_list(tmp_path: Path) -> None:
    path = tmp_path / "allow.yaml"
    path.write_text(
        "path_renames:\n  /a: /b/{id}\n"
        "allow:\n  - id: 'type-differs:Thing.*'\n    reason: >-\n      folded\n      text\n"
    )
    allow = load_allowlist(path)
    assert allow.path_renames == {"/a": "/b/{id}"}
    assert allow.entries == (AllowEntry("type-differs:Thing.*", "folded text"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("allow:\n  - id: 'x:y'\n", "'reason' is mandatory"),
        ("allow:\n  - id: 'x:y'\n    reason: '  '\n", "'reason' is mandatory"),
        ("allow:\n  - id: '*'\n    reason: r\n", "would accept everything"),
        ("allow:\n  - reason: r\n", "'id' must be"),
        ("allow:\n  - id: a\n    reason: r\n    note: n\n", "unknown keys"),
        ("allow:\n  - id: a\n    reason: r\n  - id: a\n    reason: s\n", "duplicate"),
        ("allow: {id: a}\n", "must be a list"),
        ("allowed: []\n", "unknown top-level keys"),
        ("path_renames: [a]\n", "path_renames"),
        ("path_renames:\n  a: /b\n", "path_renames"),
        ("- just a list\n", "mapping at the top level"),
        ("allow: [\n", "not valid YAML"),
    ],
)
def test_invalid_allow_lists(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "allow.yaml"
    path.write_text(text)
    with pytest.raises(SpecDiffError, match=message):
        load_allowlist(path)


# --- command line -----------------------------------------------------------------------


def write(path: Path, spec: Spec) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    ours, theirs = base_spec(), base_spec()
    del thing(ours)["properties"]["size"]
    thing(ours)["properties"]["extra"] = {"type": "string"}
    return write(tmp_path / "ours.yaml", ours), write(tmp_path / "theirs.yaml", theirs)


def args(files: tuple[Path, Path], *extra: str) -> list[str]:
    return [str(files[0]), str(files[1]), *extra]


def allow_file(tmp_path: Path, *entries: tuple[str, str]) -> str:
    path = tmp_path / "allow.yaml"
    path.write_text(yaml.safe_dump({"allow": [{"id": i, "reason": r} for i, r in entries]}))
    return str(path)


def test_cli_fails_on_unexplained_findings(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args(files)) == 1
    out = capsys.readouterr().out
    assert "NOT ALLOWED (1)\n  property-missing (1)\n    property-missing:Thing.size" in out
    assert "property-extra:Thing.extra" not in out
    assert out.rstrip().splitlines()[-1].startswith("FAIL: 1 not allowed")


def test_cli_passes_with_allow_list_and_shows_reasons_and_informational(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    allow = allow_file(tmp_path, ("property-missing:Thing.size", "size is derived"))
    assert main(args(files, "--allow", allow)) == 0
    assert "size is derived" not in capsys.readouterr().out
    assert main(args(files, "--allow", allow, "--verbose", "--all")) == 0
    out = capsys.readouterr().out
    assert "allowed by 'property-missing:Thing.size': size is derived" in out
    assert "INFORMATIONAL (OURS-only additions) (1)" in out
    assert "property-extra:Thing.extra" in out
    assert out.rstrip().splitlines()[-1].startswith("OK: 0 not allowed, 1 allowed")


def test_cli_warns_about_stale_entries(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    allow = allow_file(
        tmp_path,
        ("property-missing:Thing.size", "size is derived"),
        ("schema-missing:Gone", "old"),
    )
    assert main(args(files, "--allow", allow)) == 0
    err = capsys.readouterr().err
    assert "warning: allow-list entry 'schema-missing:Gone' matched no finding" in err


def test_cli_json_report(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    allow = allow_file(tmp_path, ("schema-missing:Gone", "old"))
    assert main(args(files, "--allow", allow, "--json")) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["summary"] == {
        "failing": 1,
        "allowed": 0,
        "informational": 1,
        "stale_allow_entries": 1,
    }
    assert [(f["id"], f["informational"]) for f in report["findings"]] == [
        ("property-extra:Thing.extra", True),
        ("property-missing:Thing.size", False),
    ]
    assert report["stale_allow_entries"] == [{"id": "schema-missing:Gone", "reason": "old"}]


def test_cli_normalises_integer_response_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = write(tmp_path / "theirs.yaml", base_spec())
    text = yaml.safe_dump(base_spec(), sort_keys=False).replace("'200':", "200:")
    ours = tmp_path / "ours.yaml"
    ours.write_text(text)
    assert "\n        200:" in text
    assert main([str(ours), str(theirs)]) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "OURS file not found"),
        ("openapi: [3.0\n", "OURS file .* is not valid YAML"),
        ("- a list\n", "must hold a mapping"),
        ("title: not openapi\n", "not an OpenAPI document"),
        ("openapi: 3.0.3\npaths: [a]\n", "'paths' must be a mapping"),
    ],
)
def test_cli_bad_input_exits_2_with_a_message(
    files: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    bad = tmp_path / "bad.yaml"
    if content is not None:
        bad.write_text(content)
    assert main([str(bad), str(files[1])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spec-diff: error: ")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err)


def test_cli_missing_allow_list_and_usage_errors_exit_2(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args(files, "--allow", str(tmp_path / "nope.yaml"))) == 2
    assert "allow-list file not found" in capsys.readouterr().err
    assert main([str(files[0])]) == 2
    assert "usage: spec-diff" in capsys.readouterr().err
    assert main(args(files, "--bogus")) == 2
    assert main(["--help"]) == 0
    assert "--allow FILE" in capsys.readouterr().out


def test_python_dash_m_entry_point(files: tuple[Path, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mec_platform.specdiff", *args(files)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "property-missing:Thing.size" in result.stdout


def _mutated(mutate: Any) -> Spec:
    spec = base_spec()
    mutate(spec)
    return spec
