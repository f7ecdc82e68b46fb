"""Grids (POST/GET/PATCH /grids): from one village, merged villages, a split village or a drawn
polygon; edits with optimistic locking; a grid lies within one town; enterprises follow the grids in
one statement."""

import re
from datetime import datetime

import pytest
from shapely import wkt
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.ops import unary_union
from sqlalchemy import event, func, select, text

from accounts.service import create_user
from audit.models import AuditEntry
from enterprises.models import Enterprise
from geo.coords import from_wgs84
from geo.models import Grid, Region
from tests.geo.conftest import QIAOTOU, SHIBA, SONGLING, TOWN, XIKOU, ellipsoid_rectangle_m2, rectangle

GRIDS = "/api/v1/grids"


def area_m2(session, geometry) -> float:
    """Area of a shapely geometry on the spheroid, as the API computes it."""
    return session.scalar(
        text("SELECT ST_Area(ST_Segmentize(ST_GeomFromText(:wkt, 4326), 0.001)::geography)"), {"wkt": geometry.wkt}
    )


def symmetric_difference_m2(session, a, b) -> float:
    """How far apart two shapes are, in m² (densified first, as the API's areas: see geo.geometry)."""
    return session.scalar(
        text("""
        SELECT ST_Area(ST_Segmentize(ST_SymDifference(ST_GeomFromText(:a, 4326), ST_GeomFromText(:b, 4326)),
                                     0.001)::geography)"""),
        {"a": a.wkt, "b": b.wkt},
    )


def stored_vs(session, grid_id, expected) -> float:
    """How far the stored grid (full precision, not the 7-digit GeoJSON) is from ``expected``, in m²."""
    stored = session.scalar(text("SELECT ST_AsText(geometry) FROM grids WHERE id = :id"), {"id": grid_id})
    return symmetric_difference_m2(session, wkt.loads(stored), expected)


@pytest.fixture
def count_enterprise_updates(connection):
    """Counts the SQL statements that write enterprises while the block runs."""

    class Counter:
        statements: list[str] = []

        def __enter__(self):
            event.listen(connection, "before_cursor_execute", self.seen)
            return self

        def __exit__(self, *exc):
            event.remove(connection, "before_cursor_execute", self.seen)

        def seen(self, conn, cursor, statement, parameters, context, executemany):
            if re.search(r"\bUPDATE\s+enterprises\b", statement, re.IGNORECASE):
                self.statements.append(statement)

    return Counter()


def test_grid_from_one_village_is_that_village(client, desk, session, imported, make_grid, village_shape):
    grid = make_grid("溪口村网格", villages=[XIKOU])
    assert grid["type"] == "Feature" and grid["geometry"]["type"] == "MultiPolygon"
    props = grid["properties"]
    assert (props["name"], props["region_code"], props["town_name"], props["villages"], props["version"]) == (
        "溪口村网格",
        TOWN,
        "试点镇",
        [XIKOU],
        1,
    )
    assert shape(grid["geometry"]).equals_exact(MultiPolygon([village_shape(XIKOU)]), 1e-9)
    assert props["area_m2"] == pytest.approx(area_m2(session, village_shape(XIKOU)), abs=0.1)
    assert grid["placement"] == {"enterprises_relocated": 0} and grid["repairs"] == []
    assert client.get(f"{GRIDS}/{grid['id']}", headers=desk).get_json()["properties"]["villages"] == [XIKOU]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity == "grid")).one()
    assert audit.action == "create" and audit.summary["mode"] == "villages"


def test_merged_villages_make_one_polygon_without_the_inner_border(session, imported, make_grid, village_shape):
    grid = make_grid("溪口松岭联合网格", villages=[XIKOU, SONGLING])
    merged = shape(grid["geometry"])
    assert len(merged.geoms) == 1 and len(merged.geoms[0].interiors) == 0
    expected = unary_union([village_shape(XIKOU), village_shape(SONGLING)])
    assert stored_vs(session, grid["id"], expected) < 0.01
    assert grid["properties"]["area_m2"] == pytest.approx(
        area_m2(session, village_shape(XIKOU)) + area_m2(session, village_shape(SONGLING)), abs=1
    )
    assert grid["properties"]["villages"] == [XIKOU, SONGLING]


