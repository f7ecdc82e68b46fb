"""The enterprise import (一企一档, POST /api/v1/enterprises/import and ``flask anxun enterprises import``): every
bad row reported with its row, column and reason, nothing written unless every row passes, points read in
the datum the county's list uses and checked against the village it names, re-imports updating by USCC,
5,000 rows in one transaction, and any cell value whatsoever answered with row errors or success."""

import io
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from audit.models import AuditEntry
from checklists.definition import INDUSTRIES
from enterprises.imports import parse_crs, parse_degrees, parse_industry, parse_risk, parse_subtype
from enterprises.models import Enterprise
from tests.accounts.conftest import town_desk  # noqa: F401  (fixture)
from tests.enterprises.lists import HEADER, inside, list_xlsx, row, uscc
from tests.spreadsheets import any_cell


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _post(client, headers, data: bytes, dry_run: bool = False, name="企业名单.xlsx", **query):
    query = {"dry_run": "true" if dry_run else "false", **query}
    return client.post(
        "/api/v1/enterprises/import",
        headers=headers,
        query_string=query,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Enterprise))


def _found(answer) -> set:
    body = answer.get_json()
    assert answer.status_code == 422 and body["code"] == "enterprise_import.invalid", body
    return {(e["row"], e["column"], e["code"]) for e in body["report"]["errors"]}


def _villages(demo, town_index: int):
    town = demo.towns[town_index]
    return town, [v for v in demo.villages if v.parent_id == town.id]


def test_a_clean_list_is_checked_then_imported_and_placed(client, login, demo, session):
    desk = login("desk")
    town, villages = _villages(demo, 0)
    first, second = villages[0], villages[1]
    rows = [
        row(1, town, first, inside(session, first, gcj02=True)),  # GCJ-02, the default
        row(
            2, town, second, inside(session, second), 坐标系="WGS84", 行业="危化品", 子类="加油站", 风险等级="重大风险"
        ),
        row(3, None, None, inside(session, second, gcj02=True), 行业="烟花爆竹零售", 子类="", 风险等级="蓝色"),
        row(
            4,
            town,
            second,
            inside(session, second, gcj02=True),
            乡镇=town.code,
            村=second.code,
            行业="建筑施工",
            子类="",
            风险等级="orange",
        ),
    ]
    data = list_xlsx(rows, title_rows=[("青石镇一企一档企业名单",)])
    before = _count(session)
    checked = _post(client, desk, data, dry_run=True)
    assert checked.status_code == 200, checked.get_json()
    report = checked.get_json()
    assert report["dry_run"] is True and report["written"] is False and report["errors"] == []
    assert report["crs"] == "gcj02" and report["existing"] == "refuse"
    assert [
        (e["row"], e["action"], e["industry"], e["subtype"], e["risk"], e["village"]) for e in report["enterprises"]
    ] == [
        (3, "create", "fireworks", "retail", "yellow", first.name),
        (4, "create", "hazardous_chemicals", "filling_station", "red", second.name),
        (5, "create", "fireworks", "retail", "blue", second.name),
        (6, "create", "construction", "housing_municipal", "orange", second.name),
    ]
    assert report["enterprises"][0]["grid"]["id"] == str(demo.grid_of["gridworker1"])
    assert all(e["id"] is None for e in report["enterprises"]) and _count(session) == before

    imported = _post(client, desk, data)
    assert imported.status_code == 201, imported.get_json()
    body = imported.get_json()
    assert body["created"] == 4 and body["written"] is True and _count(session) == before + 4
    made = session.get(Enterprise, body["enterprises"][0]["id"])
    assert made.uscc == uscc(1) and made.region_id == first.id and made.grid_id == demo.grid_of["gridworker1"]
    assert made.legal_representative == "法人1" and made.contact_phone == "13800138000"
    lon, lat = session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == made.id)
    ).one()
    assert abs(lon - inside(session, first)[0]) < 1e-7 and abs(lat - inside(session, first)[1]) < 1e-7  # GCJ → WGS
    shown = client.get(f"/api/v1/enterprises/{made.id}", headers=desk).get_json()
    assert shown["region_code"] == first.code and shown["grid_id"] == str(demo.grid_of["gridworker1"])
    audits = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "enterprise", AuditEntry.action == "create")
    ).all()
    assert {a.entity_id for a in audits} >= {e["id"] for e in body["enterprises"]}
    summary = session.scalar(select(AuditEntry).where(AuditEntry.action == "import_enterprises"))
    assert summary.summary["created"] == 4 and summary.summary["file"] == "企业名单.xlsx"


