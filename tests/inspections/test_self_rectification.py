"""自查自报自改: an enterprise fixes the general hazards its own self-inspection found (``self_fix``),
reports the major ones into the official loop, and an inspector's spot check (抽查) may reopen a
self-fixed hazard. The ledger and the figures tell the enterprise's own findings apart."""

import uuid
from datetime import timedelta

import pytest

PHOTO = "c" * 64
FIVE = {
    "responsibility": "企业主要负责人",
    "measures": "停用并更换",
    "funds": "3 万元",
    "deadline": "2026-12-31",
    "contingency_plan": "整改期间的应急预案",
}


def _transition(client, headers, hazard_id, base_version, **data):
    return client.post(
        f"/api/v1/hazards/{hazard_id}/transitions", headers=headers, json={"base_version": base_version, **data}
    )


@pytest.fixture
def self_inspection(client, login, inspection_body, first_items):
    """enterprise1's own 自查 that fails one general and one major item: (general id, major id)."""
    general, major = first_items
    body = inspection_body(fail=[general, major], kind="self", inspectors=[])
    response = client.post("/api/v1/inspections", headers=login("enterprise1"), json=body)
    assert response.status_code == 201, response.get_json()
    return str(uuid.uuid5(uuid.UUID(body["id"]), general)), str(uuid.uuid5(uuid.UUID(body["id"]), major))


def test_the_enterprise_fixes_its_general_hazard_while_the_major_one_enters_the_loop(
    client, login, clock, self_inspection
):
    general, major = self_inspection
    officer = login("enterprise1")
    missing = _transition(client, officer, general, 1, action="self_fix")
    assert missing.status_code == 422
    assert {e["field"] for e in missing.get_json()["errors"]} == {"photos", "note"}

    fixed = _transition(client, officer, general, 1, action="self_fix", photos=[PHOTO], note="已更换灭火器")
    assert fixed.status_code == 200, fixed.get_json()
    body = fixed.get_json()
    assert body["status"] == "closed" and body["self_fixed"] is True and body["source"] == "self"
    assert body["closed_by"] == body["found_by"]

    refused = _transition(client, officer, major, 1, action="self_fix", photos=[PHOTO], note="已整改")
    assert refused.status_code == 403 and refused.get_json()["code"] == "hazard.not_self_fixable"
    ordered = _transition(
        client,
        login("inspector1"),
        major,
        1,
        action="order",
        five=FIVE,
        measures="停用",
        responsible_person="企业负责人",
        deadline=(clock.now() + timedelta(days=10)).isoformat(),
    )
    assert ordered.status_code == 200 and ordered.get_json()["status"] == "ordered"
    supervised = _transition(client, login("desk"), major, 2, action="supervise", office="县应急管理局")
    assert supervised.status_code == 200 and supervised.get_json()["supervised"] is True

    # Visible to the grid worker of its grid and to inspectors, told apart in the ledger.
    for username in ("gridworker1", "inspector1"):
        page = client.get(
            "/api/v1/hazards", headers=login(username), query_string={"source": "self", "self_fixed": "true"}
        ).get_json()
        assert [item["id"] for item in page["items"]] == [general], username
    assert (
        client.get("/api/v1/hazards", headers=login("gridworker3"), query_string={"source": "self"}).get_json()["items"]
        == []
    )


def test_only_the_enterprise_own_findings_can_be_self_fixed(client, login, inspection_body, first_items):
    general, _ = first_items
    body = inspection_body(fail=[general])
    assert client.post("/api/v1/inspections", headers=login("inspector1"), json=body).status_code == 201
    found_by_inspector = str(uuid.uuid5(uuid.UUID(body["id"]), general))
    refused = _transition(
        client, login("enterprise1"), found_by_inspector, 1, action="self_fix", photos=[PHOTO], note="已整改"
    )
    assert refused.status_code == 403 and refused.get_json()["code"] == "hazard.not_self_fixable"
    assert (
        client.get(f"/api/v1/hazards/{found_by_inspector}", headers=login("inspector1")).get_json()["source"]
        == "inspection"
    )


