"""``/stats/monthly``, ``/hazards/export.xlsx``, ``/reports/riskmap.geojson``: thin views over reports/."""

from __future__ import annotations

from flask import Response, g, json, stream_with_context

from api.auth import authenticated
from api.context import clock, db, needs_transaction
from api.downloads import attachment
from api.inputs import Blueprint
from core.errors import FieldError, ValidationFailed
from core.serialize import jsonable
from reports import ledger, riskmap
from reports.schemas import LedgerExportQuery, MonthlyStatsOut, MonthlyStatsQuery, RiskMapQuery
from reports.service import monthly_stats, visible_region

OFFICERS = ("desk_officer", "inspector", "admin")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GEOJSON = "application/geo+json"

stats_blp = Blueprint("stats", __name__, url_prefix="/api/v1/stats", description="月度统计（月排名、月通报）")
# Beside the ledger's own blueprint: the same path prefix, routed apart from /hazards/<uuid>.
ledger_export_blp = Blueprint(
    "hazard_ledger_export", __name__, url_prefix="/api/v1/hazards", description="隐患台账导出"
)
reports_blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="专题图表")


@stats_blp.route("/monthly")
@stats_blp.doc(operationId="getMonthlyStats")
@authenticated(*OFFICERS)
@stats_blp.arguments(MonthlyStatsQuery, location="query")
@stats_blp.response(200, MonthlyStatsOut)
def monthly(query):
    """月度统计：检查、隐患、整改销号率、逾期、重大隐患、巡查覆盖率与下级排名（本人辖区内）"""
    return monthly_stats(db(), clock(), g.principal, query["region"], query["month"])


@ledger_export_blp.route("/export.xlsx")
@needs_transaction  # the rows come through a server-side cursor, which lives in a transaction
@authenticated
@ledger_export_blp.arguments(LedgerExportQuery, location="query")
@ledger_export_blp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type=XLSX,
    description="Excel 隐患台账：中文表头、冻结首行、日期为日期格式；边生成边发送（分块传输，无 Content-Length）",
)
def export_ledger(query):
    """导出隐患台账（.xlsx），筛选条件与 GET /hazards 相同，导出全部符合条件的隐患"""
    described = {key: value for key, value in jsonable(query).items() if value not in (None, [], "")}
    workbook = ledger.ledger_workbook(clock(), g.principal, described)
    # Sent as it is written: the request's session (and its cursor) lives until the last row is sent.
    chunks = workbook.chunks(ledger.ledger_rows(db(), clock(), g.principal, query))
    day = clock().now().astimezone(ledger.SHANGHAI).strftime("%Y%m%d")
    return Response(
        stream_with_context(chunks),
        mimetype=XLSX,
        headers={"Content-Disposition": attachment(f"隐患台账_{day}.xlsx"), "Cache-Control": "no-cache"},
    )


@reports_blp.route("/riskmap.geojson")
@reports_blp.doc(operationId="getRiskMap")
@authenticated(*OFFICERS)
@reports_blp.arguments(RiskMapQuery, location="query")
@reports_blp.response(
    200,
    {"$ref": "#/components/schemas/FeatureCollection"},
    content_type=GEOJSON,
    description="GeoJSON FeatureCollection（WGS-84），QGIS 可直接打开",
)
def risk_map(query):
    """四色安全风险空间分布图：乡镇（或区县）的网格与企业及其风险等级"""
    region = visible_region(db(), g.principal, query["region"])
    if region.level == "village":
        raise ValidationFailed(errors=[FieldError("riskmap.region_level", "region", "请选择乡镇（街道）或区县")])
    document = riskmap.risk_map(db(), region, query["layer"])
    return Response(json.dumps(document, ensure_ascii=False), mimetype=GEOJSON)
