"""Polygons coming in as GeoJSON (boundary files, grids drawn on a map): their structure and CRS are
checked here, their validity by PostGIS, which repairs a polygon only when the repair is exact.

"Exact" means ``ST_MakeValid`` keeps the polygon's area: a ring touching itself, a spike, a hole
touching its shell, wrong winding. A bow-tie, a hole outside its shell or overlapping parts of a
MultiPolygon change area when made valid, so which area was meant is a guess: those are refused.
Areas are square metres on the spheroid (PostGIS geography) after densifying the edges, because
our polygons are planar in longitude/latitude and a long geography edge would bulge (see
:data:`AREA_SEGMENT_DEG`)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from sqlalchemy import Float, func, text
from sqlalchemy.orm import Session

from geo.location import on_the_globe
from geo.coords import CRS_VALUES, in_china, to_wgs84

# Edges are straight in lon/lat; geography reads them as geodesics. Densifying to ≤0.001° (~100 m)
# first makes both agree to well under 0.01 m² for a kilometre-long rounding sliver.
AREA_SEGMENT_DEG = 0.001

# GeoJSON ``crs`` member names (GeoJSON 2008; RFC 7946 dropped the member) that mean lon/lat on
# WGS-84. CGCS2000 (EPSG:4490), the datum of official Chinese boundary data, differs from WGS-84
# by centimetres and is taken as it is.
WGS84_NAMES = {
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:ogc::crs84",
    "crs84",
    "ogc:crs84",
    "epsg:4326",
    "urn:ogc:def:crs:epsg::4326",
    "urn:ogc:def:crs:epsg:6.6:4326",
    "epsg:4490",
    "urn:ogc:def:crs:epsg::4490",
}
POLYGONAL = ("Polygon", "MultiPolygon")
LINEAR = ("LineString", "MultiLineString")

MESSAGES = {
    "geo.empty_geometry": "边界为空",
    "geo.zero_area": "边界面积为零（各点共线或重合）",
    "geo.wrong_geometry_type": "几何类型应为 {expected}，实际为 {actual}",
    "geo.malformed_geometry": "坐标格式不正确：{detail}",
    "geo.unclosed_ring": "第 {ring} 个环未闭合（首尾坐标不同）",
    "geo.wrong_crs": "坐标系不受支持：{detail}；请使用 WGS-84/CGCS2000 经纬度（或注明 gcj02、bd09）",
    "geo.outside_china": "坐标超出中国范围（经度 {lon}，纬度 {lat}）",
    "geo.invalid_geometry": "边界无效且无法无损修复：{detail}",
    "geo.too_many_vertices": "几何图形有 {count} 个坐标点，超过上限 {limit} 个，请简化后再提交",
}


def area_m2_sql(expr: str) -> str:
    """SQL for the area in m² of geometry ``expr`` (see module docstring)."""
    return f"ST_Area(ST_Segmentize({expr}, {AREA_SEGMENT_DEG})::geography)"


def area_m2(column):
    """The same as :func:`area_m2_sql`, as an SQLAlchemy expression."""
    return func.ST_Area(func.Geography(func.ST_Segmentize(column, AREA_SEGMENT_DEG)), type_=Float)


@dataclass
class Problem:
    """Why a geometry is refused: a stable code and a Chinese message."""

    code: str
    message: str

    @classmethod
    def of(cls, code: str, **values) -> "Problem":
        return cls(code, MESSAGES[code].format(**values))


@dataclass
class Checked:
    """A geometry after PostGIS has looked at it: refused (``problem``) or accepted as ``ewkb`` (hex
    EWKB of a MultiPolygon, SRID 4326, exterior rings counter-clockwise), with the exact repairs made."""

    problem: Problem | None = None
    ewkb: str | None = None
    repairs: list[str] = field(default_factory=list)

    @property
    def repair_message(self) -> str:
        return "；".join(REPAIR_MESSAGES[r] for r in self.repairs)


REPAIR_MESSAGES = {
    "made_valid": "边界自接触或有毛刺，已无损修复（ST_MakeValid，面积不变）",
    "rewound": "环方向不符合 GeoJSON 规定，已改为外环逆时针、内环顺时针",
}


def crs_from_member(member, default: str = "wgs84") -> tuple[str | None, Problem | None]:
    """The CRS named by a GeoJSON ``crs`` member (absent: ``default``)."""
    if member is None:
        return default, None
    name = None
    if isinstance(member, dict) and isinstance(member.get("properties"), dict):
        name = member["properties"].get("name")
    if not isinstance(name, str):
        return None, Problem.of("geo.wrong_crs", detail="无法识别的 crs 成员")
    lowered = name.strip().lower()
    if lowered in WGS84_NAMES:
        return "wgs84", None
    if lowered in CRS_VALUES:
        return lowered, None
    return None, Problem.of("geo.wrong_crs", detail=name)


def check_structure(
    geometry, crs: str = "wgs84", *, allowed=POLYGONAL, max_vertices: int | None = None
) -> tuple[dict | None, Problem | None]:
    """A GeoJSON geometry of an ``allowed`` type with well-formed, closed rings inside China, of at most
    ``max_vertices`` positions, converted to WGS-84. Returns (geometry, None) or (None, problem).
    PostGIS checks the rest."""
    if geometry is None or geometry == {}:
        return None, Problem.of("geo.empty_geometry")
    if not isinstance(geometry, dict):
        return None, Problem.of("geo.malformed_geometry", detail="geometry 应为对象")
    if "crs" in geometry:
        crs, problem = crs_from_member(geometry["crs"], crs)
        if problem:
            return None, problem
    kind = geometry.get("type")
    if kind not in allowed:
        return None, Problem.of("geo.wrong_geometry_type", expected=" 或 ".join(allowed), actual=kind)
    coordinates = geometry.get("coordinates")
    if not coordinates:
        return None, Problem.of("geo.empty_geometry")
    if max_vertices is not None:
        # Counted before any position is converted or any geometry is built.
        count = _vertex_count(coordinates, _NESTING[kind])
        if count > max_vertices:
            return None, Problem.of("geo.too_many_vertices", count=count, limit=max_vertices)
    try:
        if kind in POLYGONAL:
            polygons = [coordinates] if kind == "Polygon" else coordinates
            converted = [
                [_ring(ring, n, crs) for n, ring in enumerate(_list(polygon, "多边形"), 1)]
                for polygon in _list(polygons, "多边形列表")
            ]
            if not converted or not all(converted):
                return None, Problem.of("geo.empty_geometry")
            out = converted[0] if kind == "Polygon" else converted
        else:
            lines = [coordinates] if kind == "LineString" else coordinates
            converted = [_line(line, crs) for line in _list(lines, "线列表")]
            out = converted[0] if kind == "LineString" else converted
    except _Refused as refused:
        return None, refused.problem
    return {"type": kind, "coordinates": out}, None


# Levels of lists above the positions, per geometry type.
_NESTING = {"LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}


def _vertex_count(coordinates, depth: int) -> int:
    """Positions in nested coordinate lists; what is not a list counts nothing (refused later)."""
    level = [coordinates]
    for _ in range(depth - 1):
        level = [item for items in level if isinstance(items, list) for item in items]
    return sum(len(items) for items in level if isinstance(items, list))


class _Refused(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


def _list(value, what: str) -> list:
    if not isinstance(value, list):
        raise _Refused(Problem.of("geo.malformed_geometry", detail=f"{what}应为数组"))
    return value


def _coordinate(value) -> float | None:
    """A finite number as a float; None for anything else (an integer past a double included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _position(position, crs: str) -> list[float]:
    coordinates = [_coordinate(c) for c in position[:2]] if isinstance(position, list) else []
    if len(coordinates) < 2 or None in coordinates:
        raise _Refused(Problem.of("geo.malformed_geometry", detail=f"无效的坐标 {position!r:.60}"))
    lon, lat = coordinates
    if not on_the_globe(lon, lat):
        # Metres of a projected CRS (e.g. EPSG:3857, a CGCS2000 Gauss-Krüger zone), not degrees.
        raise _Refused(Problem.of("geo.wrong_crs", detail=f"坐标 ({lon:g}, {lat:g}) 不是经纬度"))
    if not in_china(lon, lat):
        raise _Refused(Problem.of("geo.outside_china", lon=f"{lon:g}", lat=f"{lat:g}"))
    if crs == "wgs84":
        return [lon, lat]
    return list(to_wgs84(lon, lat, crs))


def _ring(ring, n: int, crs: str) -> list[list[float]]:
    ring = _list(ring, "环")
    if not ring:
        raise _Refused(Problem.of("geo.empty_geometry"))
    if len(ring) < 4:
        raise _Refused(Problem.of("geo.malformed_geometry", detail=f"第 {n} 个环少于 4 个坐标"))
    points = [_position(p, crs) for p in ring]
    # Closure is judged on the coordinates as given; the same position converts to the same point.
    if ring[0][:2] != ring[-1][:2]:
        raise _Refused(Problem.of("geo.unclosed_ring", ring=n))
    points[-1] = list(points[0])
    return points


def _line(line, crs: str) -> list[list[float]]:
    line = _list(line, "线")
    if len(line) < 2:
        raise _Refused(Problem.of("geo.malformed_geometry", detail="线少于 2 个坐标"))
    return [_position(p, crs) for p in line]


# Validity and exact repair of the GeoJSON text in column ``src.geojson``, as a LATERAL subquery
# yielding ``problem`` (code or NULL), ``reason`` (PostGIS's words), ``made_valid``, ``rewound`` and
# ``geometry`` (MultiPolygon, SRID 4326). ST_IsValidDetail, not ST_IsValid: no NOTICE per row.
VALIDATE_LATERAL = """
    CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_GeomFromGeoJSON(src.geojson), 4326) AS g) AS raw
    CROSS JOIN LATERAL ST_IsValidDetail(raw.g) AS detail
    CROSS JOIN LATERAL (
        SELECT CASE WHEN detail.valid THEN raw.g
                    ELSE ST_CollectionExtract(ST_MakeValid(raw.g, 'method=structure'), 3) END AS g
    ) AS fixed
    CROSS JOIN LATERAL (
        SELECT CASE
                 WHEN ST_IsEmpty(raw.g) THEN 'geo.empty_geometry'
                 WHEN ST_IsEmpty(fixed.g) OR ST_Area(fixed.g) = 0 THEN 'geo.zero_area'
                 WHEN NOT detail.valid
                      AND abs(ST_Area(fixed.g) - ST_Area(raw.g)) > 1e-6 * ST_Area(fixed.g)
                   THEN 'geo.invalid_geometry'
               END AS problem,
               detail.reason || COALESCE(' [' || round(CAST(ST_X(detail.location) AS numeric), 7) || ' '
                                         || round(CAST(ST_Y(detail.location) AS numeric), 7) || ']', '') AS reason,
               NOT detail.valid AS made_valid,
               -- Judged on the input: ST_MakeValid's output has GEOS's winding, not the sender's.
               detail.valid AND NOT ST_IsPolygonCCW(raw.g) AS rewound,
               ST_Multi(ST_ForcePolygonCCW(fixed.g)) AS geometry
    ) AS checked
"""


def check_polygons(session: Session, geometries: list[dict]) -> list[Checked]:
    """Validity and exact repair by PostGIS of structurally checked (Multi)Polygons, in one query."""
    if not geometries:
        return []
    rows = session.execute(
        text(f"""
        SELECT src.n, checked.problem, checked.reason, checked.made_valid, checked.rewound,
               encode(ST_AsEWKB(checked.geometry), 'hex') AS ewkb
          FROM jsonb_to_recordset(CAST(:items AS jsonb)) AS src(n int, geojson text)
          {VALIDATE_LATERAL}
         ORDER BY src.n
    """),
        {"items": json.dumps([{"n": n, "geojson": json.dumps(g)} for n, g in enumerate(geometries)])},
    ).all()
    return [_checked(row) for row in rows]


def _checked(row) -> Checked:
    if row.problem in ("geo.empty_geometry", "geo.zero_area"):
        return Checked(problem=Problem.of(row.problem))
    if row.problem:
        return Checked(problem=Problem.of(row.problem, detail=postgis_reason(row.reason)))
    repairs = [name for name, done in (("made_valid", row.made_valid), ("rewound", row.rewound)) if done]
    return Checked(ewkb=row.ewkb, repairs=repairs)


def postgis_reason(reason: str | None) -> str:
    """PostGIS's reason (``Self-intersection [lon lat]``) in Chinese where we know the words."""
    if not reason:
        return "未知原因"
    match = re.fullmatch(r"(.*?)(?: \[(\S+) (\S+)\])?", reason)
    words, lon, lat = match.groups()
    words = POSTGIS_REASONS.get(words, words)
    return f"{words}（经度 {float(lon):.7g}，纬度 {float(lat):.7g}）" if lon else words


POSTGIS_REASONS = {
    "Self-intersection": "自相交",
    "Ring Self-intersection": "环自相交",
    "Hole lies outside shell": "内环位于外环之外",
    "Nested shells": "外环嵌套",
    "Interior is disconnected": "内部不连通",
    "Too few points in geometry component": "点数过少",
    "Invalid Coordinate": "坐标无效",
    "Nested holes": "内环嵌套",
}
