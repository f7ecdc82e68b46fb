"""What the OpenAPI document adds to flask-smorest's: operationIds, GeoJSON geometry schemas and the
discriminated unions of sync (one place, so a generated client sees every operation named and typed).

operationIds are camelCase ``verbNoun``: the view function's name (``list_grids`` → ``listGrids``);
a view whose name is not a verb phrase (or a MethodView's method) names its operation with
``@blp.doc(operationId=…)``. Renaming a view renames its operation: clients generated from the
document depend on these names."""
from __future__ import annotations

import re

from apispec import BasePlugin

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
