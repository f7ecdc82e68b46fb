"""Regions (``/regions/{code}``, coverage, boundary import) and grids (``/grids``, ``/grids/{id}``,
retiring, worker assignment). Thin: parse, call the domain function, shape the answer."""

from __future__ import annotations

import uuid

from flask import g

from api.auth import authenticated
from api.context import clock, db, settings
from api.inputs import Blueprint
from api.paging import linked_pages
from grids import boundaries, coverage, drawing, service
from grids.schemas import (
    CoverageOut,
    CoverageQuery,
    FeatureCollectionIn,
    GridChangeOut,
    GridCollectionOut,
    GridFeatureOut,
    GridIn,
    GridPatch,
    GridQuery,
    GridRetiredOut,
    GridRetireQuery,
    RegionImportOut,
    RegionImportQuery,
    RegionOut,
    WorkersIn,
    WorkersOut,
)

regions_blp = Blueprint("regions", __name__, url_prefix="/api/v1/regions", description="行政区划")
grids_blp = Blueprint("grids", __name__, url_prefix="/api/v1/grids", description="网格")


@regions_blp.route("/import", methods=["POST"])
@authenticated("desk_officer", "admin")
@regions_blp.arguments(RegionImportQuery, location="query")
@regions_blp.arguments(FeatureCollectionIn)
@regions_blp.response(200, RegionImportOut)
@regions_blp.alt_response(
    422,
    description="有要素未通过检查（未使用 partial=true）：problem+json，"
    "errors 逐个列出，report 为完整的导入报告；什么也没有写入",
)
def import_regions(query, collection):
    """导入乡镇、村边界（GeoJSON FeatureCollection）

    只能导入本人辖区以下的区划；同一文件重复导入不会改变任何数据（报告为 unchanged）。
    无效边界按要素拒绝并说明原因，只有无损修复（自接触、毛刺、环方向）才自动修复并在 repaired 中列出。
    村界变化后，相关企业的所在村与网格随之重新确定。"""
    report = boundaries.import_boundaries(
        db(), clock(), g.principal, collection, partial=query["partial"], crs=query["crs"]
    )
    return report.as_dict()


@regions_blp.route("/<code>")
@authenticated
@regions_blp.response(200, RegionOut)
def get_region(code):
    """区划：名称、层级、边界与下级"""
    return service.get_region(db(), g.principal, code)


@regions_blp.route("/<code>/coverage")
@authenticated("desk_officer", "inspector", "admin")
@regions_blp.arguments(CoverageQuery, location="query")
@regions_blp.response(200, CoverageOut)
def get_coverage(query, code):
    """乡镇网格覆盖情况：空白区、重叠区、覆盖比例、无网格的村、无网格员的网格、网格外企业

    code 须为乡镇/街道代码。空白与重叠以 GeoJSON 多边形给出，面积为椭球面平方米。"""
    return coverage.coverage_report(db(), g.principal, code, min_area_m2=query["min_area_m2"])


@grids_blp.route("")
@authenticated
@grids_blp.arguments(GridQuery, location="query")
@grids_blp.response(200, GridCollectionOut)
@linked_pages(grids_blp)
def list_grids(query):
    """网格列表（GeoJSON FeatureCollection，分页）"""
    page = service.list_grids(
        db(),
        g.principal,
        region_code=query["region"],
        worker_id=query["worker_id"],
        retired=query["retired"],
        page=query["page"],
        per_page=query["per_page"],
    )
    return {
        "type": "FeatureCollection",
        "features": page.items,
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
    }


@grids_blp.route("", methods=["POST"])
@authenticated("desk_officer", "admin")
@grids_blp.arguments(GridIn)
@grids_blp.response(201, GridChangeOut)
def create_grid(body):
    """新建网格：以一个村、多个村合并、拆分一个村，或直接绘制

    villages、split、geometry 三者给出其一。网格须位于一个乡镇之内（422 geo.outside_town）。
    拆分时给出 rest_name，则该村其余部分同时建为第二个网格（rest），无须另行计算。
    replaces 列出被取代的网格（如合并前各村的网格）：它们在同一请求中撤销（见 DELETE /grids/{id}）。
    建成后，其范围内企业的所在网格随之更新（placement：本请求改变了所在网格的企业数）。"""
    return drawing.create_grid(db(), clock(), g.principal, body, max_vertices=settings().max_geometry_vertices)


@grids_blp.route("/<uuid:grid_id>")
@authenticated
@grids_blp.etag
@grids_blp.response(200, GridFeatureOut)
def get_grid(grid_id: uuid.UUID):
    """单个网格（GeoJSON Feature）"""
    return service.get_grid(db(), g.principal, grid_id)


@grids_blp.route("/<uuid:grid_id>", methods=["PATCH"])
@authenticated("desk_officer", "admin")
@grids_blp.etag
@grids_blp.arguments(GridPatch)
@grids_blp.response(200, GridChangeOut)
@grids_blp.alt_response(409, description="版本冲突：problem+json 附 current（最新的网格）")
def update_grid(changes, grid_id: uuid.UUID):
    """修改网格名称或边界（带 version 乐观锁）

    新边界须在原乡镇之内；新旧边界范围内的企业及原属该网格的企业随之重新确定所在网格。"""
    grids_blp.check_etag(service.get_grid(db(), g.principal, grid_id), GridFeatureOut)
    changed = drawing.update_grid(
        db(), clock(), g.principal, grid_id, changes, max_vertices=settings().max_geometry_vertices
    )
    grids_blp.set_etag(changed, GridFeatureOut)  # the tag a GET of the grid now answers
    return changed


@grids_blp.route("/<uuid:grid_id>", methods=["DELETE"])
@authenticated("desk_officer", "admin")
@grids_blp.etag
@grids_blp.arguments(GridRetireQuery, location="query")
@grids_blp.response(200, GridRetiredOut)
@grids_blp.alt_response(409, description="geo.grid_retired：已撤销；或 version 已过期（附 current）")
def retire_grid(query, grid_id: uuid.UUID):
    """撤销网格（网格合并、拆分之后）

    网格记录保留（properties.retired_at，引用它的检查、隐患、巡查不变），不再出现在网格列表（retired=true 时列出）、
    覆盖情况和风险图中；其网格员全部撤下（任免记录保留）；原属该网格的企业按位置重新确定所在网格；
    手机端同步时该网格以 delete 下发。合并或拆分时也可在 POST /grids 中用 replaces 一并撤销。"""
    grids_blp.check_etag(service.get_grid(db(), g.principal, grid_id), GridFeatureOut)
    return drawing.retire_grid(db(), clock(), g.principal, grid_id, query["version"])


@grids_blp.route("/<uuid:grid_id>/workers")
@authenticated
@grids_blp.response(200, WorkersOut)
def get_workers(grid_id: uuid.UUID):
    """网格员：当前在岗名单与任免记录"""
    return drawing.grid_workers(db(), g.principal, grid_id)


@grids_blp.route("/<uuid:grid_id>/workers", methods=["PUT"])
@authenticated("desk_officer", "admin")
@grids_blp.arguments(WorkersIn)
@grids_blp.response(200, WorkersOut)
@grids_blp.alt_response(409, description="给出的 version 已过期")
def put_workers(body, grid_id: uuid.UUID):
    """设定网格的网格员（整体替换；保留谁在何时任免了谁）"""
    return drawing.set_workers(db(), clock(), g.principal, grid_id, body["worker_ids"], body["version"])