def test_every_kind_of_bad_row_is_reported_and_nothing_is_written(client, login, demo, session):
    desk = login("desk")
    town, villages = _villages(demo, 0)
    other_town, other_villages = _villages(demo, 1)
    first, second = villages[0], villages[1]
    at_first = inside(session, first, gcj02=True)
    rows = [
        row(1, town, first, at_first),  # row 2, good; the others follow
        row(2, town, first, at_first, 企业名称="", 统一社会信用代码="", 行业="", 风险等级=""),
        row(
            3, town, first, at_first, 统一社会信用代码=uscc(3)[:17] + "0" if uscc(3)[17] != "0" else uscc(3)[:17] + "1"
        ),
        row(4, town, first, at_first, 统一社会信用代码=uscc(1)),  # twice in the file
        row(5, town, first, at_first, 统一社会信用代码=demo.retailer.uscc),  # registered already
        row(6, town, first, at_first, 行业="餐饮"),
        row(7, town, first, at_first, 子类="地下"),
        row(8, town, first, at_first, 行业="危险化学品", 子类=""),  # four sub-types to choose from
        row(9, town, first, at_first, 风险等级="紫"),
        row(10, town, first, ("一百零七", "30.7")),
        row(11, town, first, (30.7, 107.8)),  # swapped
        row(12, town, first, (10.0, 10.0)),  # not in China
        row(13, town, first, (101.0, 25.0)),  # in China, in no village of ours
        row(14, town, first, at_first, 坐标系="地心"),
        row(15, "查无此镇", first, at_first),
        row(16, town, None, at_first, 村="查无此村"),
        row(17, town, other_villages[0], at_first),  # a village of another town
        row(18, town, second, at_first),  # the point lies in the first village, not the second
        row(19, other_town, None, at_first),  # the point lies in another town than the one named
        row(20, town, first, at_first, 企业名称="名" * 201, 联系电话="1" * 33),
        row(21, town, first, at_first, 子类="经营", 行业="危险化学品"),  # 经营 is two sub-types
    ]
    before = _count(session)
    answer = _post(client, desk, list_xlsx(rows))
    found = _found(answer)
    assert found == {
        (3, "企业名称", "enterprise_import.name_missing"),
        (3, "统一社会信用代码", "enterprise_import.uscc_missing"),
        (3, "行业", "enterprise_import.industry_missing"),
        (3, "风险等级", "enterprise_import.risk_missing"),
        (4, "统一社会信用代码", "enterprise_import.uscc_invalid"),
        (5, "统一社会信用代码", "enterprise_import.uscc_duplicate_in_file"),
        (6, "统一社会信用代码", "enterprise_import.uscc_taken"),
        (7, "行业", "enterprise_import.industry_unknown"),
        (8, "子类", "enterprise_import.subtype_unknown"),
        (9, "子类", "enterprise_import.subtype_missing"),
        (10, "风险等级", "enterprise_import.risk_unknown"),
        (11, "经度", "enterprise_import.location_invalid"),
        (12, "经度", "enterprise_import.location_swapped"),
        (13, "经纬度", "enterprise_import.location_outside_china"),
        (14, "经纬度", "enterprise_import.location_outside_villages"),
        (15, "坐标系", "enterprise_import.crs_unknown"),
        (16, "乡镇", "enterprise_import.unknown_town"),
        (17, "村/社区", "enterprise_import.unknown_village"),
        (18, "村/社区", "enterprise_import.village_not_in_town"),
        (19, "经纬度", "enterprise_import.location_not_in_village"),
        (20, "经纬度", "enterprise_import.location_not_in_town"),
        (21, "企业名称", "enterprise_import.too_long"),
        (21, "联系电话", "enterprise_import.too_long"),
        (22, "子类", "enterprise_import.subtype_ambiguous"),
    }
    body = answer.get_json()
    assert body["title"] == "企业名单有错误，未导入任何企业" and "21 行，20 行有错误" in body["detail"]
    messages = {(e["row"], e["code"]): e["message"] for e in body["report"]["errors"]}
    assert "校验码错误" in messages[(4, "enterprise_import.uscc_invalid")]
    assert "与第 2 行重复" in messages[(5, "enterprise_import.uscc_duplicate_in_file")]
    assert demo.retailer.name in messages[(6, "enterprise_import.uscc_taken")]
    assert "生产企业" in messages[(9, "enterprise_import.subtype_missing")]
    not_in = messages[(19, "enterprise_import.location_not_in_village")]
    assert f"位置落在“{town.name}{first.name}”" in not_in and f"不在“{town.name}{second.name}”内" in not_in
    assert "GCJ-02" in not_in and ("米）" in not_in or "公里）" in not_in)
    assert f"属于{other_town.name}" in messages[(18, "enterprise_import.village_not_in_town")]
    assert any(e["field"] == "rows.19.经纬度" and e["message"].startswith("第 19 行“经纬度”：") for e in body["errors"])
    assert _count(session) == before
    assert (
        session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "import_enterprises"))
        == 0
    )