@pytest.mark.parametrize(
    ("villages", "code"),
    [
        ([XIKOU, "500299100201"], "geo.several_towns"),  # a village of the demo's 青石镇
        ([XIKOU, "500299200299"], "geo.unknown_village"),
        (["500299200000"], "geo.unknown_village"),  # a town is not a village
    ],
)
def test_grid_from_villages_of_several_towns_or_unknown_villages_is_refused(
    client, desk, session, imported, villages, code
):
    response = client.post(GRIDS, json={"name": "网格", "villages": villages}, headers=desk)
    assert response.status_code == 422 and response.get_json()["code"] == code
    assert session.scalar(select(func.count()).select_from(Grid).where(Grid.name == "网格")) == 0


def test_splitting_a_village_with_a_line_gives_two_parts_that_tile_it(
    client, desk, session, imported, make_grid, village_shape
):
    blade = {"type": "LineString", "coordinates": [[107.409, 30.39], [107.409, 30.42]]}
    west = make_grid("溪口村西", split={"village": XIKOU, "blade": blade, "at": {"lon": 107.403, "lat": 30.407}})
    east = make_grid("溪口村东", split={"village": XIKOU, "blade": blade, "at": {"lon": 107.415, "lat": 30.407}})
    west_shape, east_shape = shape(west["geometry"]), shape(east["geometry"])
    assert west_shape.bounds[2] == pytest.approx(107.409) and east_shape.bounds[0] == pytest.approx(107.409)
    assert west["properties"]["villages"] == east["properties"]["villages"] == [XIKOU]
    # The two parts share the cut exactly: no gap, no overlap, together the village.
    ids = [west["id"], east["id"]]
    overlap, union_vs_village = session.execute(
        text("""
        SELECT ST_Area(ST_Intersection(a.geometry, b.geometry)),
               ST_Area(ST_Segmentize(ST_SymDifference(ST_Union(a.geometry, b.geometry), v.geometry), 0.001)::geography)
          FROM grids a, grids b, regions v WHERE a.id = :a AND b.id = :b AND v.code = :v"""),
        {"a": ids[0], "b": ids[1], "v": XIKOU},
    ).one()
    assert overlap == 0 and union_vs_village < 0.01
    assert west["properties"]["area_m2"] + east["properties"]["area_m2"] == pytest.approx(
        area_m2(session, village_shape(XIKOU)), abs=0.5
    )


def test_splitting_a_village_with_a_polygon_keeps_inside_or_outside(session, imported, make_grid, village_shape):
    core = rectangle(107.405, 30.403, 107.412, 30.409)
    inside = make_grid("溪口村核心区", split={"village": XIKOU, "blade": mapping(core), "keep": "inside"})
    outside = make_grid("溪口村外围", split={"village": XIKOU, "blade": mapping(core), "keep": "outside"})
    assert stored_vs(session, inside["id"], core) < 0.01
    assert stored_vs(session, outside["id"], village_shape(XIKOU).difference(core)) < 0.01
    assert inside["properties"]["area_m2"] == pytest.approx(
        ellipsoid_rectangle_m2(107.405, 30.403, 107.412, 30.409), abs=1
    )


def test_split_in_gcj02_takes_blade_and_point_in_the_same_crs(session, imported, make_grid, village_shape):
    blade = {"type": "LineString", "coordinates": [list(from_wgs84(107.409, lat, "gcj02")) for lat in (30.39, 30.42)]}
    west = make_grid(
        "溪口村西",
        crs="gcj02",
        split={"village": XIKOU, "blade": blade, "at": dict(zip(("lon", "lat"), from_wgs84(107.403, 30.407, "gcj02")))},
    )
    assert shape(west["geometry"]).bounds[2] == pytest.approx(107.409, abs=1e-7)
    # A point with its own crs keeps it: here WGS-84 numbers east of the cut pick the eastern part.
    east = make_grid(
        "溪口村东",
        crs="gcj02",
        split={"village": XIKOU, "blade": blade, "at": {"lon": 107.415, "lat": 30.407, "crs": "wgs84"}},
    )
    assert shape(east["geometry"]).bounds[0] == pytest.approx(107.409, abs=1e-7)


def test_village_without_a_boundary_cannot_make_a_grid(client, desk, session, imported):
    town = session.scalar(select(Region).where(Region.code == TOWN))
    session.add(
        Region(code="500299200299", name="无界村", level="village", parent_id=town.id, path=f"{town.path}.500299200299")
    )
    session.flush()
    response = client.post(GRIDS, json={"name": "无界村网格", "villages": ["500299200299"]}, headers=desk)
    assert response.status_code == 422 and response.get_json()["code"] == "geo.village_without_boundary"


