"""The audit trail's query and answer."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import PageOut, PageQuery
from core.times import ShownTime
from trails.service import AUDITED


class TrailQuery(PageQuery):
    entity = fields.String(
        required=True,
        validate=validate.OneOf(list(AUDITED)),
        metadata={"description": "记录种类（audit_log.entity）"},
    )
    entity_id = fields.UUID(required=True, metadata={"description": "记录的 id"})


class ActorOut(Schema):
    id = fields.UUID()
    name = fields.String()
    username = fields.String()
    roles = fields.List(fields.String(), metadata={"description": "现在的角色（不是操作当时的）"})


class TrailEntryOut(Schema):
    id = fields.Integer()
    at = ShownTime()
    action = fields.String(metadata={"description": "操作，如 report、order、create、update、assign_workers"})
    actor = fields.Nested(ActorOut, allow_none=True, metadata={"description": "操作人；null 为系统或命令行"})
    device_id = fields.String(allow_none=True, metadata={"description": "操作所用设备"})
    summary = fields.Dict(metadata={"description": "操作摘要，按记录时原样"})


class TrailPageOut(PageOut):
    items = fields.List(fields.Nested(TrailEntryOut))
