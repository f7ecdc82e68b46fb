"""Request and response bodies of login, logout and device revocation."""
from marshmallow import Schema, fields, validate


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
    expires_at = fields.DateTime()
    user = fields.Nested(UserOut)
    device_id = fields.String()


class DeviceOut(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    platform = fields.String(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
