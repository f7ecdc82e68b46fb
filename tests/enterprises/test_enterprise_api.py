"""Enterprise create and edit: USCC check digit, optimistic locking, grid from location, audit."""

from sqlalchemy import select

from audit.models import AuditEntry
from enterprises.uscc import make_uscc
from geo.coords import wgs84_to_gcj02


def _new(demo, **overrides):
    body = {
        "name": "新开烟花零售点",
        "uscc": make_uscc("91500299MA9999999"),
        "industry": "fireworks",
        "subtype": "retail",
        "risk": "orange",
        "address": "石桥社区",
        "location": None,
    }
    body.update(overrides)
    return body


def _point_in(session, region):
    from sqlalchemy import func

    from geo.models import Region

    return session.execute(
        select(
            func.ST_X(func.ST_PointOnSurface(Region.geometry)), func.ST_Y(func.ST_PointOnSurface(Region.geometry))
        ).where(Region.id == region.id)
    ).one()


def test_create_places_enterprise_in_its_village_and_grid(client, login, session, demo):
    lon, lat = _point_in(session, demo.villages[0])
    response = client.post(
        "/api/v1/enterprises", headers=login("desk"), json=_new(demo, location={"lon": lon, "lat": lat})
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["region_code"] == demo.villages[0].code
    assert body["grid_id"] == str(demo.grid_of["gridworker1"])
    assert abs(body["location"]["lon"] - lon) < 1e-9


def test_create_converts_gcj02_locations_to_wgs84(client, login, session, demo):
    lon, lat = _point_in(session, demo.villages[0])
    glon, glat = wgs84_to_gcj02(lon, lat)
    body = client.post(
        "/api/v1/enterprises",
        headers=login("desk"),
        json=_new(demo, location={"lon": glon, "lat": glat, "crs": "gcj02"}),
    ).get_json()
    assert abs(body["location"]["lon"] - lon) < 1e-7 and abs(body["location"]["lat"] - lat) < 1e-7


def test_create_refuses_a_bad_check_digit(client, login, session, demo):
    lon, lat = _point_in(session, demo.villages[0])
    good = make_uscc("91500299MA9999998")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = client.post(
        "/api/v1/enterprises", headers=login("desk"), json=_new(demo, uscc=bad, location={"lon": lon, "lat": lat})
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "enterprise.invalid_uscc"
    assert body["errors"][0]["field"] == "uscc"


def test_grid_workers_cannot_create_or_edit(client, login, demo):
    headers = login("gridworker1")
    assert client.post("/api/v1/enterprises", headers=headers, json={}).status_code == 403
    assert (
        client.patch(
            f"/api/v1/enterprises/{demo.retailer.id}", headers=headers, json={"version": 1, "risk": "red"}
        ).status_code
        == 403
    )


def test_patch_with_stale_version_is_409_with_current(client, login, demo, session):
    headers = login("desk")
    current = client.get(f"/api/v1/enterprises/{demo.retailer.id}", headers=headers).get_json()
    ok = client.patch(
        f"/api/v1/enterprises/{demo.retailer.id}", headers=headers, json={"version": current["version"], "risk": "red"}
    )
    assert ok.status_code == 200
    assert ok.get_json()["version"] == current["version"] + 1
    stale = client.patch(
        f"/api/v1/enterprises/{demo.retailer.id}", headers=headers, json={"version": current["version"], "risk": "blue"}
    )
    assert stale.status_code == 409
    assert stale.get_json()["current"]["risk"] == "red"
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "enterprise", AuditEntry.entity_id == str(demo.retailer.id))
    ).all()
    assert [e.action for e in entries] == ["update"]
    assert entries[0].summary["after"] == {"risk": "red"}


def test_moving_an_enterprise_moves_it_to_the_new_grid(client, login, session, demo):
    headers = login("desk")
    lon, lat = _point_in(session, demo.villages[1])
    current = client.get(f"/api/v1/enterprises/{demo.retailer.id}", headers=headers).get_json()
    moved = client.patch(
        f"/api/v1/enterprises/{demo.retailer.id}",
        headers=headers,
        json={"version": current["version"], "location": {"lon": lon, "lat": lat}},
    ).get_json()
    assert moved["grid_id"] == str(demo.grid_of["gridworker2"])
    assert moved["region_code"] == demo.villages[1].code
    assert moved["version"] == current["version"] + 1
    # It left gridworker1's view and entered gridworker2's.
    assert client.get(f"/api/v1/enterprises/{demo.retailer.id}", headers=login("gridworker1")).status_code == 404
    assert client.get(f"/api/v1/enterprises/{demo.retailer.id}", headers=login("gridworker2")).status_code == 200


def test_enterprise_outside_every_grid_is_listed_not_dropped(client, login, make_enterprise):
    outside = make_enterprise(107.2, 30.1, name="界外企业")
    assert outside.grid_id is None
    items = client.get("/api/v1/enterprises?outside_grids=true", headers=login("admin")).get_json()["items"]
    assert [i["name"] for i in items] == ["界外企业"]
