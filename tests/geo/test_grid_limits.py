"""A drawn grid's size is bounded: vertices are counted before any geometry work."""

import math

import pytest

from api.app import create_app

CENTRE = (107.415, 30.415)  # inside the test town


def circle(vertices: int, radius: float = 0.004, centre=CENTRE) -> list[list[float]]:
    """A closed ring of ``vertices`` positions (the closing one included)."""
    lon, lat = centre
    ring = [
        [
            lon + radius * math.cos(2 * math.pi * i / (vertices - 1)),
            lat + radius * math.sin(2 * math.pi * i / (vertices - 1)),
        ]
        for i in range(vertices - 1)
    ]
    return ring + [ring[0]]


def test_a_grid_of_as_many_vertices_as_allowed_is_made_and_one_more_is_refused(client, desk, imported, settings):
    limit = settings.max_geometry_vertices
    assert limit == 20_000
    response = client.post(
        "/api/v1/grids",
        headers=desk,
        json={"name": "边界很细的网格", "geometry": {"type": "Polygon", "coordinates": [circle(limit)]}},
    )
    assert response.status_code == 201, response.get_json()

    response = client.post(
        "/api/v1/grids",
        headers=desk,
        json={"name": "边界过细的网格", "geometry": {"type": "Polygon", "coordinates": [circle(limit + 1)]}},
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "geo.too_many_vertices"
    assert body["errors"] == [{"code": "geo.too_many_vertices", "field": "geometry", "message": body["detail"]}]


@pytest.fixture
def small_limit_client(settings, session_factory, clock):
    return create_app(
        settings.replace(max_geometry_vertices=50), session_factory=session_factory, clock=clock
    ).test_client()


@pytest.mark.parametrize(
    "body, field",
    [
        # Every ring and every part counts: 2 × 26 positions.
        (
            {
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": [
                        [circle(26, centre=(107.412, 30.412), radius=0.001)],
                        [circle(26, centre=(107.418, 30.418), radius=0.001)],
                    ],
                }
            },
            "geometry",
        ),
        ({"geometry": {"type": "Polygon", "coordinates": [circle(40), circle(12, radius=0.001)]}}, "geometry"),
        (
            {
                "split": {
                    "village": "500299200201",
                    "at": {"lon": 107.401, "lat": 30.401},
                    "blade": {"type": "LineString", "coordinates": [[107.4 + i * 1e-4, 30.4] for i in range(51)]},
                }
            },
            "split.blade",
        ),
    ],
)
def test_vertices_of_every_ring_part_and_blade_count(small_limit_client, login, imported, body, field):
    response = small_limit_client.post("/api/v1/grids", headers=login("desk"), json={"name": "网格", **body})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == "geo.too_many_vertices"
    assert response.get_json()["errors"][0]["field"] == field


def test_an_edited_boundary_is_bounded_too(small_limit_client, login, imported, make_grid):
    grid = make_grid("小网格", geometry={"type": "Polygon", "coordinates": [circle(30)]})
    response = small_limit_client.patch(
        f"/api/v1/grids/{grid['id']}",
        headers=login("desk"),
        json={"version": grid["properties"]["version"], "geometry": {"type": "Polygon", "coordinates": [circle(51)]}},
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "geo.too_many_vertices"
