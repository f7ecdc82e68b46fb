"""Schemas shared by every resource: pagination query and envelope, field errors, spreadsheet row errors, money,
and unions for the document. (Locations are geo's: geo.location.)"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, fields, validate

# Pages past this are refused rather than sent to PostgreSQL as an OFFSET beyond bigint: a million
# pages of 500 is far past any ledger.
MAX_PAGE = 1_000_000


class FieldErrorOut(Schema):
    """One field's error, in a problem+json ``errors`` and in a rejected push result."""

    code = fields.String()
    field = fields.String(
        allow_none=True, metadata={"description": "出错字段的点分路径，如 answers.3.item、data.grid_id"}
    )
    message = fields.String()


class RowErrorOut(Schema):
    """One problem of an imported spreadsheet (core.spreadsheets.RowError)."""

    row = fields.Integer(metadata={"description": "Excel 中的行号"})
    column = fields.String(allow_none=True, metadata={"description": "列名（表头所写）；整行或整个文件的问题为 null"})
    code = fields.String()
    message = fields.String()


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PageOut(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class Money(fields.Decimal):
    """An amount in 元 with two places, a string on the wire ("200.00") so no float rounds a fine; the
    document says so (a plain Decimal field would be documented as a number)."""

    def __init__(self, **kwargs):
        metadata = {"type": "string", "format": "decimal", "pattern": r"^-?\d+\.\d{2}$", "example": "200.00"}
        super().__init__(places=2, as_string=True, metadata=metadata | kwargs.pop("metadata", {}), **kwargs)


@dataclass(frozen=True)
class Union:
    """A discriminated union for the OpenAPI document (``oneOf`` + ``discriminator``): ``mapping`` from
    each value of ``property`` to a schema or a nested union. A named union becomes a component."""

    property: str | None
    mapping: dict
    name: str | None = None


def union_field(union: Union, **kwargs) -> fields.Raw:
    """A field documented as ``union`` and loaded raw: its parts are validated one by one where it is used."""
    return fields.Raw(metadata=kwargs.pop("metadata", {}) | {"union": union}, **kwargs)