def test_one_bad_row_among_many_writes_nothing_and_the_fixed_file_imports(client, login, demo, session):
    desk = login("desk")
    town, villages = _villages(demo, 0)
    points = {v.id: inside(session, v, gcj02=True) for v in villages}
    rows = [row(100 + n, town, villages[n % len(villages)], points[villages[n % len(villages)].id]) for n in range(300)]
    rows[250] = row(350, town, villages[0], points[villages[1].id])
    before = _count(session)
    assert _found(_post(client, desk, list_xlsx(rows))) == {
        (252, "经纬度", "enterprise_import.location_not_in_village")
    }
    assert _count(session) == before
    rows[250] = row(350, town, villages[1], points[villages[1].id])
    answer = _post(client, desk, list_xlsx(rows))
    assert answer.status_code == 201 and answer.get_json()["created"] == 300
    assert _count(session) == before + 300


def test_a_reimport_updates_by_uscc_bumps_versions_and_audits_each_change(client, login, demo, session):
    desk = login("desk")
    town, villages = _villages(demo, 0)
    first, second = villages[0], villages[1]
    rows = [row(n, town, first, inside(session, first, gcj02=True)) for n in (1, 2, 3)]
    created = _post(client, desk, list_xlsx(rows)).get_json()["enterprises"]
    ids = [e["id"] for e in created]
    versions = {e.id: e.version for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))}
    again = [
        row(1, town, first, inside(session, first, gcj02=True), 风险等级="红", 联系人="新联系人"),  # changed
        rows[1],  # unchanged
        row(3, town, second, inside(session, second, gcj02=True)),  # moved to the second village
        row(4, town, first, inside(session, first, gcj02=True)),  # new
    ]
    refused = _post(client, desk, list_xlsx(again), dry_run=True)
    assert {c for _, _, c in _found(refused)} == {"enterprise_import.uscc_taken"}
    checked = _post(client, desk, list_xlsx(again), dry_run=True, existing="update")
    assert checked.status_code == 200, checked.get_json()
    assert [(e["action"], e["changed"]) for e in checked.get_json()["enterprises"]] == [
        ("update", ["contact_name", "risk"]),
        ("unchanged", []),
        ("update", ["address", "location"]),
        ("create", []),
    ]
    answer = _post(client, desk, list_xlsx(again), existing="update")
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 2, 1)
    session.expire_all()
    now = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))}
    one, two, three = (now[uuid.UUID(i)] for i in ids)
    assert one.risk == "red" and one.contact_name == "新联系人" and one.version == versions[one.id] + 1
    assert two.version == versions[two.id]  # the same row changes nothing
    assert three.region_id == second.id and three.version == versions[three.id] + 1  # one import, one version
    updates = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.entity == "enterprise")
    ).all()
    by_id = {a.entity_id: a.summary for a in updates}
    assert (
        by_id[str(one.id)]["after"] == {"risk": "red", "contact_name": "新联系人"}
        and by_id[str(one.id)]["via"] == "import"
    )
    assert by_id[str(three.id)]["moved"] is True and str(two.id) not in by_id
    # The industry is not the import's to change.
    changed = [row(1, town, first, inside(session, first, gcj02=True), 行业="燃气", 子类="餐饮")]
    assert _found(_post(client, desk, list_xlsx(changed), existing="update")) == {
        (2, "行业", "enterprise_import.industry_changed")
    }