@pytest.mark.parametrize(
    ("split", "code"),
    [
        (
            {
                "blade": {"type": "LineString", "coordinates": [[107.45, 30.39], [107.45, 30.42]]},
                "at": {"lon": 107.403, "lat": 30.407},
            },
            "geo.blade_misses",
        ),
        (
            {
                "blade": {"type": "LineString", "coordinates": [[107.409, 30.39], [107.409, 30.42]]},
                "at": {"lon": 107.43, "lat": 30.407},
            },
            "geo.split_point_outside",
        ),
        (
            {
                "blade": {"type": "LineString", "coordinates": [[107.409, 30.39], [107.409, 30.42]]},
                "at": {"lon": 107.409, "lat": 30.407},
            },
            "geo.split_point_ambiguous",
        ),
        (
            {"blade": {"type": "LineString", "coordinates": [[107.409, 30.39], [107.409, 30.42]]}, "keep": "inside"},
            "geo.keep_needs_polygon",
        ),
        ({"blade": {"type": "Point", "coordinates": [107.409, 30.39]}, "keep": "inside"}, "geo.wrong_geometry_type"),
    ],
)
def test_split_that_cannot_be_made_is_refused(client, desk, imported, split, code):
    response = client.post(GRIDS, json={"name": "拆分", "split": {"village": XIKOU, **split}}, headers=desk)
    assert response.status_code == 422 and response.get_json()["code"] == code


def test_drawn_grid_finds_its_town_and_villages(session, imported, make_grid):
    # Across the border of 溪口村 and 桥头村, inside the town.
    drawn = rectangle(107.415, 30.402, 107.425, 30.408)
    grid = make_grid("集镇网格", geometry=drawn)
    assert grid["properties"]["region_code"] == TOWN
    assert grid["properties"]["villages"] == [XIKOU, QIAOTOU]
    assert stored_vs(session, grid["id"], drawn) < 0.01


def test_drawn_grid_in_gcj02_is_stored_in_wgs84(session, imported, make_grid, village_shape):
    village = village_shape(SHIBA)
    gcj = Polygon([from_wgs84(lon, lat, "gcj02") for lon, lat in village.exterior.coords])
    grid = make_grid("石坝社区网格", geometry=mapping(gcj), crs="gcj02", town_code=TOWN)
    assert stored_vs(session, grid["id"], village) < 1  # GCJ-02 is hundreds of metres off
    assert grid["properties"]["villages"] == [SHIBA]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"geometry": mapping(rectangle(107.435, 30.42, 107.45, 30.425))}, "geo.outside_town"),  # sticks out east
        ({"geometry": mapping(rectangle(107.435, 30.42, 107.45, 30.425)), "town_code": TOWN}, "geo.outside_town"),
        ({"geometry": mapping(rectangle(107.0, 30.0, 107.01, 30.01))}, "geo.outside_town"),  # in no town
        (
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[107.41, 30.41], [107.42, 30.42], [107.42, 30.41], [107.41, 30.42], [107.41, 30.41]]
                    ],
                }
            },
            "geo.invalid_geometry",
        ),
        (
            {"geometry": mapping(rectangle(107.41, 30.41, 107.42, 30.42)), "town_code": "500299100000"},
            "geo.outside_town",
        ),  # the demo's 青石镇 is elsewhere
        (
            {"geometry": mapping(rectangle(107.41, 30.41, 107.42, 30.42)), "town_code": "500299900000"},
            "geo.unknown_town",
        ),
    ],
)
def test_grid_must_lie_within_one_town(client, desk, imported, body, code):
    response = client.post(GRIDS, json={"name": "越界网格", **body}, headers=desk)
    assert response.status_code == 422 and response.get_json()["code"] == code, response.get_json()


def test_a_grid_is_made_from_exactly_one_source(client, desk, imported):
    response = client.post(
        GRIDS,
        json={"name": "两种来源", "villages": [XIKOU], "geometry": mapping(rectangle(107.41, 30.41, 107.42, 30.42))},
        headers=desk,
    )
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "villages"
    assert client.post(GRIDS, json={"name": "无来源"}, headers=desk).status_code == 422


