"""Request and response bodies of login, logout, device revocation and the people directory."""
from marshmallow import Schema, fields, validate

from accounts.models import ROLES
from core.schemas import PageOut, PageQuery
from core.times import ShownTime


class DeviceIn(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    platform = fields.String(load_default=None, validate=validate.Length(max=64))
    app_version = fields.String(load_default=None, validate=validate.Length(max=64))


class LoginIn(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    device = fields.Nested(DeviceIn, required=True)


class UserOut(Schema):
    id = fields.UUID()
    name = fields.String()
    username = fields.String()
    roles = fields.List(fields.String())
    region_code = fields.String()
    enterprise_id = fields.UUID(allow_none=True)
    enforcement_cert_no = fields.String(allow_none=True)


class LoginOut(Schema):
    token = fields.String()
    expires_at = ShownTime()
    user = fields.Nested(UserOut)
    device_id = fields.String()


class DeviceOut(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    platform = fields.String(allow_none=True)
    revoked_at = ShownTime(allow_none=True)


class PeopleQuery(PageQuery):
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    region = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{12}$"),
                           metadata={"description": "12 位区划代码：该区划（含下级）的人员"})
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=100), metadata={"description": "姓名包含"})


class PersonRegionOut(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String()


class EnforcementCertOut(Schema):
    number = fields.String(metadata={"description": "执法证号"})
    valid_until = fields.Date(allow_none=True, metadata={"description": "有效期至（未登记则为 null）"})
    valid = fields.Boolean(metadata={"description": "今日是否有效"})


class PersonOut(Schema):
    id = fields.UUID()
    name = fields.String()
    roles = fields.List(fields.String())
    region = fields.Nested(PersonRegionOut)
    enforcement_cert = fields.Nested(EnforcementCertOut, allow_none=True, metadata={"description": "执法人员的执法证"})
    active = fields.Boolean()


class PersonPageOut(PageOut):
    items = fields.List(fields.Nested(PersonOut))


class PersonRefOut(Schema):
    """A person a record names, as reads show them beside the ids (``people``: id → this)."""

    name = fields.String()
    enforcement_cert_no = fields.String(allow_none=True, metadata={"description": "执法证号（执法人员）"})


def people_field():
    return fields.Dict(keys=fields.String(), values=fields.Nested(PersonRefOut), metadata={
        "description": "记录中出现的人员：用户 id → 姓名与执法证号"})
