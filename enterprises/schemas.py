"""Bodies of the enterprise endpoints."""

from marshmallow import Schema, fields, validate

from core.schemas import PageOut, PageQuery
from geo.location import LocationIn, LocationOut
from core.times import AcceptedDate, ShownTime
from enterprises.models import INDUSTRIES, RISK_COLOURS


class LicenceSchema(Schema):
    kind = fields.String(required=True, validate=validate.Length(min=1, max=100))
    number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    valid_until = AcceptedDate(load_default=None, allow_none=True)


class EnterpriseQuery(PageQuery):
    industry = fields.String(load_default=None, validate=validate.OneOf(INDUSTRIES))
    subtype = fields.String(load_default=None)
    risk = fields.String(load_default=None, validate=validate.OneOf(RISK_COLOURS))
    grid_id = fields.UUID(load_default=None)
    region = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{12}$"),
        metadata={"description": "12 位区划代码：该区划（含下级）内的企业"},
    )
    outside_grids = fields.Boolean(load_default=None, metadata={"description": "true: 只列出不在任何网格内的企业"})
    q = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "名称或统一社会信用代码包含的文字"},
    )


class EnterpriseIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    uscc = fields.String(required=True, metadata={"description": "统一社会信用代码（18 位，含校验码）"})
    industry = fields.String(required=True, validate=validate.OneOf(INDUSTRIES))
    subtype = fields.String(required=True, validate=validate.Length(min=1, max=32))
    address = fields.String(load_default="", validate=validate.Length(max=500))
    risk = fields.String(required=True, validate=validate.OneOf(RISK_COLOURS))
    location = fields.Nested(LocationIn, required=True)
    licences = fields.List(fields.Nested(LicenceSchema), load_default=list)
    legal_representative = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=100),
        metadata={"description": "法定代表人（负责人）"},
    )
    contact_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    contact_phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))


class EnterprisePatch(Schema):
    version = fields.Integer(required=True, metadata={"description": "乐观锁：客户端看到的版本号"})
    name = fields.String(validate=validate.Length(min=1, max=200))
    subtype = fields.String(validate=validate.Length(min=1, max=32))
    address = fields.String(validate=validate.Length(max=500))
    risk = fields.String(validate=validate.OneOf(RISK_COLOURS))
    location = fields.Nested(LocationIn)
    licences = fields.List(fields.Nested(LicenceSchema))
    legal_representative = fields.String(allow_none=True, validate=validate.Length(max=100))
    contact_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    contact_phone = fields.String(allow_none=True, validate=validate.Length(max=32))


class EnterpriseOut(Schema):
    id = fields.UUID()
    name = fields.String()
    uscc = fields.String()
    industry = fields.String()
    subtype = fields.String()
    address = fields.String()
    risk = fields.String()
    location = fields.Nested(LocationOut)
    licences = fields.List(fields.Dict())
    legal_representative = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    grid_id = fields.UUID(allow_none=True)
    version = fields.Integer()
    updated_at = ShownTime()


class EnterprisePageOut(PageOut):
    items = fields.List(fields.Nested(EnterpriseOut))