def test_only_desk_officers_of_the_area_change_grids(client, login, session, demo, imported, make_grid):
    grid = make_grid("溪口村网格", villages=[XIKOU])
    for username in ("gridworker1", "inspector1"):
        headers = login(username)
        assert client.post(GRIDS, json={"name": "x", "villages": [XIKOU]}, headers=headers).status_code == 403
        assert (
            client.patch(f"{GRIDS}/{grid['id']}", json={"version": 1, "name": "x"}, headers=headers).status_code == 403
        )
    create_user(
        session,
        username="desk_qingshi",
        name="青石镇内勤",
        password="anxun-demo",
        roles=["desk_officer"],
        region_id=demo.towns[0].id,
    )
    other_town = login("desk_qingshi")
    assert (
        client.patch(f"{GRIDS}/{grid['id']}", json={"version": 1, "name": "x"}, headers=other_town).status_code == 404
    )
    assert client.get(f"{GRIDS}/{grid['id']}", headers=other_town).status_code == 404
    response = client.post(GRIDS, json={"name": "x", "villages": [XIKOU]}, headers=other_town)
    assert response.status_code == 422 and response.get_json()["code"] == "geo.unknown_village"


def test_edit_polygon_with_version(client, desk, session, village_grids, village_shape, clock):
    grid = village_grids[XIKOU]
    smaller = village_shape(XIKOU).difference(rectangle(107.417, 30.403, 107.4215, 30.409))
    clock.advance(hours=1)
    response = client.patch(f"{GRIDS}/{grid['id']}", json={"version": 1, "geometry": mapping(smaller)}, headers=desk)
    assert response.status_code == 200, response.get_json()
    edited = response.get_json()
    assert edited["properties"]["version"] == 2
    assert stored_vs(session, grid["id"], smaller) < 0.01
    assert edited["properties"]["villages"] == [XIKOU]
    assert datetime.fromisoformat(edited["properties"]["updated_at"]) == clock.now()

    stale = client.patch(f"{GRIDS}/{grid['id']}", json={"version": 1, "name": "旧版本改名"}, headers=desk)
    assert stale.status_code == 409 and stale.get_json()["code"] == "conflict"
    assert stale.get_json()["current"]["properties"]["version"] == 2

    renamed = client.patch(f"{GRIDS}/{grid['id']}", json={"version": 2, "name": "溪口村（西）网格"}, headers=desk)
    assert renamed.get_json()["properties"]["name"] == "溪口村（西）网格"
    assert renamed.get_json()["properties"]["version"] == 3
    unchanged = client.patch(f"{GRIDS}/{grid['id']}", json={"version": 3, "geometry": mapping(smaller)}, headers=desk)
    assert unchanged.get_json()["properties"]["version"] == 3  # the same shape again is no change

    outside = client.patch(
        f"{GRIDS}/{grid['id']}",
        headers=desk,
        json={"version": 3, "geometry": mapping(village_shape(XIKOU).union(rectangle(107.39, 30.39, 107.40, 30.40)))},
    )
    assert outside.status_code == 422 and outside.get_json()["code"] == "geo.outside_town"
    invalid = client.patch(
        f"{GRIDS}/{grid['id']}",
        headers=desk,
        json={
            "version": 3,
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[107.41, 30.41], [107.42, 30.42], [107.42, 30.41], [107.41, 30.42], [107.41, 30.41]]],
            },
        },
    )
    assert invalid.status_code == 422 and invalid.get_json()["code"] == "geo.invalid_geometry"
    assert session.get(Grid, grid["id"]).version == 3
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == grid["id"]).order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "update", "update"]


