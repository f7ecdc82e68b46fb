"""``/enterprises``: scoped list, read, create and edit."""

from __future__ import annotations

import uuid

from flask import g

from api.auth import authenticated
from api.context import clock, db
from api.inputs import Blueprint
from api.paging import linked_pages
from enterprises import service
from enterprises.schemas import EnterpriseIn, EnterpriseOut, EnterprisePageOut, EnterprisePatch, EnterpriseQuery

blp = Blueprint("enterprises", __name__, url_prefix="/api/v1/enterprises", description="企业（一企一档）")


@blp.route("")
@authenticated
@blp.arguments(EnterpriseQuery, location="query")
@blp.response(200, EnterprisePageOut)
@linked_pages(blp)
def list_enterprises(query):
    """企业列表（按行业、子类、风险等级、网格、区划、名称筛选；分页；仅限可见范围）"""
    page = service.list_enterprises(db(), g.principal, **query)
    return {"items": page.items, "page": page.page, "per_page": page.per_page, "total": page.total}


@blp.route("", methods=["POST"])
@authenticated("desk_officer", "admin")
@blp.arguments(EnterpriseIn)
@blp.response(201, EnterpriseOut)
def create_enterprise(body):
    """登记企业：所在村与网格由位置自动确定"""
    return service.create_enterprise(db(), clock(), g.principal, body)


@blp.route("/<uuid:enterprise_id>")
@authenticated
@blp.etag
@blp.response(200, EnterpriseOut)
def get_enterprise(enterprise_id: uuid.UUID):
    """企业详情"""
    return service.get_enterprise(db(), g.principal, enterprise_id)


@blp.route("/<uuid:enterprise_id>", methods=["PATCH"])
@authenticated("desk_officer", "admin")
@blp.etag
@blp.arguments(EnterprisePatch)
@blp.response(200, EnterpriseOut)
@blp.alt_response(409, description="版本冲突：返回 current")
def update_enterprise(changes, enterprise_id: uuid.UUID):
    """修改企业信息（带 version 乐观锁；移动位置会重新确定所在网格）"""
    blp.check_etag(service.get_enterprise(db(), g.principal, enterprise_id), EnterpriseOut)
    return service.update_enterprise(db(), clock(), g.principal, enterprise_id, changes)
