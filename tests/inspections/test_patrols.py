"""Grid workers' patrols: their own grid only, tracks converted to WGS-84, visits in scope."""

import uuid

from sqlalchemy import func, select

from enterprises.models import Enterprise
from geo.coords import wgs84_to_gcj02


def _patrol(session, demo, worker="gridworker1", enterprise=None, **overrides):
    enterprise = enterprise or demo.retailer
    lon, lat = session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == enterprise.id)
    ).one()
    track = [wgs84_to_gcj02(lon + d, lat + d) for d in (0.0, 0.001, 0.002)]
    body = {
        "id": str(uuid.uuid4()),
        "grid_id": str(demo.grid_of[worker]),
        "started_at": "2026-11-22T08:00:00+08:00",
        "ended_at": "2026-11-22T11:00:00+08:00",
        "track": {
            "crs": "gcj02",
            "coordinates": [list(p) for p in track],
            "times": ["2026-11-22T08:00:00+08:00", "2026-11-22T08:30:00+08:00", "2026-11-22T09:00:00+08:00"],
        },
        "visits": [
            {
                "enterprise_id": str(enterprise.id),
                "at": "2026-11-22T08:30:00+08:00",
                "location": {"lon": lon, "lat": lat},
                "outcome": "normal",
                "note": "",
                "photos": [],
            }
        ],
        "notes": "早巡",
    }
    body.update(overrides)
    return body, (lon, lat)


def test_patrol_of_own_grid_with_a_gcj02_track(client, login, session, demo):
    body, (lon, lat) = _patrol(session, demo)
    response = client.post("/api/v1/patrols", headers=login("gridworker1"), json=body)
    assert response.status_code == 201, response.get_json()
    out = response.get_json()
    first = out["track"]["coordinates"][0]
    assert abs(first[0] - lon) < 1e-6 and abs(first[1] - lat) < 1e-6
    assert out["visits"][0]["outcome"] == "normal" and out["visits"][0]["distance_m"] < 0.01
    assert client.get(f"/api/v1/patrols/{body['id']}", headers=login("desk")).status_code == 200
    assert client.get(f"/api/v1/patrols/{body['id']}", headers=login("gridworker2")).status_code == 404


def test_patrol_of_someone_elses_grid_is_refused(client, login, session, demo):
    body, _ = _patrol(session, demo, worker="gridworker2")
    response = client.post("/api/v1/patrols", headers=login("gridworker1"), json=body)
    assert response.status_code == 422 and response.get_json()["errors"][0]["code"] == "patrol.grid_not_assigned"


def test_visit_to_an_enterprise_outside_the_grid_is_refused_by_field(client, login, session, demo):
    other = session.scalar(select(Enterprise).where(Enterprise.grid_id == demo.grid_of["gridworker2"]).limit(1))
    body, _ = _patrol(session, demo)
    body["visits"].append(dict(body["visits"][0], enterprise_id=str(other.id)))
    response = client.post("/api/v1/patrols", headers=login("gridworker1"), json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "visits.1.enterprise_id"


def test_only_grid_workers_patrol(client, login, session, demo):
    body, _ = _patrol(session, demo)
    assert client.post("/api/v1/patrols", headers=login("inspector1"), json=body).status_code == 403


def test_visits_keep_their_order_and_each_gets_its_own_distance(client, login, session, demo):
    """Visits are written in one statement: the order the phone sent, the distance of each visit to
    its own enterprise (geography, metres), none where the phone had no fix."""
    body, (lon, lat) = _patrol(session, demo)
    neighbours = session.scalars(
        select(Enterprise)
        .where(Enterprise.grid_id == demo.grid_of["gridworker1"], Enterprise.id != demo.retailer.id)
        .limit(2)
    ).all()
    assert len(neighbours) == 2
    first = body["visits"][0]
    # 0.001° north of the shop: 111 m; the second neighbour visited without a position.
    body["visits"] = [
        dict(first, location={"lon": lon, "lat": lat + 0.001}, at="2026-11-22T08:10:00+08:00"),
        dict(first, enterprise_id=str(neighbours[0].id), at="2026-11-22T08:20:00+08:00"),
        dict(first, enterprise_id=str(neighbours[1].id), location=None, at="2026-11-22T08:40:00+08:00"),
    ]
    response = client.post("/api/v1/patrols", headers=login("gridworker1"), json=body)
    assert response.status_code == 201, response.get_json()
    visits = response.get_json()["visits"]
    assert [v["enterprise_id"] for v in visits] == [str(demo.retailer.id), str(neighbours[0].id), str(neighbours[1].id)]
    assert 110 < visits[0]["distance_m"] < 112
    n_lon, n_lat = session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == neighbours[0].id)
    ).one()
    expected = session.scalar(
        select(
            func.ST_Distance(
                func.Geography(func.ST_SetSRID(func.ST_MakePoint(n_lon, n_lat), 4326)),
                func.Geography(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)),
            )
        )
    )
    assert abs(visits[1]["distance_m"] - expected) < 0.01
    assert visits[2]["distance_m"] is None
