"""Bodies of the case endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cases.models import CASE_STATUSES, PROCEDURES
from cases.service import TRANSITIONS
from core.schemas import Money, PageOut, PageQuery


class CaseIn(Schema):
    id = fields.UUID(load_default=None)
    procedure = fields.String(
        required=True,
        validate=validate.OneOf(PROCEDURES),
        metadata={"description": "simple 简易程序（当场决定）| general 一般程序（立案）"},
    )
    enterprise_id = fields.UUID(required=True)
    inspection_ids = fields.List(fields.UUID(), load_default=list)
    hazard_ids = fields.List(fields.UUID(), load_default=list)
    officers = fields.List(fields.UUID(), required=True, metadata={"description": "办案执法人员（不少于两人）"})
    facts = fields.String(
        required=True, validate=validate.Length(min=1, max=5000), metadata={"description": "违法事实"}
    )
    violated = fields.String(
        required=True, validate=validate.Length(min=1, max=1000), metadata={"description": "违反的规定"}
    )
    penalty_basis = fields.String(
        load_default=None, validate=validate.Length(max=1000), metadata={"description": "处罚依据"}
    )
    penalty = fields.String(load_default=None, validate=validate.Length(max=1000), metadata={"description": "处罚内容"})
    amount = fields.Decimal(
        load_default=None, places=2, validate=validate.Range(min=0), as_string=False, metadata={"minimum": 0}
    )  # apispec would print the bound as the string "0.00"


class CaseTransitionIn(Schema):
    action = fields.String(
        required=True,
        validate=validate.OneOf(tuple(TRANSITIONS)),
        metadata={"description": "investigate 调查取证 | notify 告知 | decide 决定 | execute 执行 | close 结案"},
    )
    base_version = fields.Integer(required=True)
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    hearing_offered = fields.Boolean(load_default=False, metadata={"description": "告知时：告知听证权利"})
    waived = fields.Boolean(load_default=False, metadata={"description": "决定时：当事人放弃陈述申辩和听证"})
    hearing_held = fields.Boolean(load_default=False)
    penalty_basis = fields.String(load_default=None, validate=validate.Length(max=1000))
    penalty = fields.String(load_default=None, validate=validate.Length(max=1000))
    amount = fields.Decimal(
        load_default=None, places=2, validate=validate.Range(min=0), as_string=False, metadata={"minimum": 0}
    )  # apispec would print the bound as the string "0.00"


class CaseQuery(PageQuery):
    status = fields.String(load_default=None, validate=validate.OneOf(CASE_STATUSES))
    enterprise_id = fields.UUID(load_default=None)
    hazard_id = fields.UUID(load_default=None, metadata={"description": "该隐患引起的案件"})


class CaseOut(Schema):
    id = fields.UUID()
    number = fields.String(
        allow_none=True, metadata={"description": "案件编号（立案审批表文号；简易程序为决定书文号）"}
    )
    procedure = fields.String()
    status = fields.String()
    enterprise_id = fields.UUID()
    enterprise_name = fields.String()
    inspection_ids = fields.List(fields.UUID())
    hazard_ids = fields.List(fields.UUID())
    facts = fields.String()
    violated = fields.String()
    penalty_basis = fields.String()
    penalty = fields.String()
    amount = Money()
    deadlines = fields.Dict(
        metadata={
            "description": "decision 决定期限, statement 陈述申辩期限, hearing_request 听证申请期限, payment 缴款期限"
        }
    )
    overdue = fields.List(fields.String())
    hearing_requested = fields.Boolean()
    opened_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    opened_by = fields.UUID()
    officer_ids = fields.List(fields.UUID())
    version = fields.Integer()
    events = fields.List(fields.Dict())
    people = fields.Dict()


class CasePageOut(PageOut):
    items = fields.List(fields.Nested(CaseOut))
