"""The enterprise import (一企一档, POST /api/v1/enterprises/import and ``flask anxun enterprises import``): every
bad row reported with its row, column and reason, nothing written unless every row passes, points read in
the datum the county's list uses and checked against the village it names, re-imports updating by USCC,
5,000 rows in one transaction, and any cell value whatsoever answered with row errors or success."""

import io

from sqlalchemy import func, select

from audit.models import AuditEntry
from enterprises.models import Enterprise
from tests.enterprises.lists import inside, list_xlsx, row, uscc


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
