"""Grid coverage of a town (网格全域覆盖): gaps, overlaps, share covered, villages without a grid, grids
without a worker, enterprises outside every grid — one PostGIS statement.

Gaps are the town minus the union of its grids, one polygon each; overlaps are per pair of grids.
Both are listed from ``min_area_m2`` up: below that they are rounding slivers of boundaries that
should coincide. The share covered counts everything, slivers included."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from accounts.principal import Principal
from core.errors import NotFound, ValidationFailed
from geo.geometry import area_m2_sql
from grids.service import GEOJSON_DIGITS

DEFAULT_MIN_AREA_M2 = 1.0


def coverage_report(
    session: Session, principal: Principal, code: str, *, min_area_m2: float = DEFAULT_MIN_AREA_M2
) -> dict:
    """The coverage report of town ``code`` (in the caller's region subtree, else 404)."""
    if not principal.has("desk_officer", "inspector", "admin"):
        raise NotFound("行政区划不存在")
    scope = None if principal.is_admin else principal.region_path
    level = session.scalar(
        text("""
        SELECT level FROM regions
         WHERE code = :code AND (CAST(:scope AS ltree) IS NULL OR path <@ CAST(:scope AS ltree))"""),
        {"code": code, "scope": scope},
    )
    if level is None:
        raise NotFound("行政区划不存在")
    if level != "town":
        raise ValidationFailed("覆盖情况按乡镇/街道统计，请给出乡镇代码", code="geo.not_a_town")
    area = area_m2_sql
    digits = GEOJSON_DIGITS
    return session.scalar(
        text(f"""
        WITH town AS MATERIALIZED (
            SELECT id, code, name, geometry FROM regions WHERE code = :code
        ),
        g AS MATERIALIZED (
            SELECT grids.id, grids.name, grids.geometry FROM grids JOIN town ON grids.town_id = town.id
             WHERE grids.retired_at IS NULL
        ),
        cover AS MATERIALIZED (
            SELECT ST_Union(g.geometry) AS geom FROM g
        ),
        uncovered AS MATERIALIZED (
            SELECT CASE WHEN town.geometry IS NULL THEN NULL
                        WHEN cover.geom IS NULL THEN town.geometry
                        ELSE ST_CollectionExtract(ST_Difference(town.geometry, cover.geom), 3) END AS geom
              FROM town, cover
        ),
        gaps AS (
            SELECT d.geom, {area("d.geom")} AS area_m2
              FROM uncovered, LATERAL ST_Dump(uncovered.geom) AS d
        ),
        overlap_pairs AS (
            SELECT a.id AS a_id, a.name AS a_name, b.id AS b_id, b.name AS b_name, x.geom,
                   {area("x.geom")} AS area_m2
              FROM g AS a JOIN g AS b ON a.id < b.id AND ST_Intersects(a.geometry, b.geometry)
             CROSS JOIN LATERAL (
                   SELECT ST_CollectionExtract(ST_Intersection(a.geometry, b.geometry), 3) AS geom) AS x
             WHERE NOT ST_IsEmpty(x.geom)
        ),
        villages AS (
            SELECT v.code, v.name,
                   EXISTS (SELECT 1 FROM grid_villages gv JOIN g ON g.id = gv.grid_id WHERE gv.village_id = v.id)
                   OR (v.geometry IS NOT NULL AND cover.geom IS NOT NULL AND ST_Intersects(v.geometry, cover.geom)
                       AND {area("ST_CollectionExtract(ST_Intersection(v.geometry, cover.geom), 3)")} >= :min_area)
                   AS has_grid
              FROM regions AS v, town, cover
             WHERE v.parent_id = town.id AND v.level = 'village'
        ),
        figures AS (
            SELECT {area("town.geometry")} AS town_m2,
                   COALESCE((SELECT sum(area_m2) FROM gaps), 0) AS uncovered_m2
              FROM town
        )
        SELECT jsonb_build_object(
            'town', (SELECT jsonb_build_object('code', code, 'name', name) FROM town),
            'min_area_m2', CAST(:min_area AS float8),
            'area_m2', round(CAST(figures.town_m2 AS numeric), 1),
            'covered_m2', round(CAST(figures.town_m2 - figures.uncovered_m2 AS numeric), 1),
            'covered_share', CASE WHEN figures.town_m2 > 0
                                  THEN round(CAST(1 - figures.uncovered_m2 / figures.town_m2 AS numeric), 6) END,
            'grids', (SELECT count(*) FROM g),
            'gaps', jsonb_build_object('type', 'FeatureCollection', 'features', COALESCE((
                SELECT jsonb_agg(jsonb_build_object(
                           'type', 'Feature',
                           'geometry', CAST(ST_AsGeoJSON(geom, {digits}) AS jsonb),
                           'properties', jsonb_build_object('area_m2', round(CAST(area_m2 AS numeric), 2)))
                       ORDER BY area_m2 DESC)
                  FROM gaps WHERE area_m2 >= :min_area), '[]'::jsonb)),
            'gap_area_m2', round(CAST(COALESCE((SELECT sum(area_m2) FROM gaps WHERE area_m2 >= :min_area), 0)
                                      AS numeric), 2),
            'overlaps', jsonb_build_object('type', 'FeatureCollection', 'features', COALESCE((
                SELECT jsonb_agg(jsonb_build_object(
                           'type', 'Feature',
                           'geometry', CAST(ST_AsGeoJSON(geom, {digits}) AS jsonb),
                           'properties', jsonb_build_object(
                               'grids', jsonb_build_array(jsonb_build_object('id', a_id, 'name', a_name),
                                                          jsonb_build_object('id', b_id, 'name', b_name)),
                               'area_m2', round(CAST(area_m2 AS numeric), 2)))
                       ORDER BY area_m2 DESC)
                  FROM overlap_pairs WHERE area_m2 >= :min_area), '[]'::jsonb)),
            'overlap_area_m2', round(CAST(COALESCE((SELECT sum(area_m2) FROM overlap_pairs WHERE area_m2 >= :min_area), 0)
                                          AS numeric), 2),
            'villages_without_grid', COALESCE((
                SELECT jsonb_agg(jsonb_build_object('code', code, 'name', name) ORDER BY code)
                  FROM villages WHERE NOT has_grid), '[]'::jsonb),
            'grids_without_worker', COALESCE((
                SELECT jsonb_agg(jsonb_build_object('id', g.id, 'name', g.name) ORDER BY g.name, g.id)
                  FROM g WHERE NOT EXISTS (SELECT 1 FROM grid_assignments AS ga
                                            WHERE ga.grid_id = g.id AND ga.ended_at IS NULL)), '[]'::jsonb),
            'enterprises_outside_grids', COALESCE((
                SELECT jsonb_agg(jsonb_build_object('id', e.id, 'name', e.name, 'uscc', e.uscc) ORDER BY e.name, e.id)
                  FROM enterprises AS e, town
                 WHERE e.grid_id IS NULL AND ST_Covers(town.geometry, e.location)), '[]'::jsonb)
        )
        FROM figures
    """),
        {"code": code, "min_area": min_area_m2},
    )
