"""Loading plainly valid input without marshmallow's bookkeeping. ``plain_loader(schema)`` compiles a
schema's declared fields into a function that returns exactly what ``schema.load(data)`` returns when
every field is plainly valid, and None whenever anything might be refused; the caller then loads with
marshmallow, which says why. The rules stay the schema's own: each field's validators and
``_deserialize`` (the custom fields' among them), and the schema's ``validates_schema`` and
``post_load`` hooks, run as marshmallow runs them. Only the machinery around them is skipped: error
stores, getter closures, hook lookups per field. A push loads two schemas per change (the envelope
and its data, ≈ 25 fields with the nested ones), which was ≈ 15 % of its CPU through marshmallow."""

from __future__ import annotations

import math
import uuid
from typing import Any, Callable

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, fields
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.error_store import ErrorStore
from marshmallow.utils import missing

NOT_PLAIN = object()  # a value or record the plain path cannot vouch for: marshmallow must load it

Loader = Callable[[Any], Any]


def plain_loader(schema: Schema) -> Callable[[Any], dict | None]:
    """``schema.load(data)`` for plainly valid data; None for anything else (load it with the schema)."""
    compiled = _compile_schema(schema, schema.unknown)

    def load(data):
        try:
            out = compiled(data)
        except (ValidationError, ValueError, TypeError):
            return None
        return None if out is NOT_PLAIN else out

    return load


def plain_first(schema: Schema) -> Callable[[Any], dict]:
    """A drop-in for ``schema.load``: the same result and the same errors, plainly valid data loaded
    on the plain path."""
    plain = plain_loader(schema)

    def load(data):
        loaded = plain(data)
        return loaded if loaded is not None else schema.load(data)

    return load


def _never(_value) -> object:
    return NOT_PLAIN


def _compile_schema(schema: Schema, unknown: str) -> Loader:
    hooks = schema._hooks
    if (
        schema.many
        or schema.partial
        or schema.dict_class is not dict
        or hooks[PRE_LOAD]
        or hooks[VALIDATES]
        or unknown not in (RAISE, EXCLUDE, INCLUDE)
    ):
        return _never  # loaded by marshmallow only: nothing the plain path would have to imitate
    plan = []
    for attr_name, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else attr_name
        target = field.attribute or attr_name
        if "." in target:  # marshmallow would build nested dicts for it
            return _never
        plan.append((key, target, field, _compile_field(field)))
    known = frozenset(key for key, _, _, _ in plan)
    validates_schema, post_load = bool(hooks[VALIDATES_SCHEMA]), bool(hooks[POST_LOAD])

    def load(data):
        if type(data) is not dict:
            return NOT_PLAIN
        if unknown == RAISE and not known.issuperset(data):
            return NOT_PLAIN
        out = {}
        for key, target, field, leaf in plan:
            value = data.get(key, missing)
            if value is missing:
                if field.required:
                    return NOT_PLAIN
                default = field.load_default
                if default is not missing:
                    out[target] = default() if callable(default) else default
                continue
            if value is None:
                if not field.allow_none:
                    return NOT_PLAIN
                out[target] = None
                continue
            loaded = leaf(value)
            if loaded is NOT_PLAIN:
                return NOT_PLAIN
            out[target] = loaded
        if unknown == INCLUDE:
            for key in data.keys() - known:
                out[key] = data[key]
        if validates_schema:
            errors = ErrorStore()
            for pass_collection in (True, False):
                schema._invoke_schema_validators(
                    error_store=errors,
                    pass_collection=pass_collection,
                    data=out,
                    original_data=data,
                    many=False,
                    partial=None,
                    unknown=unknown,
                    field_errors=False,
                )
            if errors.errors:
                return NOT_PLAIN
        if post_load:
            out = schema._invoke_load_processors(
                POST_LOAD, out, many=False, original_data=data, partial=None, unknown=unknown
            )
        return out

    return load


def _compile_field(field: fields.Field) -> Loader:
    """The loader of one present, non-null value: the field's conversion, then its validators."""
    convert = _conversion(field)
    validate = field._validate if field.validators else None
    if validate is None:
        return convert

    def load(value):
        out = convert(value)
        if out is not NOT_PLAIN:
            validate(out)  # raises ValidationError: refused, marshmallow says why
        return out

    return load


def _conversion(field: fields.Field) -> Loader:
    kind = type(field)
    if kind is fields.String:
        return lambda value: value if type(value) is str else NOT_PLAIN
    if kind is fields.UUID:
        return lambda value: uuid.UUID(value) if type(value) is str else NOT_PLAIN
    if kind is fields.Integer and not field.as_string:
        return lambda value: value if type(value) is int else NOT_PLAIN
    if kind is fields.Float and not field.as_string:
        return lambda value: float(value) if type(value) in (int, float) and math.isfinite(value) else NOT_PLAIN
    if kind is fields.Boolean:
        return lambda value: value if type(value) is bool else NOT_PLAIN
    if kind is fields.Raw:
        return lambda value: value
    if kind is fields.Dict and field.key_field is None and field.value_field is None:
        return lambda value: dict(value) if type(value) is dict else NOT_PLAIN
    if kind is fields.Nested and not field.many and isinstance(field.nested, type | Schema):
        return _compile_schema(field.schema, field.unknown or field.schema.unknown)
    if kind is fields.List:
        inner = _compile_field(field.inner)

        def load_list(value):
            if type(value) is not list:
                return NOT_PLAIN
            # A null element is the inner field's to judge (allow_none): left to marshmallow.
            out = [NOT_PLAIN if v is None else inner(v) for v in value]
            return NOT_PLAIN if any(v is NOT_PLAIN for v in out) else out

        return load_list
    # Any other field (custom lists and times among them) converts as marshmallow converts it.
    return lambda value: field._deserialize(value, None, None)
