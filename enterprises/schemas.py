"""Bodies of the enterprise endpoints."""

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from accounts.schemas import GridRefOut
from core.schemas import PageOut, PageQuery, RowErrorOut
from enterprises.imports import DEFAULT_CRS, EXISTING_MODES
from geo.coords import CRS_VALUES
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


class EnterpriseImportQuery(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "true：只检查，不写入"})
    existing = fields.String(
        load_default="refuse",
        validate=validate.OneOf(EXISTING_MODES),
        metadata={
            "description": "统一社会信用代码已登记时：refuse 报错（默认）；update 按本表更新该企业"
            "（版本号加一、记入审计日志、手机端同步可见；行业不变；与已存内容相同的行不改动）"
        },
    )
    crs = fields.String(
        load_default=DEFAULT_CRS,
        validate=validate.OneOf(CRS_VALUES),
        metadata={
            "description": "表中经纬度的坐标系（行内“坐标系”列优先）：gcj02 高德/腾讯/微信（默认）、"
            "wgs84 GPS/天地图(CGCS2000)、bd09 百度；存储时均换算为 WGS-84"
        },
    )


class EnterpriseUploadIn(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "企业名单 .xlsx（第一张工作表；表头：企业名称、统一社会信用代码、行业、子类、地址、乡镇、村/社区、"
            "经度、纬度（或经纬度）、坐标系、法定代表人、联系人、联系电话、风险等级）"
        },
    )


class ImportedLocationOut(Schema):
    lon = fields.Float()
    lat = fields.Float()


class ImportedEnterpriseOut(Schema):
    row = fields.Integer(metadata={"description": "Excel 中的行号"})
    action = fields.String(
        validate=validate.OneOf(["create", "update", "unchanged"]),
        metadata={"description": "create 新登记；update 更新已登记企业；unchanged 与已存内容相同"},
    )
    id = fields.UUID(allow_none=True, metadata={"description": "企业 id（新登记的在写入后才有）"})
    name = fields.String()
    uscc = fields.String()
    industry = fields.String(validate=validate.OneOf(INDUSTRIES))
    subtype = fields.String()
    risk = fields.String(validate=validate.OneOf(RISK_COLOURS))
    location = fields.Nested(ImportedLocationOut, metadata={"description": "WGS-84（已换算）"})
    town = fields.String(allow_none=True)
    village = fields.String(allow_none=True)
    grid = fields.Nested(GridRefOut, allow_none=True, metadata={"description": "所在网格；不在任何网格内为 null"})
    changed = fields.List(fields.String(), metadata={"description": "update 时改变的字段"})


class EnterpriseImportOut(Schema):
    dry_run = fields.Boolean()
    existing = fields.String(validate=validate.OneOf(EXISTING_MODES))
    crs = fields.String(validate=validate.OneOf(CRS_VALUES))
    rows = fields.Integer(metadata={"description": "数据行数（空行不计）"})
    written = fields.Boolean(metadata={"description": "是否已写入"})
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    errors = fields.List(fields.Nested(RowErrorOut), metadata={"description": "通过时为空"})
    enterprises = fields.List(fields.Nested(ImportedEnterpriseOut))
