"""Grid changes reach phones through the change feed (SYNC_PROTOCOL.md §3): a worker put on a grid
gets it and its enterprises, a worker taken off gets tombstones (the pull's regrid replay), and a
redrawn grid brings its new geometry and moves enterprises out of the phones that lose them.
On a committed copy of the demo database: every request commits, pulls read what was committed."""

import pytest
from shapely.geometry import Point, mapping, shape
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from accounts.models import User
from enterprises.models import Enterprise
from geo.models import GridAssignment
from tests.sync.conftest import Phone


@pytest.fixture
def world(committed_app):
    app, _, url = committed_app
    engine = create_engine(url)
    with Session(engine) as session:
        users = {u.username: u.id for u in session.scalars(select(User))}
        grid_of = dict(
            session.execute(
                select(GridAssignment.user_id, GridAssignment.grid_id).where(GridAssignment.ended_at.is_(None))
            ).all()
        )

        def enterprises_in(grid_id):
            return {str(i) for i in session.scalars(select(Enterprise.id).where(Enterprise.grid_id == grid_id))}

        client = app.test_client()
        yield {
            "client": client,
            "users": users,
            "grid_of": {n: str(grid_of.get(i)) for n, i in users.items()},
            "enterprises_in": enterprises_in,
            "session": session,
            "desk": Phone(client, "desk").headers,
        }
    engine.dispose()


def test_assignment_changes_reach_the_workers_phone_as_a_regrid(world):
    client, desk, users = world["client"], world["desk"], world["users"]
    own, neighbours = world["grid_of"]["gridworker1"], world["grid_of"]["gridworker2"]
    phone = Phone(client, "gridworker1")
    phone.pull_all()
    assert phone.ids("grid") == {own}

    put_on = client.put(
        f"/api/v1/grids/{neighbours}/workers",
        headers=desk,
        json={"worker_ids": [str(users["gridworker2"]), str(users["gridworker1"])]},
    )
    assert put_on.status_code == 200
    received = phone.pull_all()
    assert {c["id"] for c in received if c["entity"] == "grid"} == {neighbours}
    assert phone.ids("grid") == {own, neighbours}
    assert phone.ids("enterprise") == world["enterprises_in"](own) | world["enterprises_in"](neighbours)
    grid = phone.records[("grid", neighbours)]
    assert {w["username"] for w in grid["workers"]} == {"gridworker1", "gridworker2"}
    assert grid["version"] == put_on.get_json()["version"]

    taken_off = client.put(f"/api/v1/grids/{own}/workers", headers=desk, json={"worker_ids": []})
    assert taken_off.status_code == 200
    received = phone.pull_all()
    deleted = {c["id"] for c in received if c["op"] == "delete"}
    assert own in deleted and world["enterprises_in"](own) <= deleted
    assert phone.ids("grid") == {neighbours}
    assert phone.ids("enterprise") == world["enterprises_in"](neighbours)

    # The neighbour's phone learns that its grid now has two workers.
    neighbour = Phone(client, "gridworker2")
    neighbour.pull_all()
    assert {w["username"] for w in neighbour.records[("grid", neighbours)]["workers"]} == {"gridworker1", "gridworker2"}


def test_redrawn_grid_reaches_the_phone_and_takes_the_cut_enterprises_away(world):
    client, desk, session = world["client"], world["desk"], world["session"]
    own = world["grid_of"]["gridworker1"]
    phone = Phone(client, "gridworker1")
    phone.pull_all()
    before = world["enterprises_in"](own)

    feature = client.get(f"/api/v1/grids/{own}", headers=desk).get_json()
    outline = shape(feature["geometry"])
    points = {
        str(i): Point(x, y)
        for i, x, y in session.execute(
            select(Enterprise.id, Enterprise.location.ST_X(), Enterprise.location.ST_Y()).where(
                Enterprise.grid_id == own
            )
        )
    }
    cut = points[sorted(points)[0]].buffer(0.0008, quad_segs=2)  # an octagon ~80 m across the first one
    expected_out = {i for i, p in points.items() if cut.covers(p)}
    assert expected_out and expected_out < before
    response = client.patch(
        f"/api/v1/grids/{own}",
        headers=desk,
        json={"version": feature["properties"]["version"], "geometry": mapping(outline.difference(cut))},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["placement"] == {"enterprises_relocated": len(expected_out)}

    received = phone.pull_all()
    assert {c["id"] for c in received if c["op"] == "delete"} == expected_out
    assert phone.ids("enterprise") == before - expected_out
    grid = phone.records[("grid", own)]
    assert grid["version"] == feature["properties"]["version"] + 1
    assert shape(grid["geometry"]).area == pytest.approx(outline.difference(cut).area, rel=1e-6)


def test_a_retired_grid_leaves_every_phone_and_its_enterprises_follow(world):
    client, desk = world["client"], world["desk"]
    own = world["grid_of"]["gridworker1"]
    worker, officer = Phone(client, "gridworker1"), Phone(client, "desk")
    worker.pull_all()
    officer.pull_all()
    enterprises = world["enterprises_in"](own)
    assert own in worker.ids("grid") and own in officer.ids("grid") and enterprises <= officer.ids("enterprise")

    response = client.delete(f"/api/v1/grids/{own}", headers=desk)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["placement"] == {"enterprises_relocated": len(enterprises)}

    received = worker.pull_all()
    assert {c["id"] for c in received if c["op"] == "delete"} == {own} | enterprises
    assert worker.ids("grid") == set() and worker.ids("enterprise") == set()
    received = officer.pull_all()
    assert [c["op"] for c in received if c["id"] == own] == ["delete"]
    assert own not in officer.ids("grid")
    # The officer still sees the enterprises, now outside every grid.
    assert {officer.records[("enterprise", e)]["grid_id"] for e in enterprises} == {None}
