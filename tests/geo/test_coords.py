"""GCJ-02 / BD-09 ↔ WGS-84 conversions (geo.coords)."""

import math

import pytest
from marshmallow import ValidationError

from core.errors import ValidationFailed
from geo.location import LocationIn
from geo.coords import (
    bd09_to_gcj02,
    distance_m,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    to_wgs84,
    wgs84_to_gcj02,
)

# (WGS-84 lon, lat) → (GCJ-02 lon, lat): the reference pairs of googollee/eviltransform's own tests
# (go/transform_test.go; stored there in lat, lng order), produced with the same constants
# a = 6378245.0, ee = 0.00669342162296594323 (reference/REGULATIONS.md §7).
EVILTRANSFORM_PAIRS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]

# wandergis/coordtransform test/app.js, all applied to (116.404, 39.915). Its bd09togcj02 is the
# closed-form approximation, which ours refines by a few centimetres, hence the 0.5 m tolerance.
CT_INPUT = (116.404, 39.915)
CT_WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
CT_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
CT_BD_TO_GCJ = (116.39762729119315, 39.90865673957631)

# Spread over the country, including the protocol's example point (107.8, 30.7, Chongqing area),
# the corners of inhabited China and points near the latitude/longitude wrap of the sine terms.
CHINA_POINTS = [
    (107.8, 30.7),
    (107.81234, 30.68765),
    (116.391, 39.907),
    (121.4737, 31.2304),
    (113.2644, 23.1291),
    (104.0665, 30.5723),
    (87.6168, 43.8256),
    (91.1409, 29.6456),
    (126.6424, 45.7567),
    (110.3312, 20.0311),
    (109.5, 18.25),
    (75.99, 39.47),
    (134.28, 47.7),
    (100.0, 25.0),
    (105.0, 35.0),
    (120.0, 30.0),
    (112.5, 37.8),
    (123.4315, 41.8057),
    (102.8329, 24.8801),
    (114.1694, 22.3193),
    (101.77, 36.62),
]

OUTSIDE_CHINA = [
    (139.6917, 35.6895),  # Tokyo
    (-0.1276, 51.5072),  # London
    (-74.006, 40.7128),  # New York
    (151.2093, -33.8688),  # Sydney
    (37.6173, 55.7558),  # Moscow
]


def _grid():
    # A regular grid over mainland latitudes/longitudes, for the round-trip bound.
    for lon10 in range(740, 1350, 37):
        for lat10 in range(185, 530, 23):
            yield lon10 / 10, lat10 / 10


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_PAIRS)
def test_wgs84_to_gcj02_matches_reference(wgs, gcj):
    assert distance_m(*wgs84_to_gcj02(*wgs), *gcj) < 0.5
    # The published values were computed with the same formula: equal to float precision.
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_PAIRS)
def test_gcj02_to_wgs84_matches_reference(wgs, gcj):
    assert distance_m(*gcj02_to_wgs84(*gcj), *wgs) < 0.01


def test_coordtransform_reference_values():
    assert distance_m(*wgs84_to_gcj02(*CT_INPUT), *CT_WGS_TO_GCJ) < 0.5
    assert distance_m(*gcj02_to_bd09(*CT_INPUT), *CT_GCJ_TO_BD) < 0.5
    assert distance_m(*bd09_to_gcj02(*CT_INPUT), *CT_BD_TO_GCJ) < 0.5
    assert gcj02_to_bd09(*CT_INPUT) == pytest.approx(CT_GCJ_TO_BD, abs=1e-12)


def test_offsets_have_the_expected_size():
    # GCJ-02 moves points by tens to hundreds of metres; BD-09 adds roughly another 1 km.
    for lon, lat in CHINA_POINTS:
        gcj = wgs84_to_gcj02(lon, lat)
        assert 10 < distance_m(lon, lat, *gcj) < 1000
        assert 200 < distance_m(*gcj, *gcj02_to_bd09(*gcj)) < 1500


@pytest.mark.parametrize(("lon", "lat"), CHINA_POINTS)
def test_round_trips_at_named_points(lon, lat):
    assert distance_m(*gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat)), lon, lat) < 0.01
    assert distance_m(*to_wgs84(*from_wgs84(lon, lat, "gcj02"), "gcj02"), lon, lat) < 0.01
    assert distance_m(*to_wgs84(*from_wgs84(lon, lat, "bd09"), "bd09"), lon, lat) < 0.01
    assert distance_m(*bd09_to_gcj02(*gcj02_to_bd09(lon, lat)), lon, lat) < 0.01


def test_round_trips_over_a_grid():
    worst_gcj = worst_bd = 0.0
    for lon, lat in _grid():
        worst_gcj = max(worst_gcj, distance_m(*to_wgs84(*from_wgs84(lon, lat, "gcj02"), "gcj02"), lon, lat))
        worst_bd = max(worst_bd, distance_m(*to_wgs84(*from_wgs84(lon, lat, "bd09"), "bd09"), lon, lat))
    # The iteration stops below 1e-10°, i.e. around a centimetre at the very worst.
    assert worst_gcj < 0.01
    assert worst_bd < 0.01


