"""Boundary import (POST /regions/import and the import-boundaries command): good files, invalid
features refused with their code and reason, exact repairs reported, re-import changing nothing,
coordinate systems, scope."""

import json

import pytest
from geoalchemy2.shape import to_shape
from shapely.geometry import shape
from sqlalchemy import func, select

from accounts.service import create_user
from audit.models import AuditEntry
from enterprises.models import Enterprise
from geo.coords import distance_m, from_wgs84
from geo.models import Region
from tests.geo.conftest import QIAOTOU, SHIBA, SONGLING, TOWN, XIKOU

IMPORT = "/api/v1/regions/import"


def imported_regions(session):
    return {r.code: r for r in session.scalars(select(Region).where(Region.code.like("500299200%")))}


def sq(points, lon=107.40, lat=30.40, step=0.001):
    """A ring in the test town from small integer coordinates (1 unit = 0.001°)."""
    return [[round(lon + x * step, 7), round(lat + y * step, 7)] for x, y in points]


def with_village_geometry(collection, code, geometry):
    for feature in collection["features"]:
        if feature["properties"]["code"] == code:
            feature["geometry"] = geometry
    return collection


def test_import_builds_the_town_and_its_villages(client, desk, session, town_collection, village_shape):
    response = client.post(IMPORT, json=town_collection(), headers=desk)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["written"] is True
    assert report["counts"] == {"features": 5, "created": 5, "updated": 0, "unchanged": 0, "refused": 0, "repaired": 1}
    # The town's outline in the file runs clockwise: rewound, and said so.
    assert report["repaired"] == [{"code": TOWN, "repairs": ["rewound"], "message": report["repaired"][0]["message"]}]

    regions = imported_regions(session)
    assert set(regions) == {TOWN, XIKOU, QIAOTOU, SONGLING, SHIBA}
    town = regions[TOWN]
    assert (town.level, town.path, town.name) == ("town", f"500299000000.{TOWN}", "试点镇")
    for code in (XIKOU, QIAOTOU, SONGLING, SHIBA):
        village = regions[code]
        assert (village.level, village.parent_id, village.path) == ("village", town.id, f"{town.path}.{code}")
        stored = to_shape(village.geometry)
        assert stored.geom_type == "MultiPolygon" and stored.equals_exact(
            shape({"type": "MultiPolygon", "coordinates": [village_shape(code).__geo_interface__["coordinates"]]}), 1e-9
        )
    assert session.scalar(select(func.ST_IsPolygonCCW(Region.geometry)).where(Region.code == TOWN)) is True

    body = client.get(f"/api/v1/regions/{TOWN}", headers=desk).get_json()
    assert [c["code"] for c in body["children"]] == [XIKOU, QIAOTOU, SONGLING, SHIBA]
    assert body["area_m2"] == pytest.approx(13_033_061, abs=50)
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity == "region")).all()
    assert len(audit) == 1 and audit[0].actor_id is not None and len(audit[0].summary["created"]) == 5


