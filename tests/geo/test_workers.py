"""PUT/GET /grids/{id}/workers: desk officers put grid workers on grids; the history keeps who
assigned whom, when, and who ended it; the worker's view (and phone) follows."""

import uuid

import pytest
from sqlalchemy import func, select

from audit.models import AuditEntry
from geo.models import GridAssignment
from tests.geo.conftest import QIAOTOU, XIKOU


def workers_url(grid):
    return f"/api/v1/grids/{grid['id']}/workers"


def test_assigning_and_replacing_workers_keeps_the_history(client, desk, demo, session, village_grids, clock):
    grid = village_grids[XIKOU]
    gw1, gw2 = demo.users["gridworker1"], demo.users["gridworker2"]
    desk_user = demo.users["desk"]

    first = client.put(workers_url(grid), json={"worker_ids": [str(gw1.id)]}, headers=desk)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert [w["worker"]["username"] for w in body["workers"]] == ["gridworker1"]
    assert body["version"] == 2
    assigned_at = body["workers"][0]["assigned_at"]

    clock.advance(hours=3)
    second = client.put(workers_url(grid), json={"worker_ids": [str(gw2.id)], "version": 2}, headers=desk).get_json()
    assert [w["worker"]["username"] for w in second["workers"]] == ["gridworker2"]
    assert second["version"] == 3
    history = [
        (
            h["worker"]["username"],
            h["assigned_at"],
            h["assigned_by"]["id"],
            h["ended_at"],
            (h["ended_by"] or {}).get("id"),
        )
        for h in second["history"]
    ]
    assert history == [
        ("gridworker2", second["workers"][0]["assigned_at"], str(desk_user.id), None, None),
        ("gridworker1", assigned_at, str(desk_user.id), second["workers"][0]["assigned_at"], str(desk_user.id)),
    ]
    assert history[1][3] > history[1][1]  # ended three hours after it began

    # Anyone who sees the grid reads the same list; the grid's feature names its current workers.
    assert client.get(workers_url(grid), headers=desk).get_json() == second
    feature = client.get(f"/api/v1/grids/{grid['id']}", headers=desk).get_json()
    assert [w["username"] for w in feature["properties"]["workers"]] == ["gridworker2"]
    assert feature["properties"]["version"] == 3
    rows = session.scalars(select(GridAssignment).where(GridAssignment.grid_id == grid["id"])).all()
    assert sorted((r.user_id == gw1.id, r.ended_at is None) for r in rows) == [(False, True), (True, False)]
    audit = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_id == grid["id"], AuditEntry.action == "assign_workers")
        .order_by(AuditEntry.id)
    ).all()
    assert [a.summary for a in audit] == [
        {"added": [str(gw1.id)], "removed": []},
        {"added": [str(gw2.id)], "removed": [str(gw1.id)]},
    ]


def test_the_same_list_again_changes_nothing(client, desk, demo, session, village_grids):
    grid = village_grids[XIKOU]
    ids = [str(demo.users["gridworker1"].id), str(demo.users["gridworker2"].id)]
    client.put(workers_url(grid), json={"worker_ids": ids}, headers=desk)
    again = client.put(workers_url(grid), json={"worker_ids": list(reversed(ids))}, headers=desk).get_json()
    assert again["version"] == 2 and len(again["history"]) == 2
    assert (
        session.scalar(select(func.count()).select_from(GridAssignment).where(GridAssignment.grid_id == grid["id"]))
        == 2
    )


def test_an_empty_list_takes_everyone_off(client, desk, demo, village_grids):
    grid = village_grids[XIKOU]
    client.put(workers_url(grid), json={"worker_ids": [str(demo.users["gridworker1"].id)]}, headers=desk)
    cleared = client.put(workers_url(grid), json={"worker_ids": []}, headers=desk).get_json()
    assert cleared["workers"] == [] and cleared["history"][0]["ended_at"] is not None


def test_a_worker_may_work_several_grids_and_sees_them(client, login, desk, demo, village_grids):
    gw1 = demo.users["gridworker1"]
    for code in (XIKOU, QIAOTOU):
        client.put(workers_url(village_grids[code]), json={"worker_ids": [str(gw1.id)]}, headers=desk)
    worker = login("gridworker1")
    mine = {f["id"] for f in client.get("/api/v1/grids", headers=worker).get_json()["features"]}
    assert mine == {village_grids[XIKOU]["id"], village_grids[QIAOTOU]["id"], str(demo.grid_of["gridworker1"])}
    assert client.get(workers_url(village_grids[XIKOU]), headers=worker).status_code == 200
    assert client.get(workers_url(village_grids[XIKOU]), headers=login("gridworker2")).status_code == 404


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("inspector1", "geo.not_a_grid_worker"),
        ("desk", "geo.not_a_grid_worker"),
        (None, "geo.unknown_worker"),
    ],
)
def test_only_grid_workers_of_the_area_can_be_assigned(client, desk, demo, session, village_grids, who, code):
    user_id = demo.users[who].id if who else uuid.uuid4()
    grid = village_grids[XIKOU]
    response = client.put(
        workers_url(grid), headers=desk, json={"worker_ids": [str(demo.users["gridworker1"].id), str(user_id)]}
    )
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == code and problem["errors"] == [
        {"code": code, "field": "worker_ids.1", "message": problem["errors"][0]["message"]}
    ]
    assert (
        session.scalar(select(func.count()).select_from(GridAssignment).where(GridAssignment.grid_id == grid["id"]))
        == 0
    )


def test_inactive_grid_worker_cannot_be_assigned(client, desk, demo, session, village_grids):
    demo.users["gridworker2"].active = False
    session.flush()
    response = client.put(
        workers_url(village_grids[XIKOU]), headers=desk, json={"worker_ids": [str(demo.users["gridworker2"].id)]}
    )
    assert response.get_json()["code"] == "geo.not_a_grid_worker"


def test_stale_version_and_bad_bodies_are_refused(client, desk, demo, village_grids):
    grid = village_grids[XIKOU]
    gw1 = str(demo.users["gridworker1"].id)
    stale = client.put(workers_url(grid), json={"worker_ids": [gw1], "version": 7}, headers=desk)
    assert stale.status_code == 409 and stale.get_json()["current"]["properties"]["version"] == 1
    duplicate = client.put(workers_url(grid), json={"worker_ids": [gw1, gw1]}, headers=desk)
    assert duplicate.status_code == 422 and duplicate.get_json()["errors"][0]["field"] == "worker_ids"
    missing = client.put(workers_url(grid), json={}, headers=desk)
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "worker_ids"
    unknown_grid = client.put(f"/api/v1/grids/{uuid.uuid4()}/workers", json={"worker_ids": []}, headers=desk)
    assert unknown_grid.status_code == 404


def test_only_desk_officers_assign(client, login, demo, village_grids):
    body = {"worker_ids": [str(demo.users["gridworker1"].id)]}
    for username in ("gridworker1", "inspector1", "enterprise1"):
        assert client.put(workers_url(village_grids[XIKOU]), json=body, headers=login(username)).status_code == 403
