"""Regions (``/regions/{code}``) and grids (``/grids``, ``/grids/{id}``)."""
from __future__ import annotations

import uuid

from flask import g
from flask_smorest import Blueprint

from api.auth import authenticated
from api.context import db
from geo import service
from geo.schemas import GridCollectionOut, GridFeatureOut, GridQuery, RegionOut

regions_blp = Blueprint("regions", __name__, url_prefix="/api/v1/regions", description="行政区划")
grids_blp = Blueprint("grids", __name__, url_prefix="/api/v1/grids", description="网格")


@regions_blp.route("/<code>")
@authenticated
@regions_blp.response(200, RegionOut)
def get_region(code):
    """区划：名称、层级、边界与下级"""
    return service.get_region(db(), g.principal, code)


@grids_blp.route("")
@authenticated
@grids_blp.arguments(GridQuery, location="query")
@grids_blp.response(200, GridCollectionOut)
def list_grids(query):
    """网格列表（GeoJSON FeatureCollection，分页）"""
    page = service.list_grids(db(), g.principal, region_code=query["region"], worker_id=query["worker_id"],
                              page=query["page"], per_page=query["per_page"])
    return {"type": "FeatureCollection", "features": page.items, "page": page.page,
            "per_page": page.per_page, "total": page.total}


@grids_blp.route("/<uuid:grid_id>")
@authenticated
@grids_blp.response(200, GridFeatureOut)
def get_grid(grid_id: uuid.UUID):
    """单个网格（GeoJSON Feature）"""
    return service.get_grid(db(), g.principal, grid_id)