def test_officers_import_only_into_their_region(client, login, demo, session, town_desk):
    town_a, villages_a = _villages(demo, 0)
    town_b, villages_b = _villages(demo, 1)
    desk_a = login(town_desk(town_a))
    in_b = inside(session, villages_b[0], gcj02=True)
    answer = _post(client, desk_a, list_xlsx([row(1, None, None, in_b), row(2, town_b, villages_b[0], in_b)]))
    assert _found(answer) == {
        (2, "经纬度", "enterprise_import.location_outside_scope"),
        (3, "乡镇", "enterprise_import.unknown_town"),
        (3, "经纬度", "enterprise_import.location_outside_scope"),
    }
    assert town_b.name not in str(answer.get_json()["report"]["errors"][0])  # nothing of the other town is told
    # An enterprise of town B, re-imported by town A's desk officer, is not theirs to update.
    b_enterprise = session.scalar(
        select(Enterprise).where(Enterprise.region_id.in_([v.id for v in villages_b])).limit(1)
    )
    in_a = inside(session, villages_a[0], gcj02=True)
    answer = _post(
        client,
        desk_a,
        list_xlsx([row(3, town_a, villages_a[0], in_a, 统一社会信用代码=b_enterprise.uscc)]),
        existing="update",
    )
    assert _found(answer) == {(2, "统一社会信用代码", "enterprise_import.uscc_outside_scope")}
    assert b_enterprise.name not in str(answer.get_json())
    for role in ("inspector1", "gridworker1", "enterprise1"):
        refused = _post(client, login(role), list_xlsx([row(4, town_a, villages_a[0], in_a)]))
        assert refused.status_code == 403, role
        assert client.get("/api/v1/enterprises/import-template.xlsx", headers=login(role)).status_code == 403


