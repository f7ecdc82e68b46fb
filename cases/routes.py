"""``/cases``: 行政处罚 cases, thin views over cases.service (a step with its documents: documents.service)."""

from __future__ import annotations

import uuid

from flask import g

from api.auth import authenticated
from api.context import clock, db, services, settings
from api.inputs import Blueprint
from cases import service
from cases.schemas import CaseIn, CaseOut, CasePageOut, CaseQuery, CaseTransitionIn
from documents.service import Issuer, open_case_with_documents, transition_case_with_documents

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases", description="行政处罚案件")


@blp.route("")
@authenticated
@blp.arguments(CaseQuery, location="query")
@blp.response(200, CasePageOut)
def list_cases(query):
    """行政处罚案件列表"""
    page = service.list_cases(db(), clock(), g.principal, **query)
    return {"items": page.items, "page": page.page, "per_page": page.per_page, "total": page.total}


@blp.route("", methods=["POST"])
@authenticated(*service.OFFICERS)
@blp.arguments(CaseIn)
@blp.response(201, CaseOut)
def open_case(body):
    """立案（一般程序，出具立案审批表）或当场作出处罚决定（简易程序，出具行政处罚决定书）"""
    case = open_case_with_documents(
        db(), clock(), g.principal, body, issuer=Issuer.of(settings(), services().photo_store)
    )
    return service.case_view(db(), clock(), g.principal, case.id)


@blp.route("/<uuid:case_id>")
@authenticated
@blp.response(200, CaseOut)
def get_case(case_id: uuid.UUID):
    """行政处罚案件（含办理记录）"""
    return service.case_view(db(), clock(), g.principal, case_id)


@blp.route("/<uuid:case_id>/transitions", methods=["POST"])
@authenticated(*service.OFFICERS)
@blp.arguments(CaseTransitionIn)
@blp.response(200, CaseOut)
def transition_case(body, case_id: uuid.UUID):
    """案件办理：调查取证 → 告知（出具行政处罚告知书，告知听证时另出具听证告知书）→ 决定（出具行政处罚决定书）→ 执行 → 结案（出具结案审批表）"""
    transition_case_with_documents(
        db(), clock(), g.principal, case_id, body, issuer=Issuer.of(settings(), services().photo_store)
    )
    return service.case_view(db(), clock(), g.principal, case_id)
