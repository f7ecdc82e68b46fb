"""``/enterprises``: scoped list, read, create and edit; the import of a list (enterprises/imports.py) and its template."""

from __future__ import annotations

import io
import uuid

from flask import g, send_file

from api.auth import authenticated
from api.context import clock, db
from api.inputs import Blueprint
from api.paging import linked_pages
from enterprises import imports, service
from enterprises.schemas import (
    EnterpriseImportOut,
    EnterpriseImportQuery,
    EnterpriseIn,
    EnterpriseOut,
    EnterprisePageOut,
    EnterprisePatch,
    EnterpriseQuery,
    EnterpriseUploadIn,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

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


@blp.route("/import", methods=["POST"])
@authenticated("desk_officer", "admin")
@blp.arguments(EnterpriseImportQuery, location="query")
@blp.arguments(EnterpriseUploadIn, location="files")
@blp.response(200, EnterpriseImportOut, description="dry_run=true 且全部通过：每行将新登记、更新或不变（未写入）")
@blp.alt_response(201, schema=EnterpriseImportOut, description="已导入：每家企业的 id、所在村与网格")
@blp.alt_response(409, description="enterprise_import.uscc_race：检查之后有人登记了相同的统一社会信用代码")
@blp.alt_response(413, description="enterprise_import.too_large：文件或解压后过大")
@blp.alt_response(
    422,
    description="enterprise_import.invalid：有错误行，什么也没有写入；errors 逐行逐列列出（field 为 "
    "rows.行号.列名），report 为完整报告；enterprise_import.unreadable：不是 xlsx",
)
def import_enterprises(query, files):
    """导入企业名单（一企一档，xlsx）

    全部行通过检查才写入，一个事务；任何一行有错则什么也不写，并逐行列出错误（行号、列、原因）。
    dry_run=true 只检查。所在村与网格由位置确定；所填乡镇、村/社区须与位置相符。只能导入本人辖区内。"""
    upload = files["file"]
    report = imports.import_enterprises(
        db(),
        clock(),
        g.principal,
        upload.read(imports.LAYOUT.max_file_bytes + 1),
        dry_run=query["dry_run"],
        existing=query["existing"],
        crs=query["crs"],
        filename=upload.filename,
    )
    return report.as_dict(), 200 if report.dry_run else 201


@blp.route("/import-template.xlsx")
@authenticated("desk_officer", "admin")
@blp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type=XLSX,
    description="空白导入模板：表头、下拉选项（行业、子类、风险等级、坐标系、本辖区乡镇与村/社区）和填写说明",
)
def get_enterprise_import_template():
    """下载企业名单导入模板（.xlsx）"""
    data = imports.import_template(db(), g.principal)
    return send_file(
        io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="企业名单导入模板.xlsx", max_age=0
    )


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
