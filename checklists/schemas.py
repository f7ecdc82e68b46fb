"""Bodies of the checklist endpoints."""

from marshmallow import Schema, fields, validate

from checklists.definition import INDUSTRIES
from core.times import ShownTime


class ChecklistQuery(Schema):
    industry = fields.String(load_default=None, validate=validate.OneOf(list(INDUSTRIES)))
    subtype = fields.String(load_default=None)


class ChecklistSummaryOut(Schema):
    code = fields.String()
    version = fields.Integer()
    industry = fields.String()
    subtypes = fields.List(fields.String())
    title = fields.String()
    status = fields.String()
    content_hash = fields.String()
    item_count = fields.Integer()
    major_count = fields.Integer()
    published_at = ShownTime()


class ChecklistListOut(Schema):
    items = fields.List(fields.Nested(ChecklistSummaryOut))


class ChecklistOut(Schema):
    """The whole template version: sections, items with basis (依据), major flag, answer type,
    check method (检查方法) and evidence rule."""

    code = fields.String()
    version = fields.Integer()
    industry = fields.String()
    subtypes = fields.List(fields.String())
    title = fields.String()
    status = fields.String()
    note = fields.String(allow_none=True)
    content_hash = fields.String()
    published_at = ShownTime()
    withdrawn_at = ShownTime(allow_none=True)
    sources = fields.List(fields.Dict())
    sections = fields.List(fields.Dict())
    items = fields.List(fields.Dict())
