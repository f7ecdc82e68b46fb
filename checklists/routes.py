"""``/checklists``: list, latest version, a given version. ETag + If-None-Match → 304, so phones
re-download nothing unchanged."""

from __future__ import annotations

import hashlib

from flask import request

from api.auth import authenticated
from api.context import db
from api.inputs import Blueprint
from checklists import service
from checklists.schemas import ChecklistListOut, ChecklistOut, ChecklistQuery

blp = Blueprint("checklists", __name__, url_prefix="/api/v1/checklists", description="行业检查表模板")


def _not_modified(etag: str):
    """304 when the client already holds this ETag; otherwise None and the caller answers."""
    if request.if_none_match.contains(etag):
        return "", 304, {"ETag": f'"{etag}"'}
    return None


def _version_body(row) -> dict:
    return {
        **row.content,
        "status": row.status,
        "content_hash": row.content_hash,
        "published_at": row.published_at,
        "withdrawn_at": row.withdrawn_at,
    }


@blp.route("")
@authenticated
@blp.arguments(ChecklistQuery, location="query")
@blp.response(200, ChecklistListOut)
@blp.alt_response(304, description="未变化（If-None-Match 命中）")
def list_checklists(query):
    """检查表列表：每个模板的最新已发布版本（可按行业、子类筛选）"""
    items = service.list_latest(db(), industry=query["industry"], subtype=query["subtype"])
    etag = hashlib.sha256(
        "|".join(f"{i['code']}:{i['version']}:{i['content_hash']}:{i['status']}" for i in items).encode()
    ).hexdigest()
    return _not_modified(etag) or ({"items": items}, 200, {"ETag": f'"{etag}"'})


@blp.route("/<code>")
@blp.doc(operationId="getLatestChecklist")
@authenticated
@blp.response(200, ChecklistOut)
@blp.alt_response(304, description="未变化（If-None-Match 命中）")
def latest_checklist(code):
    """模板的最新已发布版本"""
    row = service.get_version(db(), code)
    etag = f"{row.content_hash}-{row.status}"
    return _not_modified(etag) or (_version_body(row), 200, {"ETag": f'"{etag}"'})


@blp.route("/<code>/versions/<int:version>")
@blp.doc(operationId="getChecklistVersion")
@authenticated
@blp.response(200, ChecklistOut)
@blp.alt_response(304, description="未变化（If-None-Match 命中）")
def checklist_version(code, version):
    """模板的指定版本（已撤回的版本仍可读取）"""
    row = service.get_version(db(), code, version)
    etag = f"{row.content_hash}-{row.status}"
    return _not_modified(etag) or (_version_body(row), 200, {"ETag": f'"{etag}"'})