def test_importing_the_same_file_again_changes_nothing(client, desk, session, imported, town_collection, clock):
    before = {
        code: (r.id, r.name, r.updated_at, r.path, session.scalar(func.ST_AsEWKB(r.geometry)))
        for code, r in imported_regions(session).items()
    }
    audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
    session.expire_all()
    clock.advance(hours=1)  # a rewrite would show in updated_at

    report = client.post(IMPORT, json=town_collection(), headers=desk).get_json()
    assert report["counts"]["unchanged"] == 5
    assert report["created"] == [] and report["updated"] == [] and report["enterprises_relocated"] == 0
    assert report["written"] is False
    after = {
        code: (r.id, r.name, r.updated_at, r.path, session.scalar(func.ST_AsEWKB(r.geometry)))
        for code, r in imported_regions(session).items()
    }
    assert after == before
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_moved_village_border_relocates_exactly_the_enterprises_across_it(
    client, desk, session, imported, town_collection, make_enterprise, clock
):
    # The border of 溪口村 and 桥头村 runs through (107.4205557, 30.405); move that vertex 0.002° east.
    crossing = make_enterprise(107.4212, 30.405)  # in 桥头村, will be in 溪口村
    staying_east = make_enterprise(107.4240, 30.405)  # 桥头村 before and after
    staying_west = make_enterprise(107.4150, 30.405)  # 溪口村 before and after
    regions = imported_regions(session)
    assert crossing.region_id == regions[QIAOTOU].id and staying_west.region_id == regions[XIKOU].id
    versions = {e.id: e.version for e in (crossing, staying_east, staying_west)}

    collection = town_collection()
    for feature in collection["features"]:
        if feature["properties"]["code"] in (XIKOU, QIAOTOU):
            feature["properties"]["name"] += "（调整后）" if feature["properties"]["code"] == XIKOU else ""
            rings = feature["geometry"]["coordinates"]
            feature["geometry"]["coordinates"] = [
                [[107.4225, 30.405] if p == [107.4205557, 30.405] else p for p in ring] for ring in rings
            ]
    clock.advance(hours=1)
    report = client.post(IMPORT, json=collection, headers=desk).get_json()
    assert sorted(report["updated"]) == [XIKOU, QIAOTOU]
    assert sorted(report["unchanged"]) == [TOWN, SONGLING, SHIBA]
    assert report["enterprises_relocated"] == 1

    session.expire_all()
    assert session.get(Enterprise, crossing.id).region_id == regions[XIKOU].id
    assert session.get(Enterprise, crossing.id).version == versions[crossing.id] + 1
    for unmoved in (staying_east, staying_west):
        assert session.get(Enterprise, unmoved.id).version == versions[unmoved.id]
    village = session.get(Region, regions[XIKOU].id)
    assert village.name == "溪口村（调整后）" and village.updated_at == clock.now()


