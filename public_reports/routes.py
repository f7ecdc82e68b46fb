"""``/public/challenge``, ``/public/reports`` (no login) and the desk's ``/public-reports``: thin views."""

from __future__ import annotations

import uuid

from flask import current_app, g, request

from api.auth import authenticated
from api.context import clock, db, services, settings
from api.inputs import Blueprint
from public_reports import challenge, service
from public_reports.schemas import (
    ChallengeOut,
    PublicConfigOut,
    PublicReportIn,
    PublicReportReceipt,
    PublicStatusOut,
    ReportActionIn,
    ReportOut,
    ReportPageOut,
    ReportQuery,
)

public_blp = Blueprint(
    "public_reports_public", __name__, url_prefix="/api/v1/public", description="群众举报（12350，无需登录）"
)
desk_blp = Blueprint(
    "public_reports",
    __name__,
    url_prefix="/api/v1/public-reports",
    description="群众举报的受理、核查、反馈与奖励（内勤）",
)


@public_blp.route("/config")
@public_blp.doc(security=[])
@public_blp.response(200, PublicConfigOut)
def public_config():
    """举报页面的设置：照片限制、每日限量、地图瓦片与范围"""
    return service.public_config(db(), settings(), current_app.config["MAX_CONTENT_LENGTH"])


@public_blp.route("/challenge")
@public_blp.doc(security=[])
@public_blp.response(200, ChallengeOut)
def get_challenge():
    """取得举报验证题目（工作量证明，一次有效）"""
    return challenge.issue_challenge(
        db(), clock(), bits=settings().public_challenge_bits, seconds=settings().public_challenge_seconds
    )


@public_blp.route("/reports", methods=["POST"])
@public_blp.doc(security=[])
@public_blp.arguments(PublicReportIn)
@public_blp.response(201, PublicReportReceipt)
def submit_report(body):
    """提交举报（可匿名）：返回查询码。同一网络地址每天限量；须附验证题目的答案"""
    report = service.submit_report(
        db(), clock(), settings(), services().photo_store, body, request.remote_addr or "unknown"
    )
    return {"code": report.code, "status": report.status, "received_at": report.created_at}


@public_blp.route("/reports/<string:code>")
@public_blp.doc(security=[])
@public_blp.response(200, PublicStatusOut)
def report_status(code: str):
    """凭查询码查询举报的处理状态与结果（不含举报人信息）"""
    return service.public_status(db(), code[:32])


@desk_blp.route("")
@authenticated("desk_officer", "inspector", "grid_worker", "admin")
@desk_blp.arguments(ReportQuery, location="query")
@desk_blp.response(200, ReportPageOut)
def list_reports(query):
    """本辖区（网格）的群众举报；举报人信息仅内勤与管理员可见"""
    page = service.list_reports(db(), g.principal, query)
    return {"items": page.items, "page": page.page, "per_page": page.per_page, "total": page.total}


@desk_blp.route("/<uuid:report_id>")
@authenticated("desk_officer", "inspector", "grid_worker", "admin")
@desk_blp.response(200, ReportOut)
def get_report(report_id: uuid.UUID):
    """一条群众举报"""
    return service.report_view(db(), g.principal, report_id)


@desk_blp.route("/<uuid:report_id>/actions", methods=["POST"])
@authenticated("desk_officer", "admin")
@desk_blp.arguments(ReportActionIn)
@desk_blp.response(200, ReportOut)
def act(body, report_id: uuid.UUID):
    """处理举报：分拣（重复、非安全生产、待核查）、派核查任务、核查结论（关联企业/隐患/案件）、有奖举报"""
    base_version = body.pop("base_version")
    return service.act_on_report(db(), clock(), g.principal, report_id, body, base_version=base_version)
