"""Generated boundaries for the demo district: 4 towns and about 40 villages that tile it.

Voronoi cells clipped to their parent, snapped to a 1e-7° grid so neighbours share
their edges exactly (no slivers between villages)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon

CENTRE = (107.8, 30.7)
PRECISION = 1e-7


@dataclass
class Area:
    code: str
    name: str
    geometry: MultiPolygon


def _multi(geom) -> MultiPolygon:
    geom = shapely.set_precision(geom, PRECISION)
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if g.geom_type == "Polygon"]
    return MultiPolygon(polys)


def district_outline(rng: random.Random) -> Polygon:
    """An irregular, roughly 24 km × 20 km outline around CENTRE."""
    lon0, lat0 = CENTRE
    points = []
    for i in range(48):
        angle = 2 * math.pi * i / 48
        radius = 0.12 * (1 + 0.12 * math.sin(3 * angle) + 0.05 * rng.uniform(-1, 1))
        points.append((lon0 + radius * math.cos(angle) * 1.15, lat0 + radius * math.sin(angle)))
    return shapely.set_precision(Polygon(points), PRECISION)


def random_points_in(polygon, count: int, rng: random.Random) -> list[Point]:
    minx, miny, maxx, maxy = polygon.bounds
    out: list[Point] = []
    while len(out) < count:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if polygon.contains(p):
            out.append(p)
    return out


def split(polygon, count: int, rng: random.Random) -> list:
    """``count`` Voronoi cells of random seeds, clipped to ``polygon``; together they tile it."""
    seeds = MultiPoint(random_points_in(polygon, count, rng))
    cells = shapely.voronoi_polygons(seeds, extend_to=polygon.envelope.buffer(0.1))
    pieces = [cell.intersection(polygon) for cell in cells.geoms]
    pieces = [p for p in pieces if not p.is_empty]
    # Order west→east, south→north so codes read sensibly on a map.
    pieces.sort(key=lambda p: (round(p.centroid.y, 2), p.centroid.x))
    return pieces


def generate(seed: int = 20261122, towns: int = 4, villages_per_town: int = 10):
    """Returns (district, [(town geometry, [village geometry, ...]), ...]).

    Villages are Voronoi cells of the whole district; towns are groups of neighbouring
    villages (by bearing from the centre), so towns share their borders exactly too."""
    rng = random.Random(seed)
    outline = district_outline(rng)
    villages = [_multi(v) for v in split(outline, towns * villages_per_town, rng)]
    lon0, lat0 = CENTRE
    villages.sort(key=lambda v: math.atan2(v.centroid.y - lat0, v.centroid.x - lon0))
    result = []
    for t in range(towns):
        group = villages[t * villages_per_town : (t + 1) * villages_per_town]
        group.sort(key=lambda p: (round(p.centroid.y, 2), p.centroid.x))
        result.append((_multi(shapely.union_all(group)), group))
    district = _multi(shapely.union_all([t for t, _ in result]))
    return district, result