def test_a_spot_check_reopens_a_self_fixed_hazard_to_ordered(client, login, clock, self_inspection):
    general, _ = self_inspection
    _transition(client, login("enterprise1"), general, 1, action="self_fix", photos=[PHOTO], note="已整改")
    grid_worker = _transition(client, login("gridworker1"), general, 2, action="reopen", note="未整改")
    assert grid_worker.status_code == 403
    incomplete = _transition(client, login("inspector1"), general, 2, action="reopen", note="灭火器仍过期")
    assert {e["field"] for e in incomplete.get_json()["errors"]} == {"deadline", "responsible_person", "measures"}
    reopened = _transition(
        client,
        login("inspector1"),
        general,
        2,
        action="reopen",
        note="抽查：灭火器仍过期",
        deadline=(clock.now() + timedelta(days=3)).isoformat(),
        responsible_person="店长",
        measures="更换灭火器",
        photos=[PHOTO],
    )
    assert reopened.status_code == 200, reopened.get_json()
    body = reopened.get_json()
    assert body["status"] == "ordered" and body["self_fixed"] is False and body["closed_at"] is None
    assert [e["action"] for e in body["events"]] == ["report", "self_fix", "reopen"]
    # Back in the official loop: the enterprise submits, someone else verifies; no second self_fix.
    again = _transition(client, login("enterprise1"), general, 3, action="self_fix", photos=[PHOTO], note="再改")
    assert again.status_code == 409
    assert (
        _transition(
            client, login("enterprise1"), general, 3, action="submit", photos=[PHOTO], note="已更换"
        ).get_json()["status"]
        == "submitted"
    )
    assert _transition(client, login("inspector1"), general, 4, action="verify").get_json()["status"] == "closed"
    # A spot check applies to 自改 closures only.
    assert _transition(client, login("inspector1"), general, 5, action="spot_check", note="抽查").status_code == 409


def test_a_spot_check_confirms_a_self_fix_without_moving_it(client, login, self_inspection):
    general, _ = self_inspection
    _transition(client, login("enterprise1"), general, 1, action="self_fix", photos=[PHOTO], note="已整改")
    confirmed = _transition(client, login("inspector2"), general, 2, action="spot_check", note="抽查合格")
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["status"] == "closed" and confirmed.get_json()["version"] == 3


def test_self_fix_through_sync_push_and_self_report(push, demo, make_enterprise, self_inspection):
    general, _ = self_inspection
    result = push(
        "enterprise1",
        "hazard",
        "transition",
        general,
        {"action": "self_fix", "photos": [PHOTO], "note": "已整改"},
        base_version=1,
    )
    assert result["status"] == "applied", result
    reported = push(
        "enterprise1",
        "hazard",
        "create",
        uuid.uuid4(),
        {
            "enterprise_id": str(demo.retailer.id),
            "level": "major",
            "description": "仓库超量储存",
            "photos": [],
            "found_at": "2026-11-22T09:00:00+08:00",
        },
    )
    assert reported["status"] == "applied", reported
    other = make_enterprise(107.8, 30.7)
    refused = push(
        "enterprise1",
        "hazard",
        "create",
        uuid.uuid4(),
        {
            "enterprise_id": str(other.id),
            "level": "general",
            "description": "别家的隐患",
            "photos": [],
            "found_at": "2026-11-22T09:00:00+08:00",
        },
    )
    assert refused["status"] == "rejected", refused


def test_the_ledger_export_and_the_figures_tell_self_found_hazards_apart(client, login, demo, self_inspection):
    import io

    from openpyxl import load_workbook

    from reports.ledger import HEADERS

    general, major = self_inspection
    _transition(client, login("enterprise1"), general, 1, action="self_fix", photos=[PHOTO], note="已整改")
    response = client.get("/api/v1/hazards/export.xlsx", headers=login("desk"), query_string={"source": "self"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data))["隐患台账"]
    rows = {
        row["隐患编号"]: row for row in (dict(zip(HEADERS, r)) for r in sheet.iter_rows(min_row=2, values_only=True))
    }
    assert set(rows) == {general, major}
    assert rows[general]["发现来源"] == "企业自查" and rows[general]["整改状态"] == "已销号（企业自改）"
    assert rows[major]["整改状态"] == "已登记"

    figures = client.get("/api/v1/stats/monthly", headers=login("desk"), query_string={"month": "2026-11"}).get_json()[
        "figures"
    ]
    assert figures["hazards_found_by_source"]["self"] == 2
    assert figures["hazards_found"] == sum(figures["hazards_found_by_source"].values())