BOW_TIE = {"type": "Polygon", "coordinates": [sq([(0, 0), (4, 4), (4, 0), (0, 4), (0, 0)])]}
CCW_LOOP = {
    "type": "Polygon",
    "coordinates": [sq([(0, 0), (4, 0), (4, 4), (2, 4), (1, 2), (3, 2), (2, 4), (0, 4), (0, 0)])],
}
OVERLAPPING_PARTS = {
    "type": "MultiPolygon",
    "coordinates": [[sq([(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)])], [sq([(2, 2), (6, 2), (6, 6), (2, 6), (2, 2)])]],
}
HOLE_OUTSIDE = {
    "type": "Polygon",
    "coordinates": [sq([(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]), sq([(5, 5), (5, 6), (6, 6), (6, 5), (5, 5)])],
}
UNCLOSED = {"type": "Polygon", "coordinates": [sq([(0, 0), (4, 0), (4, 4), (0, 4), (0, 1)])]}
COLLINEAR = {"type": "Polygon", "coordinates": [sq([(0, 0), (2, 0), (4, 0), (0, 0)])]}
PARIS = {"type": "Polygon", "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86], [2.35, 48.85]]]}
WEB_MERCATOR = {
    "type": "Polygon",
    "coordinates": [[[11957000, 3555000], [11958000, 3555000], [11958000, 3556000], [11957000, 3555000]]],
}
NAMED_MERCATOR = {**BOW_TIE, "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}}
LAT_LON_SWAPPED = {
    "type": "Polygon",
    "coordinates": [[[30.40, 107.40], [30.41, 107.40], [30.41, 107.41], [30.40, 107.40]]],
}


@pytest.mark.parametrize(
    ("geometry", "reason", "words"),
    [
        (BOW_TIE, "geo.invalid_geometry", "自相交（经度 107.402，纬度 30.402）"),
        (CCW_LOOP, "geo.invalid_geometry", "环自相交"),
        (OVERLAPPING_PARTS, "geo.invalid_geometry", "自相交"),
        (HOLE_OUTSIDE, "geo.invalid_geometry", "内环位于外环之外"),
        (UNCLOSED, "geo.unclosed_ring", "未闭合"),
        (COLLINEAR, "geo.zero_area", "面积为零"),
        (None, "geo.empty_geometry", "为空"),
        ({"type": "Polygon", "coordinates": []}, "geo.empty_geometry", "为空"),
        (PARIS, "geo.outside_china", "超出中国范围"),
        (WEB_MERCATOR, "geo.wrong_crs", "不是经纬度"),
        (LAT_LON_SWAPPED, "geo.wrong_crs", "不是经纬度"),
        (NAMED_MERCATOR, "geo.wrong_crs", "EPSG:3857"),
        ({"type": "Point", "coordinates": [107.41, 30.41]}, "geo.wrong_geometry_type", "Point"),
        (
            {"type": "Polygon", "coordinates": [[[107.4, 30.4], "x", [107.41, 30.41], [107.4, 30.4]]]},
            "geo.malformed_geometry",
            "无效的坐标",
        ),
    ],
    ids=[
        "bow-tie",
        "ring-loop",
        "overlapping-parts",
        "hole-outside",
        "unclosed",
        "collinear",
        "null",
        "empty",
        "outside-china",
        "projected",
        "lat-lon-swapped",
        "named-crs",
        "point",
        "malformed",
    ],
)
def test_invalid_boundary_is_refused_with_its_code_and_reason(
    client, desk, session, town_collection, geometry, reason, words
):
    collection = with_village_geometry(town_collection(), SONGLING, geometry)
    response = client.post(IMPORT, json=collection, headers=desk)
    assert response.status_code == 422
    problem = response.get_json()
    assert response.mimetype == "application/problem+json" and problem["code"] == "geo.import_refused"
    assert problem["title"] == "数据校验未通过"
    [error] = problem["errors"]
    assert error["code"] == reason and error["field"] == "features.3" and words in error["message"]
    assert SONGLING in error["message"]
    [refusal] = problem["report"]["refused"]
    assert (refusal["index"], refusal["code"], refusal["reason"]) == (3, SONGLING, reason)
    assert problem["report"]["written"] is False and len(problem["report"]["created"]) == 4
    assert imported_regions(session) == {}  # all or nothing


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda f: f["properties"].update(code="50029920020"), "geo.bad_code"),
        (lambda f: f["properties"].update(code="500299000000"), "geo.unsupported_level"),
        (lambda f: f["properties"].update(parent_code="500299100000"), "geo.parent_mismatch"),
        (lambda f: f["properties"].update(level="town"), "geo.level_mismatch"),
        (lambda f: f["properties"].update(name="  "), "geo.missing_name"),
        (lambda f: f["properties"].update(name="村" * 101), "geo.name_too_long"),
        (lambda f: f["properties"].update(code="500299300201", parent_code=None), "geo.unknown_parent"),
        (lambda f: f["properties"].update(code=XIKOU), "geo.duplicate_code"),
        (lambda f: f.update(type="Topology"), "geo.not_a_feature"),
        (lambda f: f.update(properties=True), "geo.not_a_feature"),  # RFC 7946: an object or null
    ],
    ids=lambda value: value if isinstance(value, str) else "change",
)
def test_feature_with_bad_properties_is_refused(client, desk, session, town_collection, change, reason):
    collection = town_collection()
    change(collection["features"][3])
    problem = client.post(IMPORT, json=collection, headers=desk).get_json()
    assert problem["code"] == "geo.import_refused"
    assert reason in {e["code"] for e in problem["errors"]}
    assert imported_regions(session) == {}


