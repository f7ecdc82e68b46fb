"""Payloads of public reports: what anyone may send, what the reporter sees, what the desk sends and sees."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import PageOut, PageQuery
from core.times import AcceptedTime, ShownTime
from geo.location import LocationIn, LocationOut
from public_reports.models import REPORT_STATUSES
from public_reports.service import ACTIONS


class ChallengeOut(Schema):
    challenge = fields.String()
    bits = fields.Integer(metadata={"description": "SHA-256(challenge + ':' + nonce) 须以这么多个 0 位开头"})
    expires_at = ShownTime()
    how = fields.String()


class MapBoundsOut(Schema):
    west = fields.Float()
    south = fields.Float()
    east = fields.Float()
    north = fields.Float()


class PublicMapOut(Schema):
    tile_url = fields.String(
        allow_none=True,
        metadata={
            "description": "地图瓦片地址模板（{z}/{x}/{y}）；未设置则为 null：页面以空白底图、定位和文字地址代替"
        },
    )
    attribution = fields.String()
    bounds = fields.Nested(MapBoundsOut, allow_none=True, metadata={"description": "本系统区县的范围（WGS-84）"})


class PublicConfigOut(Schema):
    max_photos = fields.Integer(metadata={"description": "每条举报最多照片数"})
    max_photo_bytes = fields.Integer(metadata={"description": "每张照片最大字节数（同工作人员上传）"})
    max_photo_pixels = fields.Integer(metadata={"description": "每张照片最多像素"})
    max_request_bytes = fields.Integer(
        metadata={"description": "一次提交的最大字节数（照片以 base64 计，约为原大小的 4/3）"}
    )
    reports_per_day = fields.Integer(metadata={"description": "同一网络地址每天最多举报条数"})
    challenge_bits = fields.Integer()
    map = fields.Nested(PublicMapOut)


class PublicReportIn(Schema):
    challenge = fields.String(
        required=True,
        validate=validate.Length(max=200),
        metadata={"description": "GET /public/challenge 取得，一次有效"},
    )
    nonce = fields.String(required=True, validate=validate.Length(min=1, max=64))
    what = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "举报内容（纯文本，任何地方都不会作为 HTML 显示）"},
    )
    place = fields.String(load_default="", validate=validate.Length(max=200), metadata={"description": "地点描述"})
    location = fields.Nested(LocationIn, required=True)
    photos = fields.List(
        fields.String(),
        load_default=list,
        validate=validate.Length(max=10),
        metadata={"description": "照片，base64 编码的 JPEG/PNG/HEIC，张数与大小限制同工作人员上传"},
    )
    name = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=50),
        metadata={"description": "举报人姓名（可匿名）"},
    )
    phone = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9+\- ]{5,20}$", error="电话号码格式不正确")
    )


class PublicReportReceipt(Schema):
    code = fields.String(metadata={"description": "查询码：凭此查询处理进度"})
    status = fields.String()
    received_at = ShownTime()


class PublicStatusOut(Schema):
    code = fields.String()
    status = fields.String()
    status_label = fields.String()
    outcome = fields.String(metadata={"description": "处理结果（不含任何举报人信息）"})
    received_at = ShownTime()
    updated_at = ShownTime()


class ReporterOut(Schema):
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    client_address = fields.String()


class ReportOut(Schema):
    id = fields.UUID()
    code = fields.String()
    what = fields.String()
    place = fields.String()
    location = fields.Nested(LocationOut, allow_none=True)
    region_code = fields.String(allow_none=True)
    grid_id = fields.UUID(allow_none=True)
    photos = fields.List(fields.String())
    status = fields.String()
    status_label = fields.String()
    duplicate_of = fields.UUID(allow_none=True)
    desk_note = fields.String()
    assigned_to = fields.UUID(allow_none=True)
    task_id = fields.UUID(allow_none=True)
    enterprise_id = fields.UUID(allow_none=True)
    hazard_id = fields.UUID(allow_none=True)
    case_ref = fields.String(allow_none=True)
    outcome = fields.String()
    reward_amount = fields.Decimal(as_string=True, allow_none=True)
    reward_paid = fields.Boolean()
    reward_paid_at = ShownTime(allow_none=True)
    reporter = fields.Nested(ReporterOut, metadata={"description": "举报人：仅本辖区内勤与管理员可见"})
    created_at = ShownTime()
    updated_at = ShownTime()
    version = fields.Integer()


class ReportPageOut(PageOut):
    items = fields.List(fields.Nested(ReportOut))


class ReportQuery(PageQuery):
    status = fields.List(fields.String(validate=validate.OneOf(REPORT_STATUSES)), load_default=None)
    reward = fields.Boolean(load_default=None, metadata={"description": "已定奖励的举报"})


class ReportActionIn(Schema):
    """triage（decision: duplicate / not_safety / to_verify）、assign（核查任务）、conclude（result:
    verified / unfounded，关联企业、隐患或案件）、reward（有奖举报：amount, paid）."""

    action = fields.String(required=True, validate=validate.OneOf(list(ACTIONS)))
    base_version = fields.Integer(required=True)
    decision = fields.String(load_default=None, allow_none=True)
    duplicate_of = fields.UUID(load_default=None, allow_none=True)
    assignee_id = fields.UUID(load_default=None, allow_none=True)
    due = AcceptedTime(load_default=None, allow_none=True)
    result = fields.String(load_default=None, allow_none=True)
    enterprise_id = fields.UUID(load_default=None, allow_none=True)
    hazard_id = fields.UUID(load_default=None, allow_none=True)
    case_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    outcome = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={"description": "告知举报人的处理结果（凭查询码公开可见）"},
    )
    amount = fields.Decimal(
        load_default=None,
        allow_none=True,
        places=2,
        metadata={"description": "奖励金额（元），大于 0、不超过 1,000,000"},
    )
    paid = fields.Boolean(load_default=False)
    note = fields.String(load_default="", validate=validate.Length(max=5000), metadata={"description": "内部备注"})