def test_files_that_are_no_list(client, login, demo, session):
    desk = login("desk")
    town, villages = _villages(demo, 0)
    point = inside(session, villages[0], gcj02=True)
    unreadable = _post(client, desk, b"PK\x03\x04 not really a zip")
    assert unreadable.status_code == 422 and unreadable.get_json()["code"] == "enterprise_import.unreadable"
    no_header = _post(client, desk, list_xlsx([("甲", "乙")], header=("随便", "什么")))
    assert _found(no_header) == {(1, None, "enterprise_import.no_header")}
    no_risk = _post(client, desk, list_xlsx([("甲", uscc(1), "燃气")], header=("企业名称", "统一社会信用代码", "行业")))
    assert _found(no_risk) == {(1, "风险等级", "enterprise_import.missing_column")}
    no_place = _post(
        client,
        desk,
        list_xlsx([("甲", uscc(1), "燃气", "黄")], header=("企业名称", "统一社会信用代码", "行业", "风险等级")),
    )
    assert _found(no_place) == {(1, "经度", "enterprise_import.missing_column")}
    assert _found(_post(client, desk, list_xlsx([]))) == {(1, None, "enterprise_import.empty")}
    # Headers as counties write them, one 经纬度 column (either order), degrees-minutes-seconds, blank rows.
    lon, lat = point
    degrees = int(lon)
    minutes = (lon - degrees) * 60
    spelled = list_xlsx(
        [
            (f"{lat},{lon}", "*甲", "特种设备", uscc(11), "黄色（一般风险）", "高德"),
            (None, None, None, None, None, None),
            (f"{lon}，{lat}", "乙", "燃气-餐饮", uscc(12), "较大风险", "gcj-02"),
            (f"东经{degrees}°{minutes:.6f}′,{lat}", "丙", "燃气餐饮用户", uscc(13), "低风险", ""),
        ],
        header=("经纬度", "单位名称", "行业类别", "社会信用代码", "风险等级（四色）", "坐标类型"),
    )
    answer = _post(client, desk, spelled, dry_run=True)
    assert answer.status_code == 200, answer.get_json()
    shown = answer.get_json()["enterprises"]
    assert [(e["row"], e["subtype"], e["risk"], e["village"]) for e in shown] == [
        (2, "user_unit", "yellow", villages[0].name),
        (4, "catering", "orange", villages[0].name),
        (5, "catering", "blue", villages[0].name),
    ]


def test_oversized_files_and_zip_bombs_are_refused_before_reading(client, login, session):
    import zipfile

    desk = login("desk")
    before = _count(session)
    big = _post(client, desk, b"PK" + b"\0" * (10 * 1024 * 1024))
    assert big.status_code == 413 and big.get_json()["code"] == "enterprise_import.too_large"
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (201 * 1024 * 1024))
    answer = _post(client, desk, bomb.getvalue())
    assert answer.status_code == 413 and answer.get_json()["detail"] == "企业名单解压后过大"
    assert _count(session) == before


def test_five_thousand_rows_import_in_one_transaction_or_not_at_all(client, login, demo, session, capsys):
    desk = login("desk")
    places = [(t, v) for t in demo.towns for v in demo.villages if v.parent_id == t.id]
    points = {v.id: inside(session, v, gcj02=True) for _, v in places}
    rows = [row(1000 + n, *places[n % len(places)], points[places[n % len(places)][1].id]) for n in range(5000)]
    # One bad row at the end: none of the 4,999 others is written.
    bad = rows[:-1] + [row(6000, *places[0], points[places[1][1].id])]
    before = _count(session)
    started = time.perf_counter()
    refused = _post(client, desk, list_xlsx(bad))
    refused_in = time.perf_counter() - started
    assert _found(refused) == {(5001, "经纬度", "enterprise_import.location_not_in_village")}
    assert _count(session) == before
    data = list_xlsx(rows)
    started = time.perf_counter()
    checked = _post(client, desk, data, dry_run=True)
    checked_in = time.perf_counter() - started
    assert checked.status_code == 200 and checked.get_json()["rows"] == 5000
    started = time.perf_counter()
    imported = _post(client, desk, data)
    imported_in = time.perf_counter() - started
    assert imported.status_code == 201 and imported.get_json()["created"] == 5000
    assert _count(session) == before + 5000
    placed = session.scalar(
        select(func.count())
        .select_from(Enterprise)
        .where(Enterprise.uscc.in_([uscc(1000 + n) for n in range(5000)]), Enterprise.grid_id.is_not(None))
    )
    assert placed == 5000
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "create", AuditEntry.entity == "enterprise")
        )
        >= 5000
    )
    updated = _post(client, desk, data, existing="update")
    assert updated.status_code == 201 and updated.get_json()["unchanged"] == 5000
    with capsys.disabled():
        print(
            f"\nenterprise list of 5,000 rows ({len(data) // 1024} KiB): refused {refused_in:.1f} s, "
            f"dry run {checked_in:.1f} s, import {imported_in:.1f} s"
        )


