"""What the OpenAPI document adds to flask-smorest's: operationIds, GeoJSON geometry schemas and the
discriminated unions of sync (one place, so a generated client sees every operation named and typed).

operationIds are camelCase ``verbNoun``: the view function's name (``list_grids`` → ``listGrids``);
a view whose name is not a verb phrase (or a MethodView's method) names its operation with
``@blp.doc(operationId=…)``. Renaming a view renames its operation: clients generated from the
document depend on these names."""
from __future__ import annotations

import re

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin

from core import geojson
from core.schemas import Union

_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class OperationIds(BasePlugin):
    """Gives every operation its operationId (the view's name in camelCase unless the route set one)."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        view = rule.endpoint.rsplit(".", 1)[-1] if rule is not None else ""
        for method, operation in (operations or {}).items():
            if "operationId" in operation:
                continue
            if not _SNAKE.match(view):
                raise ValueError(f"{method.upper()} {path}: name the operation with @blp.doc(operationId=…)")
            operation["operationId"] = camel_case(view)


class Components(BasePlugin):
    """Registers the GeoJSON schemas and renders ``core.schemas.Union`` fields as ``oneOf`` + ``discriminator``."""

    def init_spec(self, spec):
        for name, component in geojson.COMPONENTS.items():
            spec.components.schema(name, component)
        converter = next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin)).converter
        converter.add_attribute_function(union2properties)


def union2properties(converter, field, **kwargs) -> dict:
    union = field.metadata.get("union")
    if not isinstance(union, Union):
        return {}
    return _ref(converter, union) if union.name else _union_schema(converter, union)


def _union_schema(converter, union: Union) -> dict:
    refs = {value: _ref(converter, target) for value, target in union.mapping.items()}
    schema = {"oneOf": list({ref["$ref"]: ref for ref in refs.values()}.values())}
    if union.property is not None:
        schema["discriminator"] = {"propertyName": union.property,
                                   "mapping": {value: ref["$ref"] for value, ref in refs.items()}}
    return schema


def _ref(converter, target) -> dict:
    if not isinstance(target, Union):
        return converter.resolve_nested_schema(target)
    components = converter.spec.components
    if target.name not in components.schemas:
        components.schema(target.name, _union_schema(converter, target))
    return {"$ref": f"#/components/schemas/{target.name}"}