def test_partial_import_writes_what_passed_and_lists_the_rest(client, desk, session, town_collection):
    collection = with_village_geometry(town_collection(), SHIBA, BOW_TIE)
    response = client.post(f"{IMPORT}?partial=true", json=collection, headers=desk)
    assert response.status_code == 200
    report = response.get_json()
    assert report["written"] is True and sorted(report["created"]) == sorted([TOWN, XIKOU, QIAOTOU, SONGLING])
    assert [(r["code"], r["reason"]) for r in report["refused"]] == [(SHIBA, "geo.invalid_geometry")]
    assert set(imported_regions(session)) == {TOWN, XIKOU, QIAOTOU, SONGLING}


def test_villages_of_a_refused_town_are_refused_too(client, desk, session, town_collection):
    collection = town_collection()
    collection["features"][0]["geometry"] = BOW_TIE
    report = client.post(f"{IMPORT}?partial=true", json=collection, headers=desk).get_json()
    reasons = {r["code"]: r["reason"] for r in report["refused"]}
    assert reasons == {
        TOWN: "geo.invalid_geometry",
        XIKOU: "geo.parent_refused",
        QIAOTOU: "geo.parent_refused",
        SONGLING: "geo.parent_refused",
        SHIBA: "geo.parent_refused",
    }
    assert imported_regions(session) == {}


@pytest.mark.parametrize(
    ("geometry", "repairs", "area_deg2"),
    [
        (
            {"type": "Polygon", "coordinates": [sq([(0, 0), (4, 0), (4, 4), (6, 6), (4, 4), (0, 4), (0, 0)])]},
            ["made_valid"],
            16e-6,
        ),  # a spike sticking out
        (
            {
                "type": "Polygon",
                "coordinates": [sq([(0, 0), (4, 0), (4, 4), (2, 4), (3, 2), (1, 2), (2, 4), (0, 4), (0, 0)])],
            },
            ["made_valid"],
            14e-6,
        ),  # a ring touching itself around an inverted hole
        ({"type": "Polygon", "coordinates": [sq([(0, 0), (0, 4), (4, 4), (4, 0), (0, 0)])]}, ["rewound"], 16e-6),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    sq([(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]),
                    sq([(1, 1), (2, 1), (2, 2), (1, 2), (1, 1)]),
                ],
            },
            ["rewound"],
            15e-6,
        ),  # a hole wound like a shell
    ],
    ids=["spike", "inverted-hole", "clockwise", "counter-clockwise-hole"],
)
def test_exact_repairs_are_made_and_reported(client, desk, session, town_collection, geometry, repairs, area_deg2):
    collection = town_collection()
    collection["features"] = collection["features"][:1] + [
        {"type": "Feature", "properties": {"code": "500299200299", "name": "修复村"}, "geometry": geometry}
    ]
    report = client.post(IMPORT, json=collection, headers=desk).get_json()
    assert report["refused"] == []
    [repaired] = [r for r in report["repaired"] if r["code"] == "500299200299"]
    assert repaired["repairs"] == repairs
    valid, ccw, area = session.execute(
        select(
            func.ST_IsValid(Region.geometry), func.ST_IsPolygonCCW(Region.geometry), func.ST_Area(Region.geometry)
        ).where(Region.code == "500299200299")
    ).one()
    assert valid is True and ccw is True
    assert area == pytest.approx(area_deg2, rel=1e-6)  # the repair kept the area


def test_gcj02_boundaries_are_stored_in_wgs84(client, desk, session, town_collection, village_shape):
    collection = town_collection()
    for feature in collection["features"]:
        g = feature["geometry"]
        polygons = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        converted = [
            [[list(from_wgs84(lon, lat, "gcj02")) for lon, lat in ring] for ring in polygon] for polygon in polygons
        ]
        feature["geometry"] = {"type": "MultiPolygon", "coordinates": converted}
    report = client.post(f"{IMPORT}?crs=gcj02", json=collection, headers=desk).get_json()
    assert report["counts"]["created"] == 5
    stored = to_shape(imported_regions(session)[XIKOU].geometry).geoms[0]
    original = village_shape(XIKOU)
    shift = max(distance_m(*a, *b) for a, b in zip(stored.exterior.coords, original.exterior.coords))
    assert shift < 0.01  # GCJ-02 was ~300-600 m off; back to the WGS-84 vertices within a centimetre
    # The conversion is deterministic: the same GCJ-02 file again changes nothing.
    assert client.post(f"{IMPORT}?crs=gcj02", json=collection, headers=desk).get_json()["counts"]["unchanged"] == 5