cells = any_cell(
    "青石镇",
    "500299100000",
    "107.75",
    "30.65",
    "107°45′",
    "107.75,30.65",
    "烟花爆竹",
    "危险化学品经营",
    "红",
    "重大风险",
    "gcj02",
    "百度",
    uscc(1),
    uscc(2),
    "91500299MA0000001X",
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(
    rows=st.lists(st.lists(cells, min_size=0, max_size=15), max_size=6),
    header=st.permutations(list(HEADER)),
    existing=st.sampled_from(["refuse", "update"]),
)
def test_any_cell_values_get_row_errors_or_success_never_a_500(client, desk, rows, header, existing):
    answer = _post(client, desk, list_xlsx(rows, header=header), dry_run=True, existing=existing)
    assert answer.status_code in (200, 422), answer.get_json()
    body = answer.get_json()
    if answer.status_code == 422 and body["code"] == "enterprise_import.invalid":
        assert body["errors"] and all(e["row"] >= 1 and e["message"] for e in body["report"]["errors"])
    elif answer.status_code == 422:
        assert body["code"] == "enterprise_import.unreadable"  # a value openpyxl writes but cannot read back
    else:
        assert body["errors"] == [] and len(body["enterprises"]) == body["rows"] >= 1


@pytest.fixture
def desk(login):
    return login("desk")


def test_the_template_filled_in_imports(client, desk, demo, session):
    answer = client.get("/api/v1/enterprises/import-template.xlsx", headers=desk)
    assert answer.status_code == 200 and answer.mimetype == XLSX
    assert "attachment" in answer.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(answer.data))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["*企业名称", "*统一社会信用代码", "*行业"] and "*经度" in header and "*风险等级" in header
    assert sheet.data_validations.dataValidation  # drop-downs for 行业, 子类, 风险等级, 坐标系, 乡镇, 村/社区
    assert any("GCJ-02" in (c.value or "") for c in book["填写说明"]["A"])
    lists = {c.value for col in book["填写说明"].iter_cols(min_col=2) for c in col}
    assert {
        "烟花爆竹",
        "零售经营者（零售店、点）",
        "红（重大风险）",
        demo.towns[0].name,
        demo.villages[0].name,
    } <= lists
    town, villages = _villages(demo, 0)
    lon, lat = inside(session, villages[0], gcj02=True)
    values = {
        "*企业名称": "模板企业",
        "*统一社会信用代码": uscc(77),
        "*行业": "燃气",
        "子类": "餐饮场所燃气用户",
        "乡镇": town.name,
        "村/社区": villages[0].name,
        "*经度": lon,
        "*纬度": lat,
        "*风险等级": "红（重大风险）",
    }
    sheet.append([values.get(h) for h in header])
    filled = io.BytesIO()
    book.save(filled)
    imported = _post(client, desk, filled.getvalue())
    assert imported.status_code == 201, imported.get_json()
    assert imported.get_json()["enterprises"][0]["risk"] == "red"