def test_bulk_reassignment_after_an_edit_moves_exactly_the_enterprises_that_should_move(
    client, desk, session, village_grids, village_shape, make_enterprise, count_enterprise_updates, demo
):
    # R straddles the border of 溪口村 and 桥头村; what of it lies in 溪口村 changes grid.
    notch = rectangle(107.417, 30.403, 107.4215, 30.409)
    moving = [make_enterprise(107.4180, 30.4050), make_enterprise(107.4190, 30.4080)]
    staying = {
        XIKOU: make_enterprise(107.4100, 30.4050),
        QIAOTOU: make_enterprise(107.4300, 30.4050),
        "qiaotou_in_notch": make_enterprise(107.4212, 30.4060),
        SONGLING: make_enterprise(107.4050, 30.4250),
        SHIBA: make_enterprise(107.4300, 30.4250),
    }
    grid_id = {code: g["id"] for code, g in village_grids.items()}
    assert [str(e.grid_id) for e in moving] == [grid_id[XIKOU]] * 2
    assert str(staying["qiaotou_in_notch"].grid_id) == grid_id[QIAOTOU]
    untouched = list(session.scalars(select(Enterprise).where(Enterprise.grid_id.is_not(None))))
    versions = {e.id: e.version for e in untouched}

    # 1. 桥头村's grid takes in R: it now overlaps 溪口村's older grid, which keeps its enterprises.
    with count_enterprise_updates:
        grown = client.patch(
            f"{GRIDS}/{grid_id[QIAOTOU]}",
            headers=desk,
            json={"version": 1, "geometry": mapping(village_shape(QIAOTOU).union(notch))},
        ).get_json()
    assert grown["placement"] == {"enterprises_relocated": 0}

    # 2. 溪口村's grid gives R up: exactly the two enterprises in it move, in one statement.
    count_enterprise_updates.statements.clear()
    with count_enterprise_updates:
        shrunk = client.patch(
            f"{GRIDS}/{grid_id[XIKOU]}",
            headers=desk,
            json={"version": 1, "geometry": mapping(village_shape(XIKOU).difference(notch))},
        ).get_json()
    assert shrunk["placement"] == {"enterprises_relocated": 2}
    assert len(count_enterprise_updates.statements) == 1

    session.expire_all()
    for enterprise in moving:
        moved = session.get(Enterprise, enterprise.id)
        assert str(moved.grid_id) == grid_id[QIAOTOU] and moved.version == versions[enterprise.id] + 1
        assert moved.region_id == enterprise.region_id  # the village did not change, only the grid
    changed = {
        e.id
        for e in session.scalars(select(Enterprise))
        if e.id in versions and session.get(Enterprise, e.id).version != versions[e.id]
    }
    assert changed == {e.id for e in moving}
    assert len(versions) > 400  # the demo's enterprises were all there to be wrongly moved


def test_enterprises_left_outside_every_grid_are_listed_not_dropped(
    client, desk, session, village_grids, village_shape, make_enterprise
):
    hole = rectangle(107.405, 30.403, 107.408, 30.406)
    inside = make_enterprise(107.4065, 30.4045)
    outside_hole = make_enterprise(107.4100, 30.4045)
    grid = village_grids[XIKOU]
    edited = client.patch(
        f"{GRIDS}/{grid['id']}",
        headers=desk,
        json={"version": 1, "geometry": mapping(village_shape(XIKOU).difference(hole))},
    ).get_json()
    assert edited["placement"] == {"enterprises_relocated": 1}
    session.expire_all()
    assert session.get(Enterprise, inside.id).grid_id is None
    assert session.get(Enterprise, inside.id).region_id == inside.region_id  # still in its village
    assert str(session.get(Enterprise, outside_hole.id).grid_id) == grid["id"]
    listed = client.get(f"/api/v1/enterprises?outside_grids=true&region={TOWN}", headers=desk).get_json()
    assert [e["id"] for e in listed["items"]] == [str(inside.id)]
    coverage = client.get(f"/api/v1/regions/{TOWN}/coverage", headers=desk).get_json()
    assert [e["id"] for e in coverage["enterprises_outside_grids"]] == [str(inside.id)]

    # Drawn back: it returns to the grid.
    back = client.patch(
        f"{GRIDS}/{grid['id']}", headers=desk, json={"version": 2, "geometry": mapping(village_shape(XIKOU))}
    ).get_json()
    assert back["placement"] == {"enterprises_relocated": 1}
    session.expire_all()
    assert str(session.get(Enterprise, inside.id).grid_id) == grid["id"]


def test_a_new_grid_takes_in_the_enterprises_under_it(session, imported, make_grid, make_enterprise):
    first = make_enterprise(107.4100, 30.4050)
    second = make_enterprise(107.4300, 30.4250)
    assert first.grid_id is None and second.grid_id is None
    grid = make_grid("溪口村网格", villages=[XIKOU])
    assert grid["placement"] == {"enterprises_relocated": 1}
    session.expire_all()
    assert str(session.get(Enterprise, first.id).grid_id) == grid["id"]
    assert session.get(Enterprise, second.id).grid_id is None


def test_grid_list_is_a_scoped_feature_collection(client, login, desk, village_grids):
    listed = client.get(f"{GRIDS}?region={TOWN}", headers=desk).get_json()
    assert listed["type"] == "FeatureCollection" and listed["total"] == 4
    assert {f["id"] for f in listed["features"]} == {g["id"] for g in village_grids.values()}
    mine = client.get(GRIDS, headers=login("gridworker1")).get_json()
    assert mine["total"] == 1 and mine["features"][0]["id"] not in {g["id"] for g in village_grids.values()}
    assert client.get(f"{GRIDS}/{village_grids[XIKOU]['id']}", headers=login("gridworker1")).status_code == 404
