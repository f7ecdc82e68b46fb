"""enterprises.placement.place_enterprises: every enterprise in the village and grid that cover it (ST_Covers),
set-based in one statement; enterprises in no grid keep grid NULL and stay listed."""

import re

import pytest
from sqlalchemy import event, select, text, update

from enterprises.models import Enterprise
from geo.coords import from_wgs84
from geo.models import Region
from enterprises.placement import place_enterprises
from tests.geo.conftest import QIAOTOU, XIKOU

# What each enterprise's village and grid should be, asked the plain way: point by point.
REFERENCE = text("""
    SELECT e.id,
           (SELECT v.id FROM regions v WHERE v.level = 'village' AND ST_Covers(v.geometry, e.location)
             ORDER BY v.code LIMIT 1) AS region_id,
           (SELECT g.id FROM grids g WHERE ST_Covers(g.geometry, e.location)
             ORDER BY g.created_at, g.id LIMIT 1) AS grid_id
      FROM enterprises e""")


@pytest.fixture
def statements(connection):
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


def test_placing_everyone_is_one_statement_and_agrees_with_the_point_by_point_answer(session, demo, statements):
    assert place_enterprises(session) == 0  # the demo is placed already: nothing to write
    session.execute(update(Enterprise).values(grid_id=None, region_id=None))
    statements.clear()
    assert place_enterprises(session) == 400
    assert len(statements) == 1 and re.search(r"UPDATE enterprises", statements[0])
    placed = {
        row.id: (row.region_id, row.grid_id)
        for row in session.execute(select(Enterprise.id, Enterprise.region_id, Enterprise.grid_id))
    }
    reference = {row.id: (row.region_id, row.grid_id) for row in session.execute(REFERENCE)}
    assert placed == reference
    assert all(region and grid for region, grid in placed.values())


def test_only_the_enterprises_asked_for_are_placed(session, demo):
    first, second, third = session.scalars(select(Enterprise).order_by(Enterprise.id).limit(3))
    session.execute(update(Enterprise).where(Enterprise.id.in_([first.id, second.id, third.id])).values(grid_id=None))
    assert place_enterprises(session, [first.id]) == 1
    assert place_enterprises(session, grid_ids=[]) == 0 and place_enterprises(session, []) == 0
    session.expire_all()
    assert session.get(Enterprise, first.id).grid_id is not None
    assert session.get(Enterprise, second.id).grid_id is None and session.get(Enterprise, third.id).grid_id is None


def test_where_grids_overlap_the_oldest_wins_and_borders_count_as_inside(session, village_grids, make_enterprise):
    # A vertex shared by 溪口村 and 桥头村: covered by both villages and both grids.
    on_border = make_enterprise(107.4194896, 30.41)
    regions = {r.code: r.id for r in session.scalars(select(Region).where(Region.code.in_([XIKOU, QIAOTOU])))}
    assert on_border.region_id == regions[XIKOU]  # the lower code
    assert str(on_border.grid_id) == village_grids[XIKOU]["id"]  # the older grid


def test_enterprise_outside_every_grid_and_village_is_kept_with_nulls(session, demo, make_enterprise):
    lost = make_enterprise(100.0, 25.0)
    assert lost.grid_id is None and lost.region_id is None
    assert session.get(Enterprise, lost.id) is not None


def test_moving_an_enterprise_in_bd09_places_it_in_the_grid_it_now_lies_in(
    client, desk, session, village_grids, make_enterprise
):
    enterprise = make_enterprise(107.4100, 30.4050)
    assert str(enterprise.grid_id) == village_grids[XIKOU]["id"]
    lon, lat = from_wgs84(107.4300, 30.4050, "bd09")
    response = client.patch(
        f"/api/v1/enterprises/{enterprise.id}",
        headers=desk,
        json={"version": enterprise.version, "location": {"lon": lon, "lat": lat, "crs": "bd09"}},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["grid_id"] == village_grids[QIAOTOU]["id"]
    assert response.get_json()["location"]["lon"] == pytest.approx(107.4300, abs=1e-7)