def test_collection_naming_wgs84_or_cgcs2000_is_taken_as_it_is(client, desk, session, town_collection):
    collection = town_collection()
    collection["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    collection["features"][1]["geometry"]["crs"] = {"type": "name", "properties": {"name": "EPSG:4490"}}
    assert client.post(IMPORT, json=collection, headers=desk).get_json()["counts"]["created"] == 5


def test_collection_in_an_unsupported_crs_is_refused(client, desk, town_collection):
    collection = town_collection()
    collection["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    problem = client.post(IMPORT, json=collection, headers=desk).get_json()
    assert problem["code"] == "geo.wrong_crs" and problem["errors"][0]["field"] == "crs"


def test_body_that_is_not_a_feature_collection_is_refused(client, desk):
    response = client.post(IMPORT, json={"type": "Feature", "features": []}, headers=desk)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "type"
    response = client.post(IMPORT, json={"type": "FeatureCollection", "features": []}, headers=desk)
    assert response.status_code == 422 and response.get_json()["code"] == "geo.empty_import"


def test_only_officers_import_and_only_below_their_region(client, login, session, demo, town_collection):
    for username in ("gridworker1", "inspector1", "enterprise1"):
        assert client.post(IMPORT, json=town_collection(), headers=login(username)).status_code == 403
    # A desk officer of one town (青石镇) may import villages of that town, not a new town of the district.
    qingshi = demo.towns[0]
    create_user(
        session,
        username="desk_qingshi",
        name="青石镇内勤",
        password="anxun-demo",
        roles=["desk_officer"],
        region_id=qingshi.id,
    )
    town_desk = login("desk_qingshi")
    report = client.post(f"{IMPORT}?partial=true", json=town_collection(), headers=town_desk).get_json()
    assert {r["reason"] for r in report["refused"]} == {"geo.unknown_parent", "geo.parent_refused"}
    own = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": qingshi.code[:9] + "299", "name": "新建村"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [sq([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)], 107.8, 30.7)],
                },
            }
        ],
    }
    assert client.post(IMPORT, json=own, headers=town_desk).get_json()["created"] == [qingshi.code[:9] + "299"]


def test_cli_imports_with_a_report_and_refuses_bad_files(app, session, tmp_path, town_collection):
    good = tmp_path / "town.geojson"
    good.write_text(json.dumps(town_collection(), ensure_ascii=False), encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["anxun", "import-boundaries", str(good)])
    assert result.exit_code == 0, result.output
    assert "5 created" in result.output and "repaired 500299200000" in result.output
    assert set(imported_regions(session)) == {TOWN, XIKOU, QIAOTOU, SONGLING, SHIBA}
    assert session.scalar(select(AuditEntry.actor_id).where(AuditEntry.entity == "region")) is None

    result = runner.invoke(args=["anxun", "import-boundaries", str(good)])
    assert result.exit_code == 0 and "5 unchanged" in result.output

    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(with_village_geometry(town_collection(), SONGLING, BOW_TIE)), encoding="utf-8")
    result = runner.invoke(args=["anxun", "import-boundaries", str(bad)])
    assert result.exit_code == 1
    assert "features.3" in result.output and "geo.invalid_geometry" in result.output
    result = runner.invoke(args=["anxun", "import-boundaries", "--partial", str(bad)])
    assert result.exit_code == 0 and "1 refused" in result.output and "4 unchanged" in result.output

    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json", encoding="utf-8")
    result = runner.invoke(args=["anxun", "import-boundaries", str(broken)])
    assert result.exit_code != 0 and "cannot read" in result.output