def test_the_command_line_imports_with_progress(app, demo, session, tmp_path):
    runner = app.test_cli_runner()
    town, villages = _villages(demo, 2)
    point = inside(session, villages[0], gcj02=True)
    good = tmp_path / "list.xlsx"
    good.write_bytes(list_xlsx([row(40, town, villages[0], point), row(41, town, villages[0], point)]))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(list_xlsx([row(42, town, villages[0], point, 风险等级="紫")]))
    before = _count(session)

    failed = runner.invoke(args=["anxun", "enterprises", "import", str(bad)])
    assert (
        failed.exit_code == 1
        and "第 2 行 风险等级" in failed.output
        and "enterprise_import.risk_unknown" in failed.output
    )
    checked = runner.invoke(args=["anxun", "enterprises", "import", str(good), "--dry-run"])
    assert checked.exit_code == 0, checked.output
    assert "all 2 rows pass (2 new, 0 updated, 0 unchanged)" in checked.output and "检查" in checked.output
    assert _count(session) == before
    done = runner.invoke(args=["anxun", "enterprises", "import", str(good), "--as", "desk"])
    assert done.exit_code == 0, done.output
    assert "imported 2 rows: 2 new" in done.output and "写入" in done.output
    assert _count(session) == before + 2
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "import_enterprises"))
    assert entry.actor_id == demo.users["desk"].id and entry.summary["via"] == "cli"
    again = runner.invoke(args=["anxun", "enterprises", "import", str(good)])
    assert again.exit_code == 1 and "enterprise_import.uscc_taken" in again.output
    again = runner.invoke(args=["anxun", "enterprises", "import", str(good), "--update-existing"])
    assert again.exit_code == 0 and "0 new, 0 updated, 2 unchanged" in again.output
    wgs = runner.invoke(args=["anxun", "enterprises", "import", str(good), "--update-existing", "--crs", "wgs84"])
    assert wgs.exit_code == 0 and "2 updated" in wgs.output  # read as WGS-84 the points move by the datum's offset
    template = tmp_path / "template.xlsx"
    written = runner.invoke(args=["anxun", "enterprises", "template", str(template)])
    assert written.exit_code == 0 and load_workbook(template).worksheets[0]["A1"].value == "*企业名称"


@pytest.mark.parametrize(
    "text, industry, subtype",
    [
        ("hazardous_chemicals", "hazardous_chemicals", None),
        ("危化品加油站", "hazardous_chemicals", "filling_station"),
        ("烟花爆竹（零售）", "fireworks", "retail"),
        ("特种设备", "special_equipment", "user_unit"),
        ("建筑", "construction", "housing_municipal"),
        ("燃气-瓶装液化气", "gas", "station"),
    ],
)
def test_industries_and_sub_types_as_county_lists_write_them(text, industry, subtype):
    found, rest = parse_industry(text)
    assert found == industry
    if subtype:
        only = INDUSTRIES[industry].subtypes
        assert (parse_subtype(industry, rest)[0] if rest else next(iter(only))) == subtype


def test_risk_levels_datums_and_degrees_as_county_lists_write_them():
    assert [parse_risk(t) for t in ("红", "重大风险（红）", "Major", "较大", "黄色", "较低风险", "紫", "红/橙")] == [
        "red",
        "red",
        "red",
        "orange",
        "yellow",
        "blue",
        None,
        None,
    ]
    assert parse_subtype("hazardous_chemicals", "经营") == (None, ["storage", "trading"])
    assert parse_subtype("hazardous_chemicals", "经营（带储存）") == ("storage", [])
    assert parse_subtype("hazardous_chemicals", "不带储存") == ("trading", [])
    datums = ("高德", "腾讯地图坐标", "GCJ-02", "天地图", "CGCS2000", "GPS", "WGS 84", "百度坐标", "bd09ll", "地心")
    assert [parse_crs(t) for t in datums] == [
        "gcj02",
        "gcj02",
        "gcj02",
        "wgs84",
        "wgs84",
        "wgs84",
        "wgs84",
        "bd09",
        "bd09",
        None,
    ]
    assert parse_degrees("东经107°48′36″") == pytest.approx(107.81)
    assert parse_degrees("107°48'36\"") == pytest.approx(107.81)
    assert parse_degrees("E107.81") == 107.81 and parse_degrees("30.7°") == 30.7
    assert [parse_degrees(t) for t in ("1e400", "nan", "107,8", "107°61′", "")] == [None] * 5
