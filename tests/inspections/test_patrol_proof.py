"""Patrol proof: a visit counts as patrolled only when it was recorded within the geofence of the
enterprise; the track keeps its times; a task completed by a record the server lacks waits."""

import uuid

import pytest
from sqlalchemy import func, select

from enterprises.models import Enterprise
from geo.models import Grid, Region
from tests.inspections.test_patrols import _patrol

FAR = 0.0432  # degrees of latitude: 4.8 km north


def _position(session, enterprise):
    return session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == enterprise.id)
    ).one()


def _visit(enterprise, location, at="2026-11-22T08:30:00+08:00"):
    return {
        "enterprise_id": str(enterprise.id),
        "at": at,
        "location": location,
        "outcome": "normal",
        "note": "",
        "photos": [],
    }


def _town_figures(client, login, town):
    response = client.get(
        "/api/v1/stats/monthly", headers=login("desk"), query_string={"region": town.code, "month": "2026-11"}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["figures"]


def test_visits_beyond_the_geofence_are_kept_flagged_and_do_not_count(client, login, session, demo, inspection_body):
    worker = login("gridworker1")
    near, unplaced = session.scalars(
        select(Enterprise)
        .where(Enterprise.grid_id == demo.retailer.grid_id, Enterprise.id != demo.retailer.id)
        .order_by(Enterprise.uscc)
        .limit(2)
    ).all()
    lon, lat = _position(session, demo.retailer)
    n_lon, n_lat = _position(session, near)
    body, _ = _patrol(session, demo)
    body["visits"] = [
        _visit(demo.retailer, {"lon": lon, "lat": lat + FAR}),
        _visit(near, {"lon": n_lon, "lat": n_lat + 0.001}),  # 111 m: within 300 m
        _visit(unplaced, None),
    ]
    response = client.post("/api/v1/patrols", headers=worker, json=body)
    assert response.status_code == 201, response.get_json()
    visits = client.get(f"/api/v1/patrols/{body['id']}", headers=login("desk")).get_json()["visits"]
    assert [v["outside_geofence"] for v in visits] == [True, False, None]
    assert 4700 < visits[0]["distance_m"] < 4900
    # A 网格员巡查 inspection recorded 4.8 km away is no proof either.
    check = inspection_body(
        kind="patrol_check", inspectors=[demo.users["gridworker1"].id], location={"lon": lon, "lat": lat + FAR}
    )
    recorded = client.post("/api/v1/inspections", headers=worker, json=check)
    assert recorded.status_code == 201 and recorded.get_json()["outside_geofence"] is True
    town = session.get(Region, session.get(Region, demo.retailer.region_id).parent_id)
    figures = _town_figures(client, login, town)
    assert figures["enterprises_patrolled"] == 1  # the one visited within the geofence
    assert figures["inspections_by_kind"]["patrol_check"] == 1  # kept and counted as an inspection


def test_far_visits_do_not_lift_a_town_in_the_ranking(client, login, session, demo):
    """Patrol coverage is the ranking's first criterion: visits made from afar must not buy a rank."""
    near_town = session.get(Region, session.get(Region, demo.retailer.region_id).parent_id)
    far_grid = session.get(Grid, demo.grid_of["gridworker3"])
    far_town = session.get(Region, far_grid.town_id)
    lon, lat = _position(session, demo.retailer)
    body, _ = _patrol(session, demo)
    body["visits"] = [_visit(demo.retailer, {"lon": lon, "lat": lat})]
    assert client.post("/api/v1/patrols", headers=login("gridworker1"), json=body).status_code == 201
    theirs = session.scalars(
        select(Enterprise).where(Enterprise.grid_id == far_grid.id).order_by(Enterprise.uscc).limit(3)
    ).all()
    far = {
        "id": str(uuid.uuid4()),
        "grid_id": str(far_grid.id),
        "started_at": "2026-11-22T08:00:00+08:00",
        "ended_at": "2026-11-22T09:00:00+08:00",
        "track": None,
        "notes": "",
        "visits": [_visit(e, {"lon": _position(session, e)[0], "lat": _position(session, e)[1] + FAR}) for e in theirs],
    }
    assert client.post("/api/v1/patrols", headers=login("gridworker3"), json=far).status_code == 201
    near_figures, far_figures = _town_figures(client, login, near_town), _town_figures(client, login, far_town)
    assert far_figures["enterprises_patrolled"] == 0 and far_figures["patrol_coverage"] == 0
    assert near_figures["rank"] == 1 and far_figures["rank"] > 1


def test_a_patrol_read_gives_the_times_of_its_track(client, login, session, demo):
    body, _ = _patrol(session, demo)
    assert client.post("/api/v1/patrols", headers=login("gridworker1"), json=body).status_code == 201
    track = client.get(f"/api/v1/patrols/{body['id']}", headers=login("desk")).get_json()["track"]
    assert track["type"] == "LineString" and len(track["coordinates"]) == 3
    assert [t[:19] for t in track["times"]] == ["2026-11-22T08:00:00", "2026-11-22T08:30:00", "2026-11-22T09:00:00"]


@pytest.mark.parametrize("entity", ["patrol", "inspection", "hazard"])
def test_completing_a_task_by_a_record_the_server_lacks_waits_as_an_unknown_reference(
    session, clock, demo, push, entity
):
    from inspections.models import Task

    worker = demo.users["gridworker1"]
    task = Task(
        kind="patrol",
        title="巡查",
        assignee_id=worker.id,
        target_entity="enterprise",
        target_id=demo.retailer.id,
        enterprise_id=demo.retailer.id,
        due=clock.now(),
        period_key="2026-W47",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(task)
    session.flush()
    result = push(
        "gridworker1",
        "task",
        "transition",
        task.id,
        base_version=1,
        data={"action": "complete", "note": "", "result": {"entity": entity, "id": str(uuid.uuid4())}},
    )
    assert (result["status"], result["retryable"], result["code"]) == ("rejected", True, "sync.unknown_reference")
    assert result["errors"][0]["field"] == "data.result.id"
    session.expire_all()
    assert session.get(Task, task.id).status == "open"
