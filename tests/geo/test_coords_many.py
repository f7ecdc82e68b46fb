"""to_wgs84_many converts every point of a track as to_wgs84 converts it alone: in and out of China,
on and near the box's edges, in each crs (geo.coords)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from shapely import wkb

from core.errors import ValidationFailed
from geo.coords import CRS_VALUES, _CHINA_BOX, in_china, to_wgs84, to_wgs84_many
from geo.location import line_geometries

WEST, EAST, SOUTH, NORTH = _CHINA_BOX

# On this project's machines numpy's sin, cos and sqrt are the C library's and the results are
# identical bit for bit; the bound leaves room for a platform whose numpy rounds an ulp apart, and is
# still a thousand times below what one iteration step more or less would move a point (1e-10°).
AGREE_DEG = 1e-12


def _near(edge: float) -> st.SearchStrategy[float]:
    """At an edge of the box, an ulp or a BD-09 offset (~0.0065°) to either side of it."""
    return st.one_of(
        st.sampled_from([edge, math.nextafter(edge, -math.inf), math.nextafter(edge, math.inf)]),
        st.floats(min_value=edge - 0.02, max_value=edge + 0.02),
    )


longitude = st.one_of(
    st.floats(min_value=WEST, max_value=EAST),
    _near(WEST),
    _near(EAST),
    st.floats(min_value=-180, max_value=180),
    st.sampled_from([-180.0, 180.0, 0.0, -0.0]),
)
latitude = st.one_of(
    st.floats(min_value=SOUTH, max_value=NORTH),
    _near(SOUTH),
    _near(NORTH),
    st.floats(min_value=-90, max_value=90),
    st.sampled_from([-90.0, 90.0, 0.0, -0.0]),
)
tracks = st.lists(st.tuples(longitude, latitude), max_size=40)


@settings(max_examples=600, deadline=None)
@given(tracks, st.sampled_from(CRS_VALUES))
# A BD-09 point just inside the west edge whose GCJ-02 step leaves the box: to_wgs84 then stops there.
@example([(WEST + 0.001, 30.0), (WEST + 0.02, 30.0)], "bd09")
@example([(EAST, NORTH), (WEST, SOUTH), (EAST + 1e-9, NORTH), (107.8, 30.7)], "gcj02")
@example([], "bd09")
def test_each_point_is_converted_as_to_wgs84_converts_it_alone(points, crs):
    lons, lats = to_wgs84_many([p[0] for p in points], [p[1] for p in points], crs)
    assert lons.dtype == lats.dtype == np.float64 and lons.shape == lats.shape == (len(points),)
    for (lon, lat), many_lon, many_lat in zip(points, lons.tolist(), lats.tolist()):
        alone_lon, alone_lat = to_wgs84(lon, lat, crs)
        assert abs(many_lon - alone_lon) <= AGREE_DEG and abs(many_lat - alone_lat) <= AGREE_DEG, (lon, lat, crs)


def test_the_edge_case_the_scalar_decides_twice_is_decided_the_same():
    # In the box as BD-09, out of it after the BD-09 → GCJ-02 step: only that step applies.
    lon, lat = WEST + 0.001, 30.0
    gcj_lon, gcj_lat = to_wgs84(lon, lat, "bd09")
    assert in_china(lon, lat) and not in_china(gcj_lon, gcj_lat)
    lons, lats = to_wgs84_many([lon], [lat], "bd09")
    assert (lons[0], lats[0]) == (gcj_lon, gcj_lat)


def test_inputs_are_left_as_they_were():
    lons, lats = np.array([107.8, 139.7]), np.array([30.7, 35.7])
    out_lons, _ = to_wgs84_many(lons, lats, "gcj02")
    assert lons.tolist() == [107.8, 139.7] and out_lons[1] == 139.7 and out_lons[0] != 107.8


def test_an_unknown_crs_is_refused_as_to_wgs84_refuses_it():
    with pytest.raises(ValidationFailed) as many:
        to_wgs84_many([107.8], [30.7], "cgcs2000")
    with pytest.raises(ValidationFailed) as alone:
        to_wgs84(107.8, 30.7, "cgcs2000")
    assert many.value.code == alone.value.code == "geo.unknown_crs"


track = st.tuples(st.lists(st.tuples(longitude, latitude), min_size=2, max_size=12), st.sampled_from(CRS_VALUES))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), track), max_size=8), st.integers(min_value=1, max_value=30))
def test_each_track_line_has_the_points_to_wgs84_gives(tracks, points_at_once):
    # Tracks of every crs and none, converted together in runs of a few points or one each.
    lines = line_geometries(tracks, points_at_once=points_at_once)
    assert len(lines) == len(tracks)
    for sent, line in zip(tracks, lines):
        if sent is None:
            assert line is None
            continue
        positions, crs = sent
        stored = wkb.loads(bytes(line.data))
        assert line.srid == 4326 and len(stored.coords) == len(positions)
        for (lon, lat), (x, y) in zip(positions, stored.coords):
            alone_lon, alone_lat = to_wgs84(lon, lat, crs)
            assert abs(x - alone_lon) <= AGREE_DEG and abs(y - alone_lat) <= AGREE_DEG
