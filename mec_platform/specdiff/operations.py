"""Comparison of one THEIRS operation with the matching OURS operation.

Covers operationId, parameters, request body, responses per status code (bodies per media
type) and callbacks. Bodies go through ``compare_body``, which recognises the ETSI doc2oas
wrapper ``{type: object, properties: {X: {$ref: .../X}}}`` and compares its inner type with
a bare OURS body, reporting the wrapper once as ``unwrapped-body``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import model as k
from .model import JSON, show
from .refs import Document, as_dict, schema_ref_name
from .schemas import SchemaComparer

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_WRAPPER_KEYS = frozenset({"type", "properties", "description", "required"})

Locator = Callable[[str], str]


def compare_path_item(
    cmp: SchemaComparer, t_item: Any, o_item: Any, t_loc: Locator, o_loc: Locator
) -> None:
    """Compare every method of two path items; ``*_loc(METHOD)`` builds locations."""
    t_item, o_item = cmp.theirs.resolve(t_item), cmp.ours.resolve(o_item)
    for method in HTTP_METHODS:
        t_op, o_op = t_item.get(method), o_item.get(method)
        where, o_where = t_loc(method.upper()), o_loc(method.upper())
        if isinstance(t_op, dict) and not isinstance(o_op, dict):
            renamed = "" if o_where == where else f" (looked for {o_where})"
            cmp.emit(k.OPERATION_MISSING, where, f"operation missing in OURS{renamed}")
        elif isinstance(t_op, dict) and isinstance(o_op, dict):
            _compare_operation(cmp, (t_item, t_op), (o_item, o_op), where)
        elif isinstance(o_op, dict):
            cmp.emit(k.OPERATION_EXTRA, o_where, "operation only in OURS")


def _compare_operation(
    cmp: SchemaComparer, t: tuple[JSON, JSON], o: tuple[JSON, JSON], where: str
) -> None:
    t_op, o_op = t[1], o[1]
    t_id, o_id = t_op.get("operationId"), o_op.get("operationId")
    if t_id is not None and t_id != o_id:
        cmp.emit(k.OPERATION_ID_DIFFERS, where, f"THEIRS {t_id}, OURS {show(o_id)}")
    t_params, o_params = _parameters(cmp.theirs, *t), _parameters(cmp.ours, *o)
    _compare_parameters(cmp, t_params, o_params, where)
    _compare_request_body(cmp, t_op.get("requestBody"), o_op.get("requestBody"), where)
    _compare_responses(cmp, as_dict(t_op.get("responses")), as_dict(o_op.get("responses")), where)
    _compare_callbacks(cmp, as_dict(t_op.get("callbacks")), as_dict(o_op.get("callbacks")), where)


def _parameters(doc: Document, item: JSON, op: JSON) -> dict[str, JSON]:
    """Effective parameters keyed ``in:name``; operation-level ones override path-level."""
    found: dict[str, JSON] = {}
    for raw in [*_list(item.get("parameters")), *_list(op.get("parameters"))]:
        param = doc.resolve(raw)
        if "name" in param:
            found[f"{param.get('in')}:{param['name']}"] = param
    return found


def _compare_parameters(
    cmp: SchemaComparer, t_params: dict[str, JSON], o_params: dict[str, JSON], where: str
) -> None:
    for key, t_param in t_params.items():
        here = f"{where} {key}"
        o_param = o_params.get(key)
        if o_param is None:
            cmp.emit(k.PARAMETER_MISSING, here, "parameter missing in OURS")
            continue
        t_req, o_req = _param_required(t_param), _param_required(o_param)
        if t_req != o_req:
            cmp.emit(k.PARAMETER_REQUIRED_DIFFERS, here, f"THEIRS required={t_req}, OURS {o_req}")
        cmp.compare(t_param.get("schema", {}), o_param.get("schema", {}), here)
    for key, o_param in o_params.items():
        if key not in t_params:
            # Extra path parameters only arise from a path rename (the template decides).
            blocking = _param_required(o_param) and o_param.get("in") != "path"
            kind = k.PARAMETER_EXTRA_REQUIRED if blocking else k.PARAMETER_EXTRA
            cmp.emit(kind, f"{where} {key}", "parameter only in OURS")


def _param_required(param: JSON) -> bool:
    return param.get("in") == "path" or param.get("required") is True


def _compare_request_body(cmp: SchemaComparer, t_raw: Any, o_raw: Any, where: str) -> None:
    here = f"{where} request"
    if t_raw is None and o_raw is None:
        return
    if o_raw is None:
        cmp.emit(k.REQUEST_BODY_MISSING, here, "request body missing in OURS")
        return
    if t_raw is None:
        cmp.emit(k.REQUEST_BODY_EXTRA, here, "request body only in OURS")
        return
    t_body, o_body = cmp.theirs.resolve(t_raw), cmp.ours.resolve(o_raw)
    t_req, o_req = t_body.get("required") is True, o_body.get("required") is True
    if t_req != o_req:
        cmp.emit(k.REQUEST_BODY_REQUIRED_DIFFERS, here, f"THEIRS required={t_req}, OURS {o_req}")
    _compare_content(cmp, as_dict(t_body.get("content")), as_dict(o_body.get("content")), here)


def _compare_responses(cmp: SchemaComparer, t_resps: JSON, o_resps: JSON, where: str) -> None:
    for code, t_raw in t_resps.items():
        here = f"{where} {code}"
        if code not in o_resps:
            cmp.emit(k.RESPONSE_MISSING, here, f"status {code} not declared in OURS")
            continue
        t_resp, o_resp = cmp.theirs.resolve(t_raw), cmp.ours.resolve(o_resps[code])
        t_content, o_content = as_dict(t_resp.get("content")), as_dict(o_resp.get("content"))
        _compare_content(cmp, t_content, o_content, here)
    for code in o_resps:
        if code not in t_resps:
            cmp.emit(k.RESPONSE_EXTRA, f"{where} {code}", f"status {code} only in OURS")


def _compare_content(cmp: SchemaComparer, t_content: JSON, o_content: JSON, anchor: str) -> None:
    for media, t_media in t_content.items():
        here = f"{anchor}:{media}"
        if media not in o_content:
            cmp.emit(k.MEDIA_TYPE_MISSING, here, f"OURS declares no {media} body here")
            continue
        t_schema = as_dict(t_media).get("schema")
        o_schema = as_dict(o_content[media]).get("schema")
        compare_body(cmp, t_schema or {}, o_schema or {}, here)
    for media in o_content:
        if media not in t_content:
            cmp.emit(k.MEDIA_TYPE_EXTRA, f"{anchor}:{media}", f"{media} body only in OURS")


def compare_body(cmp: SchemaComparer, t_schema: Any, o_schema: Any, where: str) -> None:
    """Compare body schemas, looking through the ETSI type-named wrapper object."""
    inner = wrapped_type(t_schema)
    if inner is None or wrapped_type(o_schema) is not None:
        cmp.compare(t_schema, o_schema, where)
        return
    message = f"THEIRS wraps the body as {{{inner}: {inner}}}; OURS body compared to {inner}"
    cmp.emit(k.UNWRAPPED_BODY, where, message)
    cmp.compare(t_schema["properties"][inner], o_schema, where)


def wrapped_type(schema: Any) -> str | None:
    """``X`` when ``schema`` is ``{type: object, properties: {X: {$ref: ...X}}}``."""
    if not isinstance(schema, dict) or not set(schema) <= _WRAPPER_KEYS:
        return None
    if schema.get("type", "object") != "object":
        return None
    props = as_dict(schema.get("properties"))
    if len(props) != 1:
        return None
    [(name, prop)] = props.items()
    return name if schema_ref_name(prop) == name else None


def _compare_callbacks(cmp: SchemaComparer, t_cbs: JSON, o_cbs: JSON, where: str) -> None:
    for name, t_raw in t_cbs.items():
        here = f"{where} callback:{name}"
        if name not in o_cbs:
            cmp.emit(k.CALLBACK_MISSING, here, f"callback {name!r} not declared in OURS")
            continue
        t_cb, o_cb = cmp.theirs.resolve(t_raw), cmp.ours.resolve(o_cbs[name])
        for expr, t_item in t_cb.items():
            if expr not in o_cb:
                cmp.emit(k.CALLBACK_EXPRESSION_MISSING, f"{here} {expr}", f"OURS uses {list(o_cb)}")
                continue
            locate = _callback_locator(f"{here} {expr}")
            compare_path_item(cmp, t_item, o_cb[expr], locate, locate)
        for expr in o_cb:
            if expr not in t_cb:
                cmp.emit(k.CALLBACK_EXTRA, f"{here} {expr}", "callback expression only in OURS")
    for name in o_cbs:
        if name not in t_cbs:
            cmp.emit(k.CALLBACK_EXTRA, f"{where} callback:{name}", "callback only in OURS")


def _callback_locator(prefix: str) -> Locator:
    return lambda method: f"{prefix} {method}"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
