"""What the OpenAPI document adds to flask-smorest's: operationIds, problem+json on every error answer,
GeoJSON geometry schemas and the discriminated unions of sync (one place, so a generated client sees
every operation named, typed, and its errors).

operationIds are camelCase ``verbNoun``: the view function's name (``list_grids`` → ``listGrids``);
a view whose name is not a verb phrase (or a MethodView's method) names its operation with
``@blp.doc(operationId=…)``. Renaming a view renames its operation: clients generated from the
document depend on these names.

Every error answer an operation documents (its ``alt_response``s, whose descriptions name the codes)
is problem+json; each non-public operation may answer 401 and each with a path parameter 404, so
those are listed everywhere without repeating them on every route."""

from __future__ import annotations

import re
from decimal import Decimal

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from api.errors import PROBLEM, ProblemOut
from core import geojson
from core.schemas import Union

_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class AnxunDocument(BasePlugin):
    """operationIds, error answers, GeoJSON schemas and ``core.schemas.Union`` fields (oneOf + discriminator)."""

    def init_spec(self, spec):
        self.spec = spec
        for name, component in geojson.COMPONENTS.items():
            spec.components.schema(name, component)
        self.converter = next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin)).converter
        self.converter.add_attribute_function(union2properties)
        self.converter.add_attribute_function(decimal2properties)

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        view = rule.endpoint.rsplit(".", 1)[-1] if rule is not None else ""
        for method, operation in (operations or {}).items():
            if "operationId" not in operation:
                if not _SNAKE.match(view):
                    raise ValueError(f"{method.upper()} {path}: name the operation with @blp.doc(operationId=…)")
                operation["operationId"] = camel_case(view)
            self._errors(
                operation, has_path_parameters=bool(rule is not None and rule.arguments), has_body=method != "head"
            )

    def _errors(self, operation: dict, *, has_path_parameters: bool, has_body: bool) -> None:
        # A response named by a string is a component: flask-smorest's, problem+json (api/app.py).
        responses = operation.setdefault("responses", {})
        if operation.get("security") != []:
            responses.setdefault("401", "UNAUTHORIZED" if has_body else {"description": "未登录或登录已失效"})
        if has_path_parameters:
            responses.setdefault("404", "NOT_FOUND" if has_body else {"description": "记录不存在"})
        problem = {PROBLEM: {"schema": self.converter.resolve_nested_schema(ProblemOut)}}
        for status, response in responses.items():
            if (
                has_body
                and status != "default"
                and int(status) >= 400
                and isinstance(response, dict)
                and "$ref" not in response
            ):
                response.setdefault("content", problem)


def decimal2properties(converter, field, ret, **kwargs) -> dict:
    """A Decimal answered as a string ("0.00") is documented as one; bounds are numbers, not Decimals."""
    if not isinstance(field, fields.Decimal):
        return {}
    bounds = {key: float(ret.pop(key)) for key in ("minimum", "maximum") if isinstance(ret.get(key), Decimal)}
    if field.as_string:
        return {"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
    return bounds


def union2properties(converter, field, **kwargs) -> dict:
    union = field.metadata.get("union")
    if not isinstance(union, Union):
        return {}
    return _ref(converter, union) if union.name else _union_schema(converter, union)


def _union_schema(converter, union: Union) -> dict:
    refs = {value: _ref(converter, target) for value, target in union.mapping.items()}
    schema = {"oneOf": list({ref["$ref"]: ref for ref in refs.values()}.values())}
    if union.property is not None:
        schema["discriminator"] = {
            "propertyName": union.property,
            "mapping": {value: ref["$ref"] for value, ref in refs.items()},
        }
    return schema


def _ref(converter, target) -> dict:
    if not isinstance(target, Union):
        return converter.resolve_nested_schema(target)
    components = converter.spec.components
    if target.name not in components.schemas:
        components.schema(target.name, _union_schema(converter, target))
    return {"$ref": f"#/components/schemas/{target.name}"}
