"""Placement of enterprises (企业落格): each enterprise's village and grid, set from its location by
PostGIS in one statement whenever an enterprise moves or the grids and villages around it are redrawn.
The enterprise's version is bumped here, with its placement, so a phone's pull sees the move."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session


def place_enterprises(
    session: Session, enterprise_ids=None, *, area: str | None = None, grid_ids=None, at: datetime | None = None
) -> int:
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
    by_grid = polygons_to_points.format(
        key="grid_id",
        table="grids",
        restrict_p=restrict.format(e="p"),
        extra="AND poly.retired_at IS NULL",
        order="poly.created_at, poly.id",
    )
    by_village = polygons_to_points.format(
        key="region_id",
        table="regions",
        restrict_p=restrict.format(e="p"),
        extra="AND poly.level = 'village'",
        order="poly.code",
    )
    result = session.execute(
        text(f"""
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
    """),
        params,
    )
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
