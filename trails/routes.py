"""``/audit``: the audit trail (操作记录) of one record, for admins and desk officers."""

from __future__ import annotations

from flask import g

from api.auth import authenticated
from api.context import db
from api.inputs import Blueprint
from api.paging import linked_pages
from trails import service
from trails.schemas import TrailPageOut, TrailQuery

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="操作记录（审计日志）")


@blp.route("")
@authenticated("desk_officer", "admin")
@blp.arguments(TrailQuery, location="query")
@blp.response(200, TrailPageOut)
@blp.alt_response(404, description="not_found：记录不存在或不在您的范围内")
@linked_pages(blp)
def list_audit_trail(query):
    """一条记录的操作记录：谁、何时、用哪台设备、做了什么（按时间先后，分页）；仅管理员与内勤，且须能看到该记录"""
    page = service.list_trail(db(), g.principal, **query)
    return {"items": page.items, "page": page.page, "per_page": page.per_page, "total": page.total}
