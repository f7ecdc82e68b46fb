"""Regions and grids: scoped reads, and placing enterprises in their village and grid by location.

Geometry leaves the database as GeoJSON built by PostGIS (``ST_AsGeoJSON``)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Numeric, Select, cast, func, select, text
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.orm import Session, aliased

from accounts.models import User
from accounts.principal import Principal
from core.errors import NotFound
from core.times import shown_in_sql
from db.pagination import Page, paginate
from geo.geometry import area_m2
from geo.models import Grid, GridAssignment, GridVillage, Region

GEOJSON_DIGITS = 7  # ≈1 cm: enough for boundaries, half the bytes of full precision


def geojson(column):
    return cast(func.ST_AsGeoJSON(column, GEOJSON_DIGITS), JSONB)


def get_region(session: Session, principal: Principal, code: str) -> dict:
    parent = aliased(Region)
    row = session.execute(
        select(Region.id, Region.code, Region.name, Region.level, func.ltree2text(Region.path).label("path"), parent.code.label("parent_code"),
               geojson(Region.geometry).label("geometry"),
               area_m2(Region.geometry).label("area_m2"))
        .outerjoin(parent, parent.id == Region.parent_id)
        .where(Region.code == code, principal.region_visible_filter(Region))
    ).one_or_none()
    if row is None:
        raise NotFound("行政区划不存在")
    children = session.execute(
        select(Region.code, Region.name, Region.level)
        .where(Region.parent_id == row.id, principal.region_visible_filter(Region))
        .order_by(Region.code)).all()
    return {"code": row.code, "name": row.name, "level": row.level, "path": row.path,
            "parent_code": row.parent_code, "geometry": row.geometry, "area_m2": row.area_m2,
            "children": [dict(c._mapping) for c in children]}


def _grid_feature_select(principal: Principal) -> Select:
    """One row per grid: a GeoJSON Feature assembled by the database, workers and villages included."""
    town = aliased(Region)
    workers = (select(func.coalesce(func.jsonb_agg(aggregate_order_by(
        func.jsonb_build_object("id", User.id, "name", User.name, "username", User.username), User.username)),
        text("'[]'::jsonb")))
        .select_from(GridAssignment).join(User, User.id == GridAssignment.user_id)
        .where(GridAssignment.grid_id == Grid.id, GridAssignment.ended_at.is_(None))
        .scalar_subquery())
    villages = (select(func.coalesce(func.jsonb_agg(aggregate_order_by(Region.code, Region.code)),
                                     text("'[]'::jsonb")))
                .select_from(GridVillage).join(Region, Region.id == GridVillage.village_id)
                .where(GridVillage.grid_id == Grid.id).scalar_subquery())
    feature = func.jsonb_build_object(
        "type", "Feature",
        "id", Grid.id,
        "geometry", geojson(Grid.geometry),
        "properties", func.jsonb_build_object(
            "id", Grid.id, "name", Grid.name, "region_code", town.code, "town_name", town.name,
            "villages", villages, "workers", workers, "version", Grid.version,
            "area_m2", func.round(cast(area_m2(Grid.geometry), Numeric), 1),
            "updated_at", shown_in_sql(Grid.updated_at), "retired_at", shown_in_sql(Grid.retired_at)),
    )
    return (select(feature.label("feature"))
            .select_from(Grid).join(town, town.id == Grid.town_id)
            .where(principal.grid_filter(Grid)))


def list_grids(session: Session, principal: Principal, *, region_code: str | None = None,
               worker_id: uuid.UUID | None = None, retired: bool = False, page: int = 1, per_page: int = 50) -> Page:
    stmt = _grid_feature_select(principal)
    if not retired:
        stmt = stmt.where(Grid.retired_at.is_(None))
    if region_code:
        stmt = stmt.where(Grid.town_id.in_(
            select(Region.id).where(Region.path.descendant_of(
                select(Region.path).where(Region.code == region_code).scalar_subquery()))))
    if worker_id:
        stmt = stmt.where(Grid.id.in_(select(GridAssignment.grid_id).where(
            GridAssignment.user_id == worker_id, GridAssignment.ended_at.is_(None))))
    return paginate(session, stmt.order_by(Grid.name, Grid.id), page=page, per_page=per_page)


def get_grid(session: Session, principal: Principal, grid_id: uuid.UUID) -> dict:
    feature = session.scalar(_grid_feature_select(principal).where(Grid.id == grid_id))
    if feature is None:
        raise NotFound("网格不存在")
    return feature


def locate_enterprises(session: Session, enterprise_ids=None, *, area: str | None = None,
                       grid_ids=None, at: datetime | None = None) -> int:
    """Set enterprises' village and grid from their location, in ONE statement. Returns the rows changed.

    Which enterprises: those in ``enterprise_ids``, or whose location lies in ``area`` (geometry as
    hex EWKB or EWKT, e.g. a grid's old ∪ new shape), or whose current grid is one of ``grid_ids``;
    with none of the three given, all of them. An enterprise that falls in no grid gets
    ``grid_id = NULL`` and stays listed (``GET /enterprises?outside_grids=true``, the coverage
    report); where grids overlap, the oldest grid wins; retired grids hold nobody.

    The polygons drive the join (DESIGN.md §8): ``grids JOIN enterprises ON ST_Covers`` lets
    each grid fetch its points through the GiST index on ``enterprises.location``, instead of one
    correlated lookup per point. Only rows whose placement changes are written (and so reach the
    change feed)."""
    restrict, params = _placement_restriction(enterprise_ids, area, grid_ids)
    if restrict is None:
        return 0
    params["at"] = at
    # reach: the bounding box of the enterprises to place. Only polygons touching it are visited
    # (GiST on grids/regions); each visits its points through GiST on enterprises. OFFSET 0 keeps
    # the planner from flattening the LATERAL and turning the join around, point by point.
    polygons_to_points = """
        SELECT DISTINCT ON (p.id) p.id, poly.id AS {key}
          FROM {table} AS poly
          CROSS JOIN LATERAL (
                SELECT p.id FROM enterprises AS p
                 WHERE ST_Covers(poly.geometry, p.location) AND {restrict_p}
                OFFSET 0) AS p
         WHERE poly.geometry && (SELECT reach FROM reach) {extra}
         ORDER BY p.id, {order}"""
    by_grid = polygons_to_points.format(key="grid_id", table="grids", restrict_p=restrict.format(e="p"),
                                        extra="AND poly.retired_at IS NULL", order="poly.created_at, poly.id")
    by_village = polygons_to_points.format(key="region_id", table="regions", restrict_p=restrict.format(e="p"),
                                           extra="AND poly.level = 'village'", order="poly.code")
    result = session.execute(text(f"""
        WITH reach AS (
            SELECT ST_SetSRID(ST_Extent(e.location)::geometry, 4326) AS reach
              FROM enterprises AS e WHERE {restrict.format(e="e")}
        )
        UPDATE enterprises AS e
           SET region_id = placed.region_id, grid_id = placed.grid_id,
               version = e.version + 1, updated_at = COALESCE(CAST(:at AS timestamptz), now())
          FROM (
                SELECT c.id, village.region_id, grid.grid_id
                  FROM enterprises AS c
                  LEFT JOIN ({by_grid}) AS grid ON grid.id = c.id
                  LEFT JOIN ({by_village}) AS village ON village.id = c.id
                 WHERE {restrict.format(e="c")}
               ) AS placed
         WHERE e.id = placed.id
           AND (e.region_id IS DISTINCT FROM placed.region_id OR e.grid_id IS DISTINCT FROM placed.grid_id)
    """), params)
    return result.rowcount


def _placement_restriction(enterprise_ids, area, grid_ids) -> tuple[str | None, dict]:
    """The WHERE fragment (``{e}`` = the enterprises alias) choosing whom to re-place; None = nobody."""
    if enterprise_ids is None and area is None and grid_ids is None:
        return "TRUE", {}
    parts, params = [], {}
    if enterprise_ids:
        parts.append("{e}.id = ANY(CAST(:ids AS uuid[]))")
        params["ids"] = [str(i) for i in enterprise_ids]
    if area is not None:
        parts.append("ST_Intersects({e}.location, CAST(:area AS geometry))")
        params["area"] = area
    if grid_ids:
        parts.append("{e}.grid_id = ANY(CAST(:grid_ids AS uuid[]))")
        params["grid_ids"] = [str(i) for i in grid_ids]
    if not parts:
        return None, {}
    return "(" + " OR ".join(parts) + ")", params


def grid_features(session: Session, principal: Principal, ids: list[uuid.UUID]) -> list[dict]:
    """Several grids by id (those in the caller's scope), as GeoJSON Features."""
    return list(session.scalars(_grid_feature_select(principal).where(Grid.id.in_(ids))))
