"""Regions and grids: scoped reads (placing enterprises in them is enterprises.placement).

Geometry leaves the database as GeoJSON built by PostGIS (``ST_AsGeoJSON``)."""

from __future__ import annotations

import uuid

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
        select(
            Region.id,
            Region.code,
            Region.name,
            Region.level,
            func.ltree2text(Region.path).label("path"),
            parent.code.label("parent_code"),
            geojson(Region.geometry).label("geometry"),
            area_m2(Region.geometry).label("area_m2"),
        )
        .outerjoin(parent, parent.id == Region.parent_id)
        .where(Region.code == code, principal.region_visible_filter(Region))
    ).one_or_none()
    if row is None:
        raise NotFound("行政区划不存在")
    children = session.execute(
        select(Region.code, Region.name, Region.level)
        .where(Region.parent_id == row.id, principal.region_visible_filter(Region))
        .order_by(Region.code)
    ).all()
    return {
        "code": row.code,
        "name": row.name,
        "level": row.level,
        "path": row.path,
        "parent_code": row.parent_code,
        "geometry": row.geometry,
        "area_m2": row.area_m2,
        "children": [dict(c._mapping) for c in children],
    }


def _grid_feature_select(principal: Principal) -> Select:
    """One row per grid: a GeoJSON Feature assembled by the database, workers and villages included."""
    town = aliased(Region)
    workers = (
        select(
            func.coalesce(
                func.jsonb_agg(
                    aggregate_order_by(
                        func.jsonb_build_object("id", User.id, "name", User.name, "username", User.username),
                        User.username,
                    )
                ),
                text("'[]'::jsonb"),
            )
        )
        .select_from(GridAssignment)
        .join(User, User.id == GridAssignment.user_id)
        .where(GridAssignment.grid_id == Grid.id, GridAssignment.ended_at.is_(None))
        .scalar_subquery()
    )
    villages = (
        select(func.coalesce(func.jsonb_agg(aggregate_order_by(Region.code, Region.code)), text("'[]'::jsonb")))
        .select_from(GridVillage)
        .join(Region, Region.id == GridVillage.village_id)
        .where(GridVillage.grid_id == Grid.id)
        .scalar_subquery()
    )
    feature = func.jsonb_build_object(
        "type",
        "Feature",
        "id",
        Grid.id,
        "geometry",
        geojson(Grid.geometry),
        "properties",
        func.jsonb_build_object(
            "id",
            Grid.id,
            "name",
            Grid.name,
            "region_code",
            town.code,
            "town_name",
            town.name,
            "villages",
            villages,
            "workers",
            workers,
            "version",
            Grid.version,
            "area_m2",
            func.round(cast(area_m2(Grid.geometry), Numeric), 1),
            "updated_at",
            shown_in_sql(Grid.updated_at),
            "retired_at",
            shown_in_sql(Grid.retired_at),
        ),
    )
    return (
        select(feature.label("feature"))
        .select_from(Grid)
        .join(town, town.id == Grid.town_id)
        .where(principal.grid_filter(Grid))
    )


def list_grids(
    session: Session,
    principal: Principal,
    *,
    region_code: str | None = None,
    worker_id: uuid.UUID | None = None,
    retired: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    stmt = _grid_feature_select(principal)
    if not retired:
        stmt = stmt.where(Grid.retired_at.is_(None))
    if region_code:
        stmt = stmt.where(
            Grid.town_id.in_(
                select(Region.id).where(
                    Region.path.descendant_of(select(Region.path).where(Region.code == region_code).scalar_subquery())
                )
            )
        )
    if worker_id:
        stmt = stmt.where(
            Grid.id.in_(
                select(GridAssignment.grid_id).where(
                    GridAssignment.user_id == worker_id, GridAssignment.ended_at.is_(None)
                )
            )
        )
    return paginate(session, stmt.order_by(Grid.name, Grid.id), page=page, per_page=per_page)


def get_grid(session: Session, principal: Principal, grid_id: uuid.UUID) -> dict:
    feature = session.scalar(_grid_feature_select(principal).where(Grid.id == grid_id))
    if feature is None:
        raise NotFound("网格不存在")
    return feature


def grid_features(session: Session, principal: Principal, ids: list[uuid.UUID]) -> list[dict]:
    """Several grids by id (those in the caller's scope), as GeoJSON Features."""
    return list(session.scalars(_grid_feature_select(principal).where(Grid.id.in_(ids))))
