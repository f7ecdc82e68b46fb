"""GET /regions/{code}/coverage: a planted gap and a planted overlap are found exactly (area within
1 m² of the analytic area on the WGS-84 ellipsoid), with the share covered, villages without a grid
and grids without a worker."""

import pytest
from shapely.geometry import MultiPolygon, shape

from accounts.service import create_user
from tests.geo.conftest import QIAOTOU, SHIBA, SONGLING, TOWN, XIKOU, ellipsoid_rectangle_m2, rectangle

GAP = (107.428, 30.420, 107.431, 30.423)  # inside 石坝社区
OVERLAP = (107.403, 30.402, 107.406, 30.404)  # inside 溪口村


def coverage(client, headers, code=TOWN, **query):
    response = client.get(f"/api/v1/regions/{code}/coverage", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def region_area(client, desk):
    return lambda code: client.get(f"/api/v1/regions/{code}", headers=desk).get_json()["area_m2"]


def test_town_tiled_by_its_village_grids_is_fully_covered(client, desk, village_grids):
    report = coverage(client, desk)
    assert report["town"] == {"code": TOWN, "name": "试点镇"} and report["grids"] == 4
    assert report["gaps"] == {"type": "FeatureCollection", "features": []}
    assert report["overlaps"] == {"type": "FeatureCollection", "features": []}
    assert report["gap_area_m2"] == 0 and report["overlap_area_m2"] == 0
    assert report["covered_share"] == 1 and report["covered_m2"] == report["area_m2"]
    assert report["villages_without_grid"] == []
    assert len(report["grids_without_worker"]) == 4


def test_planted_gap_and_overlap_are_found_exactly(client, desk, imported, make_grid, village_shape):
    make_grid("溪口村网格", villages=[XIKOU])
    make_grid("桥头村网格", villages=[QIAOTOU])
    # 松岭村's grid also takes a square of 溪口村; 石坝社区's grid leaves a square hole.
    songling = make_grid(
        "松岭村网格", geometry=MultiPolygon([village_shape(SONGLING), rectangle(*OVERLAP)]), town_code=TOWN
    )
    shiba = make_grid("石坝社区网格", geometry=village_shape(SHIBA).difference(rectangle(*GAP)))

    report = coverage(client, desk)
    [gap] = report["gaps"]["features"]
    assert gap["properties"]["area_m2"] == pytest.approx(ellipsoid_rectangle_m2(*GAP), abs=1)
    assert shape(gap["geometry"]).symmetric_difference(rectangle(*GAP)).area < 1e-12
    assert report["gap_area_m2"] == pytest.approx(ellipsoid_rectangle_m2(*GAP), abs=1)

    [overlap] = report["overlaps"]["features"]
    assert overlap["properties"]["area_m2"] == pytest.approx(ellipsoid_rectangle_m2(*OVERLAP), abs=1)
    assert shape(overlap["geometry"]).symmetric_difference(rectangle(*OVERLAP)).area < 1e-12
    names = {g["name"] for g in overlap["properties"]["grids"]}
    assert names == {"溪口村网格", "松岭村网格"}
    assert songling["id"] in {g["id"] for g in overlap["properties"]["grids"]}

    town_m2 = report["area_m2"]
    assert report["covered_share"] == pytest.approx(1 - ellipsoid_rectangle_m2(*GAP) / town_m2, abs=1e-6)
    assert report["covered_m2"] == pytest.approx(town_m2 - ellipsoid_rectangle_m2(*GAP), abs=1)
    assert report["villages_without_grid"] == []
    assert shiba["id"] in {g["id"] for g in report["grids_without_worker"]}


def test_gaps_below_the_threshold_are_not_listed_but_counted(client, desk, imported, make_grid, village_shape):
    speck = (107.43, 30.405, 107.43001, 30.405005)  # about 0.96 m × 0.55 m, in 桥头村
    make_grid("溪口村网格", villages=[XIKOU])
    make_grid("桥头村网格", geometry=village_shape(QIAOTOU).difference(rectangle(*speck)))
    make_grid("松岭村网格", villages=[SONGLING])
    make_grid("石坝社区网格", geometry=village_shape(SHIBA).difference(rectangle(*GAP)))
    listed = coverage(client, desk)  # min_area_m2 defaults to 1
    assert [f["properties"]["area_m2"] for f in listed["gaps"]["features"]] == [
        pytest.approx(ellipsoid_rectangle_m2(*GAP), abs=1)
    ]
    everything = coverage(client, desk, min_area_m2=0)
    assert [f["properties"]["area_m2"] for f in everything["gaps"]["features"]] == [
        pytest.approx(ellipsoid_rectangle_m2(*GAP), abs=1),
        pytest.approx(ellipsoid_rectangle_m2(*speck), abs=0.01),
    ]
    # The share covered counts every gap, listed or not.
    assert listed["covered_share"] == everything["covered_share"]
    assert listed["covered_m2"] == pytest.approx(
        listed["area_m2"] - ellipsoid_rectangle_m2(*GAP) - ellipsoid_rectangle_m2(*speck), abs=1
    )


def test_villages_without_a_grid_and_grids_without_a_worker(client, desk, demo, imported, make_grid, region_area):
    xikou = make_grid("溪口村网格", villages=[XIKOU])
    qiaotou = make_grid("桥头村网格", villages=[QIAOTOU])
    assigned = client.put(
        f"/api/v1/grids/{xikou['id']}/workers", headers=desk, json={"worker_ids": [str(demo.users["gridworker3"].id)]}
    )
    assert assigned.status_code == 200
    report = coverage(client, desk)
    assert report["villages_without_grid"] == [
        {"code": SONGLING, "name": "松岭村"},
        {"code": SHIBA, "name": "石坝社区"},
    ]
    assert report["grids_without_worker"] == [{"id": qiaotou["id"], "name": "桥头村网格"}]
    assert report["gap_area_m2"] == pytest.approx(region_area(SONGLING) + region_area(SHIBA), abs=1)
    assert len(report["gaps"]["features"]) == 1  # the two villages touch: one gap


def test_town_without_grids_is_one_gap(client, desk, imported, region_area):
    report = coverage(client, desk)
    assert report["grids"] == 0 and report["covered_share"] == 0
    assert report["gap_area_m2"] == pytest.approx(region_area(TOWN), abs=1)
    assert len(report["villages_without_grid"]) == 4


def test_demo_town_coverage(client, login, demo):
    report = coverage(client, login("inspector1"), code=demo.towns[0].code)
    assert report["grids"] == 10 and report["villages_without_grid"] == []
    assert report["covered_share"] == pytest.approx(1, abs=1e-9)
    assert report["gaps"]["features"] == [] and report["overlaps"]["features"] == []
    # gridworker1 and gridworker2 work two of 青石镇's grids.
    assert len(report["grids_without_worker"]) == 8


def test_coverage_is_per_town_and_scoped(client, login, desk, session, demo, imported):
    response = client.get("/api/v1/regions/500299000000/coverage", headers=desk)
    assert response.status_code == 422 and response.get_json()["code"] == "geo.not_a_town"
    assert client.get(f"/api/v1/regions/{XIKOU}/coverage", headers=desk).get_json()["code"] == "geo.not_a_town"
    assert client.get("/api/v1/regions/500299900000/coverage", headers=desk).status_code == 404
    assert client.get(f"/api/v1/regions/{TOWN}/coverage", headers=login("gridworker1")).status_code == 403
    create_user(
        session,
        username="desk_qingshi",
        name="青石镇内勤",
        password="anxun-demo",
        roles=["desk_officer"],
        region_id=demo.towns[0].id,
    )
    assert client.get(f"/api/v1/regions/{TOWN}/coverage", headers=login("desk_qingshi")).status_code == 404
    bad = client.get(f"/api/v1/regions/{TOWN}/coverage?min_area_m2=-1", headers=desk)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "min_area_m2"
