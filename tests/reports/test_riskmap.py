"""The four-colour risk map as GeoJSON: RFC 7946 structure, valid WGS-84 geometries, the right grids
and enterprises with their colours, scoped like the rest."""

from __future__ import annotations

import json
import math

from shapely.geometry import shape
from sqlalchemy import func, select, update

from enterprises.models import Enterprise
from geo.models import Grid, Region
from reports.riskmap import RISK_FILL, RISK_LABELS

GEOJSON = "application/geo+json"


def _map(client, headers, **query):
    return client.get("/api/v1/reports/riskmap.geojson", headers=headers, query_string=query)


def _check_rfc7946(document: dict) -> None:
    """What RFC 7946 asks of a FeatureCollection, checked feature by feature."""
    assert document["type"] == "FeatureCollection" and "crs" not in document
    for feature in document["features"]:
        assert feature["type"] == "Feature" and isinstance(feature["properties"], dict)
        assert isinstance(feature["id"], str)
        geometry = feature["geometry"]
        assert geometry["type"] in ("Point", "MultiPolygon")
        geom = shape(geometry)
        assert geom.is_valid and not geom.is_empty
        for lon, lat in _positions(geometry):
            assert -180 <= lon <= 180 and -90 <= lat <= 90
        if geometry["type"] == "MultiPolygon":
            for polygon in geometry["coordinates"]:
                exterior, *holes = polygon
                assert exterior[0] == exterior[-1] and len(exterior) >= 4
                assert _signed_area(exterior) > 0  # counter-clockwise, the right-hand rule
                assert all(_signed_area(hole) < 0 for hole in holes)


def _positions(geometry):
    if geometry["type"] == "Point":
        yield geometry["coordinates"]
    else:
        for polygon in geometry["coordinates"]:
            for ring in polygon:
                yield from ring


def _signed_area(ring) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:])) / 2


def test_a_towns_grids_and_enterprises_with_their_colours(client, login, session, demo):
    town = demo.towns[0]
    grid = demo.grid_of["gridworker1"]
    # Make one grid's riskiest enterprise orange: the grid takes that colour.
    in_grid = list(session.scalars(select(Enterprise.id).where(Enterprise.grid_id == grid)))
    session.execute(update(Enterprise).where(Enterprise.id.in_(in_grid)).values(risk="blue"))
    session.execute(update(Enterprise).where(Enterprise.id == in_grid[0]).values(risk="orange"))
    session.flush()

    response = _map(client, login("desk"), region=town.code)
    assert response.status_code == 200 and response.mimetype == GEOJSON
    document = json.loads(response.data)
    _check_rfc7946(document)
    assert document["name"] == f"{town.name}四色安全风险空间分布图"

    grids = [f for f in document["features"] if f["properties"]["layer"] == "grid"]
    enterprises = [f for f in document["features"] if f["properties"]["layer"] == "enterprise"]
    assert {f["id"] for f in grids} == {
        f"grid/{g}" for g in session.scalars(select(Grid.id).where(Grid.town_id == town.id))
    }
    in_town = session.scalar(
        select(func.count())
        .select_from(Enterprise)
        .join(Region, Region.id == Enterprise.region_id)
        .where(Region.parent_id == town.id)
    )
    assert len(enterprises) == in_town

    mine = next(f for f in grids if f["id"] == f"grid/{grid}")["properties"]
    assert mine["risk"] == "orange" and mine["risk_label"] == "较大风险" and mine["fill"] == RISK_FILL["orange"]
    assert (mine["orange"], mine["blue"], mine["enterprises"]) == (1, len(in_grid) - 1, len(in_grid))
    assert mine["workers"] == demo.users["gridworker1"].name
    retailer = next(f for f in enterprises if f["id"] == f"enterprise/{demo.retailer.id}")
    props = retailer["properties"]
    assert props["name"] == demo.retailer.name and props["uscc"] == demo.retailer.uscc
    assert props["risk_label"] == RISK_LABELS[props["risk"]] and props["fill"] == RISK_FILL[props["risk"]]
    lon, lat = session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == demo.retailer.id)
    ).one()
    assert math.isclose(retailer["geometry"]["coordinates"][0], lon, abs_tol=1e-7)
    assert math.isclose(retailer["geometry"]["coordinates"][1], lat, abs_tol=1e-7)


def test_one_layer_at_a_time_and_the_whole_district(client, login, demo):
    desk = login("desk")
    points = json.loads(_map(client, desk, region=demo.towns[0].code, layer="enterprises").data)
    assert {f["geometry"]["type"] for f in points["features"]} == {"Point"}
    polygons = json.loads(_map(client, desk, region=demo.towns[0].code, layer="grids").data)
    assert {f["geometry"]["type"] for f in polygons["features"]} == {"MultiPolygon"}
    district = json.loads(_map(client, desk, region=demo.towns[0].code[:6] + "000000", layer="grids").data)
    _check_rfc7946(district)
    assert len(district["features"]) == len(demo.grids)


def test_the_map_is_scoped_and_wants_a_town_or_district(client, login, session, demo):
    from accounts.service import create_user

    village = _map(client, login("desk"), region=demo.villages[0].code)
    assert village.status_code == 422 and village.get_json()["errors"][0]["code"] == "riskmap.region_level"
    assert _map(client, login("gridworker1"), region=demo.towns[0].code).status_code == 403
    create_user(
        session,
        username="town2-desk",
        name="白沙镇内勤",
        password="anxun-demo",
        roles=["desk_officer"],
        region_id=demo.towns[1].id,
    )
    assert _map(client, login("town2-desk"), region=demo.towns[0].code).status_code == 404
    assert _map(client, login("town2-desk"), region=demo.towns[1].code).status_code == 200
    assert _map(client, login("desk"), layer="all").status_code == 422  # region is required


def test_the_report_endpoints_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/stats/monthly" in paths and "/api/v1/reports/riskmap.geojson" in paths
    export = paths["/api/v1/hazards/export.xlsx"]["get"]
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in export["responses"]["200"]["content"]
    assert {p["name"] for p in export["parameters"]} >= {"status", "level", "region", "overdue", "sort"}
    assert not {p["name"] for p in export["parameters"]} & {"page", "per_page"}
