"""enterprises.geofence.check: distance in metres on the spheroid from a point to an enterprise, against a
threshold; points in GCJ-02/BD-09 are converted first."""

import math
import uuid

import pytest

from core.errors import NotFound
from geo.coords import from_wgs84
from enterprises.geofence import check
from tests.geo.conftest import WGS84_A, WGS84_F

ENTERPRISE = (107.41, 30.405)


def meridian_arc_m(lat1: float, lat2: float) -> float:
    """Distance along a meridian on the WGS-84 ellipsoid (Simpson's rule): the reference."""
    e2 = WGS84_F * (2 - WGS84_F)
    n = 1000
    h = math.radians(lat2 - lat1) / n

    def radius(phi):
        return WGS84_A * (1 - e2) / (1 - e2 * math.sin(phi) ** 2) ** 1.5

    phis = [math.radians(lat1) + i * h for i in range(n + 1)]
    return abs(h / 3 * sum(radius(p) * (1 if i in (0, n) else 4 if i % 2 else 2) for i, p in enumerate(phis)))


@pytest.fixture
def enterprise(make_enterprise):
    return make_enterprise(*ENTERPRISE)


@pytest.mark.parametrize("metres_north", [5, 150, 2000])
def test_distance_is_metres_on_the_spheroid(session, enterprise, metres_north):
    lat = ENTERPRISE[1] + metres_north / 110_850  # about a metre per 1/110850 degree here
    result = check(session, enterprise.id, ENTERPRISE[0], lat, 200)
    assert result["distance_m"] == pytest.approx(meridian_arc_m(ENTERPRISE[1], lat), abs=0.01)
    assert result["within"] is (result["distance_m"] <= 200) and result["threshold_m"] == 200


def test_threshold_is_inclusive_and_configurable(session, enterprise):
    lat = ENTERPRISE[1] + 100 / 110_850
    distance = check(session, enterprise.id, ENTERPRISE[0], lat, 0)["distance_m"]
    assert check(session, enterprise.id, ENTERPRISE[0], lat, distance)["within"] is True
    assert check(session, enterprise.id, ENTERPRISE[0], lat, distance - 0.01)["within"] is False


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_points_from_chinese_map_sdks_are_converted_first(session, enterprise, crs):
    lon, lat = from_wgs84(*ENTERPRISE, crs)
    assert check(session, enterprise.id, lon, lat, 50, crs=crs)["distance_m"] < 0.01
    # The same numbers taken as WGS-84 are hundreds of metres off: the mistake the crs prevents.
    assert check(session, enterprise.id, lon, lat, 50)["distance_m"] > 300


def test_unknown_enterprise(session):
    with pytest.raises(NotFound):
        check(session, uuid.uuid4(), *ENTERPRISE, 200)
