"""Retiring grids (撤销网格): after a merge or a split the old grids go — their history stays, their
workers are taken off, their enterprises are placed again, phones drop them; a split gives both halves."""

from datetime import datetime

import pytest
from shapely.geometry import mapping
from sqlalchemy import select, text

from audit.models import AuditEntry
from enterprises.models import Enterprise
from geo.models import Grid
from tests.geo.conftest import QIAOTOU, SHIBA, SONGLING, TOWN, XIKOU, rectangle

GRIDS = "/api/v1/grids"


@pytest.fixture
def staffed(client, desk, demo, village_grids):
    """gridworker1 also works 溪口村's grid."""
    grid = village_grids[XIKOU]
    response = client.put(
        f"{GRIDS}/{grid['id']}/workers", headers=desk, json={"worker_ids": [str(demo.users["gridworker1"].id)]}
    )
    assert response.status_code == 200
    return grid


def test_a_merge_replaces_the_village_grids_it_covers(
    client, desk, login, session, demo, village_grids, staffed, make_enterprise, clock
):
    in_xikou, in_qiaotou = make_enterprise(107.4100, 30.4050), make_enterprise(107.4300, 30.4050)
    old = [village_grids[XIKOU]["id"], village_grids[QIAOTOU]["id"]]
    clock.advance(hours=1)
    response = client.post(
        GRIDS, headers=desk, json={"name": "溪口桥头联合网格", "villages": [XIKOU, QIAOTOU], "replaces": old}
    )
    assert response.status_code == 201, response.get_json()
    merged = response.get_json()
    assert merged["placement"] == {"enterprises_relocated": 2}
    assert sorted(merged["retired"]) == sorted(old)
    assert merged["workers_unassigned"] == [str(demo.users["gridworker1"].id)]
    session.expire_all()
    assert {str(session.get(Enterprise, e.id).grid_id) for e in (in_xikou, in_qiaotou)} == {merged["id"]}

    # The old grids are kept, marked retired, out of the list and of the coverage report.
    kept = client.get(f"{GRIDS}/{old[0]}", headers=desk).get_json()
    assert datetime.fromisoformat(kept["properties"]["retired_at"]) == clock.now()
    listed = client.get(f"{GRIDS}?region={TOWN}", headers=desk).get_json()
    assert {f["id"] for f in listed["features"]} == {
        merged["id"],
        village_grids[SONGLING]["id"],
        village_grids[SHIBA]["id"],
    }
    with_retired = client.get(f"{GRIDS}?region={TOWN}&retired=true", headers=desk).get_json()
    assert with_retired["total"] == 5
    coverage = client.get(f"/api/v1/regions/{TOWN}/coverage", headers=desk).get_json()
    assert coverage["grids"] == 3 and coverage["overlaps"]["features"] == []
    history = client.get(f"{GRIDS}/{old[0]}/workers", headers=desk).get_json()
    assert history["workers"] == [] and history["history"][0]["ended_at"] is not None
    assert old[0] not in {f["id"] for f in client.get(GRIDS, headers=login("gridworker1")).get_json()["features"]}

    # A retired grid is history: no more edits, workers or retiring.
    assert (
        client.patch(f"{GRIDS}/{old[0]}", headers=desk, json={"version": 2, "name": "x"}).get_json()["code"]
        == "geo.grid_retired"
    )
    assert client.put(f"{GRIDS}/{old[0]}/workers", headers=desk, json={"worker_ids": []}).status_code == 409
    again = client.delete(f"{GRIDS}/{old[0]}", headers=desk)
    assert again.status_code == 409 and again.get_json()["code"] == "geo.grid_retired"
    assert [
        a
        for (a,) in session.execute(
            select(AuditEntry.action).where(AuditEntry.entity_id == old[0]).order_by(AuditEntry.id)
        )
    ][-1] == "retire"


def test_retiring_a_grid_alone_leaves_its_enterprises_outside_every_grid(
    client, desk, login, session, demo, village_grids, make_enterprise
):
    in_shiba = make_enterprise(107.4300, 30.4250)
    grid = village_grids[SHIBA]
    assert client.delete(f"{GRIDS}/{grid['id']}", headers=login("gridworker1")).status_code == 403
    stale = client.delete(f"{GRIDS}/{grid['id']}?version=7", headers=desk)
    assert stale.status_code == 409 and stale.get_json()["current"]["properties"]["version"] == 1
    response = client.delete(f"{GRIDS}/{grid['id']}?version=1", headers=desk)
    assert response.status_code == 200, response.get_json()
    retired = response.get_json()
    assert retired["properties"]["retired_at"] and retired["properties"]["version"] == 2
    assert retired["placement"] == {"enterprises_relocated": 1} and retired["workers_unassigned"] == []
    session.expire_all()
    assert session.get(Enterprise, in_shiba.id).grid_id is None
    coverage = client.get(f"/api/v1/regions/{TOWN}/coverage", headers=desk).get_json()
    assert [v["code"] for v in coverage["villages_without_grid"]] == [SHIBA]
    assert [e["id"] for e in coverage["enterprises_outside_grids"]] == [str(in_shiba.id)]
    assert session.get(Grid, grid["id"]) is not None  # kept for the records naming it


@pytest.mark.parametrize(
    "split",
    [
        {
            "blade": {"type": "LineString", "coordinates": [[107.409, 30.39], [107.409, 30.42]]},
            "at": {"lon": 107.403, "lat": 30.407},
        },
        {"blade": mapping(rectangle(107.405, 30.403, 107.412, 30.409)), "keep": "inside"},
    ],
)
def test_a_split_gives_both_halves_and_replaces_the_village_grid(
    client, desk, session, village_grids, make_enterprise, split
):
    enterprises = [make_enterprise(107.4065, 30.4045), make_enterprise(107.4180, 30.4120)]
    old = village_grids[XIKOU]["id"]
    response = client.post(
        GRIDS,
        headers=desk,
        json={"name": "溪口村甲", "rest_name": "溪口村乙", "split": {"village": XIKOU, **split}, "replaces": [old]},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    one, rest = body["id"], body["rest"]["id"]
    assert body["rest"]["properties"]["name"] == "溪口村乙" and body["rest"]["properties"]["villages"] == [XIKOU]
    overlap, union_vs_village = session.execute(
        text("""
        SELECT ST_Area(ST_Intersection(a.geometry, b.geometry)),
               ST_Area(ST_Segmentize(ST_SymDifference(ST_Union(a.geometry, b.geometry), v.geometry), 0.001)::geography)
          FROM grids a, grids b, regions v WHERE a.id = :a AND b.id = :b AND v.code = :v"""),
        {"a": one, "b": rest, "v": XIKOU},
    ).one()
    assert overlap == 0 and union_vs_village < 0.01
    assert body["retired"] == [old] and body["placement"] == {"enterprises_relocated": 2}
    session.expire_all()
    assert {str(session.get(Enterprise, e.id).grid_id) for e in enterprises} == {one, rest}


def test_a_remainder_needs_a_split_and_replaced_grids_must_be_live_and_yours(client, desk, village_grids):
    body = {"name": "溪口村网格", "villages": [XIKOU], "rest_name": "其余"}
    refused = client.post(GRIDS, headers=desk, json=body)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "rest_name"
    unknown = client.post(
        GRIDS,
        headers=desk,
        json={"name": "x", "villages": [XIKOU], "replaces": ["00000000-0000-0000-0000-000000000000"]},
    )
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "replaces.0"