def test_inverse_really_inverts_the_forward_map():
    # Starting from GCJ: the WGS point found must map back onto it.
    for lon, lat in CHINA_POINTS:
        assert distance_m(*wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat)), lon, lat) < 0.01
        assert distance_m(*gcj02_to_bd09(*bd09_to_gcj02(lon, lat)), lon, lat) < 0.01


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE_CHINA)
def test_no_offset_outside_china(lon, lat):
    assert not in_china(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)
    for crs in ("wgs84", "gcj02", "bd09"):
        assert to_wgs84(lon, lat, crs) == (lon, lat)
        assert from_wgs84(lon, lat, crs) == (lon, lat)


def test_in_china_box():
    assert all(in_china(lon, lat) for lon, lat in CHINA_POINTS)
    assert in_china(72.004, 0.8293) and in_china(137.8347, 55.8271)
    assert not in_china(72.0039, 30) and not in_china(137.8348, 30)
    assert not in_china(100, 0.8292) and not in_china(100, 55.8272)


def test_wgs84_is_identity():
    assert to_wgs84(107.8, 30.7, "wgs84") == (107.8, 30.7)
    assert from_wgs84(107.8, 30.7, "wgs84") == (107.8, 30.7)


def test_crs_is_case_insensitive():
    assert to_wgs84(107.8, 30.7, "GCJ02") == to_wgs84(107.8, 30.7, "gcj02")


@pytest.mark.parametrize("crs", ["wgs-84", "cgcs2000", "", None, 4326])
def test_unknown_crs(crs):
    with pytest.raises(ValidationFailed) as exc:
        to_wgs84(107.8, 30.7, crs)
    assert exc.value.code == "geo.unknown_crs"
    with pytest.raises(ValidationFailed) as exc:
        from_wgs84(107.8, 30.7, crs)
    assert exc.value.code == "geo.unknown_crs"


def test_distance():
    # One degree of latitude on the mean sphere.
    assert distance_m(0, 0, 0, 1) == pytest.approx(2 * math.pi * 6371008.8 / 360, rel=1e-12)
    assert distance_m(107.8, 30.7, 107.8, 30.7) == 0
    # Beijing – Shanghai, about 1067 km.
    assert distance_m(116.4074, 39.9042, 121.4737, 31.2304) == pytest.approx(1_067_000, rel=0.01)


# ---- LocationIn: the one validator of every point a phone sends (SYNC_PROTOCOL.md §5) -------------


def _load(data):
    return LocationIn().load(data)


def _fields(exc):
    return set(exc.value.normalized_messages())


def test_location_defaults_to_wgs84():
    assert _load({"lon": 107.8, "lat": 30.7})["lon"] == 107.8
    loaded = _load({"lon": 107, "lat": 30, "accuracy_m": 5})
    assert (loaded["lon"], loaded["lat"], loaded["accuracy_m"]) == (107.0, 30.0, 5.0)


def test_location_converts_gcj02_and_bd09():
    wgs = (107.8, 30.7)
    gcj = wgs84_to_gcj02(*wgs)
    bd = gcj02_to_bd09(*gcj)
    loaded = _load({"lon": gcj[0], "lat": gcj[1], "crs": "gcj02", "accuracy_m": 15})
    assert distance_m(loaded["lon"], loaded["lat"], *wgs) < 0.01 and loaded["accuracy_m"] == 15.0
    assert loaded["given"] == {"lon": gcj[0], "lat": gcj[1], "crs": "gcj02"}
    loaded = _load({"lon": bd[0], "lat": bd[1], "crs": "bd09"})
    assert distance_m(loaded["lon"], loaded["lat"], *wgs) < 0.01


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"lat": 30.7}, {"lon"}),
        ({"lon": None, "lat": 30.7}, {"lon"}),
        ({"lon": True, "lat": 30.7}, {"lon"}),
        ({"lon": float("nan"), "lat": 30.7}, {"lon"}),
        ({"lon": float("inf"), "lat": 30.7}, {"lon"}),
        ({"lon": 180.5, "lat": 30.7}, {"lon"}),
        ({"lon": -181, "lat": 30.7}, {"lon"}),
        ({"lon": 107.8, "lat": 90.01}, {"lat"}),
        ({"lon": 107.8, "lat": [30.7]}, {"lat"}),
        ({"lon": 107.8, "lat": 30.7, "crs": "gps"}, {"crs"}),
        ({"lon": 107.8, "lat": 30.7, "accuracy_m": -1}, {"accuracy_m"}),
        ({"lng": 107.8, "lat": 30.7}, {"lng", "lon"}),
        ({"lon": "x", "lat": 100, "crs": "utm"}, {"lon", "lat", "crs"}),
    ],
)
def test_location_errors_name_their_fields(data, expected):
    with pytest.raises(ValidationError) as exc:
        _load(data)
    assert _fields(exc) == expected


def test_location_limits_are_inclusive():
    assert _load({"lon": -180, "lat": -90})["lon"] == -180.0
    loaded = _load({"lon": 180, "lat": 90, "accuracy_m": 0})
    assert (loaded["lon"], loaded["lat"], loaded["accuracy_m"]) == (180.0, 90.0, 0.0)
