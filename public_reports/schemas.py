"""Payloads of public reports: what anyone may send, what the reporter sees, what the desk sends and sees."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import PageOut, PageQuery
from geo.location import LocationIn, LocationOut
from core.times import AcceptedTime
from public_reports.models import REPORT_STATUSES
from public_reports.service import ACTIONS


class ChallengeOut(Schema):
    challenge = fields.String()
    bits = fields.Integer(metadata={"description": "SHA-256(challenge + ':' + nonce) 须以这么多个 0 位开头"})
    expires_at = fields.DateTime()
    how = fields.String()


class PublicReportIn(Schema):
    challenge = fields.String(required=True, validate=validate.Length(max=200),
                              metadata={"description": "GET /public/challenge 取得，一次有效"})
    nonce = fields.String(required=True, validate=validate.Length(min=1, max=64))
    what = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                         metadata={"description": "举报内容（纯文本，任何地方都不会作为 HTML 显示）"})
    place = fields.String(load_default="", validate=validate.Length(max=200), metadata={"description": "地点描述"})
    location = fields.Nested(LocationIn, required=True)
    photos = fields.List(fields.String(), load_default=list, validate=validate.Length(max=10), metadata={
        "description": "照片，base64 编码的 JPEG/PNG/HEIC，张数与大小限制同工作人员上传"})
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50),
                         metadata={"description": "举报人姓名（可匿名）"})
    phone = fields.String(load_default=None, allow_none=True,
                          validate=validate.Regexp(r"^[0-9+\- ]{5,20}$", error="电话号码格式不正确"))


class PublicReportReceipt(Schema):
    code = fields.String(metadata={"description": "查询码：凭此查询处理进度"})
    status = fields.String()
    received_at = fields.DateTime()


class PublicStatusOut(Schema):
    code = fields.String()
    status = fields.String()
    status_label = fields.String()
    outcome = fields.String(metadata={"description": "处理结果（不含任何举报人信息）"})
    received_at = fields.DateTime()
    updated_at = fields.DateTime()


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
    reward_paid_at = fields.DateTime(allow_none=True)
    reporter = fields.Nested(ReporterOut, metadata={"description": "举报人：仅本辖区内勤与管理员可见"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
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
    outcome = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                            metadata={"description": "告知举报人的处理结果（凭查询码公开可见）"})
    amount = fields.Decimal(load_default=None, allow_none=True, places=2,
                            metadata={"description": "奖励金额（元），大于 0、不超过 1,000,000"})
    paid = fields.Boolean(load_default=False)
    note = fields.String(load_default="", validate=validate.Length(max=5000), metadata={"description": "内部备注"})
