"""四色安全风险空间分布图: a region's grids and enterprises with their risk colours, as one RFC 7946
GeoJSON FeatureCollection (WGS-84 longitude/latitude, exterior rings counter-clockwise) that QGIS opens
as it is; ``layer`` picks one geometry type when a single-layer file is wanted. Built by PostGIS."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.models import Region

RISK_LABELS = {"red": "重大风险", "orange": "较大风险", "yellow": "一般风险", "blue": "低风险"}
# Fill colours for the four-colour map (红橙黄蓝), also readable by viewers that honour simplestyle.
RISK_FILL = {"red": "#FF0000", "orange": "#FF9900", "yellow": "#FFFF00", "blue": "#0066FF"}
LAYERS = ("all", "grids", "enterprises")

_RISK_CASE = """CASE {c} WHEN 'red' THEN '{red}' WHEN 'orange' THEN '{orange}' WHEN 'yellow' THEN '{yellow}'
                     WHEN 'blue' THEN '{blue}' END"""


def _case(column: str, mapping: dict) -> str:
    return _RISK_CASE.format(c=column, **mapping)


_RISK_MAP_SQL = f"""
WITH area AS (
    SELECT id, path, name FROM regions WHERE id = :region_id
),
grid_features AS (
    SELECT g.id, json_build_object(
        'type', 'Feature',
        'id', 'grid/' || g.id,
        'geometry', CAST(ST_AsGeoJSON(ST_ForcePolygonCCW(g.geometry), 7) AS json),
        'properties', json_build_object(
            'layer', 'grid', 'name', g.name, 'town', t.name, 'town_code', t.code,
            'risk', s.risk, 'risk_label', {_case("s.risk", RISK_LABELS)}, 'fill', {_case("s.risk", RISK_FILL)},
            'enterprises', s.enterprises, 'red', s.red, 'orange', s.orange, 'yellow', s.yellow, 'blue', s.blue,
            'workers', (SELECT string_agg(u.name, '、' ORDER BY u.name)
                          FROM grid_assignments ga JOIN users u ON u.id = ga.user_id
                         WHERE ga.grid_id = g.id AND ga.ended_at IS NULL))) AS feature
      FROM grids g
      JOIN regions t ON t.id = g.town_id
      JOIN area ON t.path <@ area.path
      CROSS JOIN LATERAL (
          SELECT count(*) AS enterprises,
                 count(*) FILTER (WHERE e.risk = 'red') AS red,
                 count(*) FILTER (WHERE e.risk = 'orange') AS orange,
                 count(*) FILTER (WHERE e.risk = 'yellow') AS yellow,
                 count(*) FILTER (WHERE e.risk = 'blue') AS blue,
                 -- A grid takes the colour of its riskiest enterprise (区域风险就高不就低).
                 CASE WHEN bool_or(e.risk = 'red') THEN 'red' WHEN bool_or(e.risk = 'orange') THEN 'orange'
                      WHEN bool_or(e.risk = 'yellow') THEN 'yellow' WHEN bool_or(e.risk = 'blue') THEN 'blue'
                 END AS risk
            FROM enterprises e WHERE e.grid_id = g.id) s
     WHERE :layer IN ('all', 'grids') AND g.retired_at IS NULL
),
enterprise_features AS (
    SELECT e.id, json_build_object(
        'type', 'Feature',
        'id', 'enterprise/' || e.id,
        'geometry', CAST(ST_AsGeoJSON(e.location, 7) AS json),
        'properties', json_build_object(
            'layer', 'enterprise', 'name', e.name, 'uscc', e.uscc, 'industry', e.industry,
            'subtype', e.subtype, 'address', e.address, 'village', v.name, 'grid', g.name,
            'risk', e.risk, 'risk_label', {_case("e.risk", RISK_LABELS)}, 'fill', {_case("e.risk", RISK_FILL)},
            'open_hazards', (SELECT count(*) FROM hazards h WHERE h.enterprise_id = e.id AND h.status <> 'closed'))
        ) AS feature
      FROM enterprises e
      JOIN regions v ON v.id = e.region_id
      JOIN area ON v.path <@ area.path
      LEFT JOIN grids g ON g.id = e.grid_id
     WHERE :layer IN ('all', 'enterprises')
)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'name', (SELECT name FROM area) || '四色安全风险空间分布图',
    'features', coalesce((SELECT json_agg(f.feature ORDER BY f.kind, f.id)
                            FROM (SELECT 1 AS kind, id, feature FROM grid_features
                                  UNION ALL
                                  SELECT 2 AS kind, id, feature FROM enterprise_features) f), '[]'))
"""


def risk_map(session: Session, region: Region, layer: str = "all") -> dict:
    """Grids are those of the towns in ``region``; enterprises those located in its villages."""
    document = session.scalar(text(_RISK_MAP_SQL), {"region_id": region.id, "layer": layer})
    return json.loads(document) if isinstance(document, str) else document
