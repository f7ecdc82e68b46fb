"""Every read endpoint is scoped: admin all; desk officer/inspector their region subtree; grid worker
their grids; enterprise officer their enterprise. Outside the scope a record is 404, never 403."""

import pytest
from sqlalchemy import func, select

from accounts.service import create_user
from enterprises.models import Enterprise
from geo.models import Region


def _all_items(client, headers, path):
    items, page = [], 1
    while True:
        body = client.get(f"{path}{'&' if '?' in path else '?'}page={page}&per_page=500", headers=headers).get_json()
        key = "features" if "features" in body else "items"
        items += body[key]
        if len(items) >= body["total"]:
            return items
        page += 1


def _enterprise_ids_in_grid(session, grid_id):
    return {str(i) for i in session.scalars(select(Enterprise.id).where(Enterprise.grid_id == grid_id))}


def test_grid_worker_lists_only_enterprises_in_their_grid(client, login, session, demo):
    items = _all_items(client, login("gridworker1"), "/api/v1/enterprises")
    expected = _enterprise_ids_in_grid(session, demo.grid_of["gridworker1"])
    assert expected and {i["id"] for i in items} == expected


def test_desk_officer_lists_the_whole_district(client, login, session):
    items = _all_items(client, login("desk"), "/api/v1/enterprises")
    assert len(items) == session.scalar(select(func.count()).select_from(Enterprise)) == 400


def test_enterprise_officer_sees_only_their_enterprise(client, login, demo):
    headers = login("enterprise1")
    items = _all_items(client, headers, "/api/v1/enterprises")
    assert [i["id"] for i in items] == [str(demo.retailer.id)]
    assert client.get(f"/api/v1/enterprises/{demo.retailer.id}", headers=headers).status_code == 200
    assert _all_items(client, headers, "/api/v1/grids") == []


@pytest.mark.parametrize(
    "viewer, owner, visible",
    [
        ("gridworker1", "gridworker1", True),
        ("gridworker2", "gridworker1", False),  # same town, neighbouring village
        ("gridworker3", "gridworker1", False),  # another town
        ("desk", "gridworker3", True),
        ("inspector1", "gridworker3", True),
        ("enterprise1", "gridworker2", False),
        ("admin", "gridworker3", True),
    ],
)
def test_enterprise_and_grid_reads_are_404_outside_the_scope(client, login, session, demo, viewer, owner, visible):
    headers = login(viewer)
    grid_id = demo.grid_of[owner]
    enterprise_id = next(iter(_enterprise_ids_in_grid(session, grid_id)))
    expected = 200 if visible else 404
    enterprise = client.get(f"/api/v1/enterprises/{enterprise_id}", headers=headers)
    grid = client.get(f"/api/v1/grids/{grid_id}", headers=headers)
    assert (enterprise.status_code, grid.status_code) == (expected, expected)
    if not visible:
        assert enterprise.get_json()["code"] == "not_found"


def test_grid_workers_see_only_their_grid_with_geometry_and_worker(client, login, demo):
    features = _all_items(client, login("gridworker2"), "/api/v1/grids")
    assert [f["id"] for f in features] == [str(demo.grid_of["gridworker2"])]
    feature = features[0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert [w["username"] for w in feature["properties"]["workers"]] == ["gridworker2"]
    assert feature["properties"]["region_code"] == demo.towns[0].code


def test_town_officer_sees_their_town_not_the_neighbour(client, login, session, demo):
    town1, town2 = demo.towns[0], demo.towns[1]
    create_user(
        session, username="desk-town1", name="镇内勤", password="anxun-demo", roles=["desk_officer"], region_id=town1.id
    )
    headers = login("desk-town1")
    enterprises = _all_items(client, headers, "/api/v1/enterprises")
    in_town1 = session.scalar(
        select(func.count())
        .select_from(Enterprise)
        .join(Region, Region.id == Enterprise.region_id)
        .where(Region.parent_id == town1.id)
    )
    assert len(enterprises) == in_town1
    assert all(e["region_code"].startswith(town1.code[:9]) for e in enterprises)
    grids = _all_items(client, headers, "/api/v1/grids")
    assert grids and all(g["properties"]["region_code"] == town1.code for g in grids)
    assert client.get(f"/api/v1/regions/{town1.code}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/regions/{town2.code}", headers=headers).status_code == 404
    # Filtering by a region outside the scope finds nothing rather than leaking.
    assert _all_items(client, headers, f"/api/v1/enterprises?region={town2.code}") == []


def test_region_reads_are_scoped(client, login, demo):
    district = "500299000000"
    desk = client.get(f"/api/v1/regions/{district}", headers=login("desk"))
    assert desk.status_code == 200
    body = desk.get_json()
    assert body["level"] == "district" and len(body["children"]) == 4
    assert body["geometry"]["type"] == "MultiPolygon"
    worker = login("gridworker1")
    assert client.get(f"/api/v1/regions/{district}", headers=worker).status_code == 404
    town = client.get(f"/api/v1/regions/{demo.towns[0].code}", headers=worker).get_json()
    # The worker's town shows only the villages of their own grid.
    assert [c["code"] for c in town["children"]] == ["500299100201"]
    assert client.get(f"/api/v1/regions/{demo.towns[1].code}", headers=worker).status_code == 404


def test_list_filters_combine_with_the_scope(client, login):
    headers = login("desk")
    fireworks = _all_items(client, headers, "/api/v1/enterprises?industry=fireworks")
    assert fireworks and all(e["industry"] == "fireworks" for e in fireworks)
    red = _all_items(client, headers, "/api/v1/enterprises?risk=red&industry=gas")
    assert all(e["risk"] == "red" and e["industry"] == "gas" for e in red)
    named = _all_items(client, headers, "/api/v1/enterprises?q=加油站")
    assert named and all("加油站" in e["name"] for e in named)
