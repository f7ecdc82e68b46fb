"""Real polygons for the geo tests: the test town (试点镇, four villages that tile it exactly, in
tests/geo/fixtures) imported through the API, grids made from it, and shapes planted in it."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from shapely.geometry import box, mapping, shape

FIXTURES = Path(__file__).parent / "fixtures"
TOWN = "500299200000"
XIKOU, QIAOTOU, SONGLING, SHIBA = "500299200201", "500299200202", "500299200203", "500299200204"

# WGS-84 ellipsoid.
WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563


def ellipsoid_rectangle_m2(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Exact area in m² of the lon/lat rectangle on the WGS-84 ellipsoid (authalic-latitude formula):
    an independent reference for the areas PostGIS reports."""
    e2 = WGS84_F * (2 - WGS84_F)
    e = math.sqrt(e2)
    b2 = WGS84_A**2 * (1 - e2)

    def zone(lat):  # area between the equator and ``lat``, per radian of longitude
        s = math.sin(math.radians(lat))
        return b2 / 2 * (s / (1 - e2 * s * s) + math.log((1 + e * s) / (1 - e * s)) / (2 * e))

    return abs(math.radians(lon2 - lon1) * (zone(lat2) - zone(lat1)))


@pytest.fixture
def town_collection():
    """The test town's FeatureCollection, a fresh copy per call (tests may spoil it)."""
    data = json.loads((FIXTURES / "test_town.geojson").read_text(encoding="utf-8"))
    return lambda: copy.deepcopy(data)


@pytest.fixture
def feature_of(town_collection):
    """``feature_of(code)`` -> that feature of the fixture file (a copy)."""

    def get(code):
        return next(f for f in town_collection()["features"] if f["properties"]["code"] == code)

    return get


@pytest.fixture
def village_shape(feature_of):
    """``village_shape(code)`` -> the village's boundary as a shapely geometry."""
    return lambda code: shape(feature_of(code)["geometry"])


@pytest.fixture
def desk(login):
    return login("desk")


@pytest.fixture
def imported(client, desk, town_collection):
    """The test town and its villages, imported by the demo desk officer."""
    response = client.post("/api/v1/regions/import", json=town_collection(), headers=desk)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["counts"]["created"] == 5
    return response.get_json()


@pytest.fixture
def make_grid(client, desk):
    """``make_grid(name, villages=[...] | geometry=... | split=...)`` -> the created grid Feature."""

    def make(name, **body):
        if "geometry" in body and not isinstance(body["geometry"], dict):
            body["geometry"] = mapping(body["geometry"])
        response = client.post("/api/v1/grids", json={"name": name, **body}, headers=desk)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def village_grids(imported, make_grid, clock):
    """One grid per village of the test town, each a minute older than the next (placement picks
    the oldest grid where grids overlap)."""
    grids = {}
    for code in (XIKOU, QIAOTOU, SONGLING, SHIBA):
        grids[code] = make_grid(f"{code}网格", villages=[code])
        clock.advance(minutes=1)
    return grids


def rectangle(lon1, lat1, lon2, lat2):
    return box(lon1, lat1, lon2, lat2)
