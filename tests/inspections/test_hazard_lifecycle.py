"""The hazard state machine: every allowed transition, every refused one, overdue from the clock."""

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from audit.models import AuditEntry
from inspections.models import HazardEvent

PHOTO = "b" * 64
FIVE = {
    "responsibility": "企业主要负责人张三",
    "measures": "更换防爆电气",
    "funds": "5 万元",
    "deadline": "2026-12-31",
    "contingency_plan": "停产整改期间的应急预案",
}


@pytest.fixture
def raise_hazards(client, login, inspection_body, first_items):
    """An inspection by inspector1 that fails one general and one major item; returns their ids."""

    def make():
        general, major = first_items
        body = inspection_body(fail=[general, major])
        assert client.post("/api/v1/inspections", headers=login("inspector1"), json=body).status_code == 201
        return (str(uuid.uuid5(uuid.UUID(body["id"]), general)), str(uuid.uuid5(uuid.UUID(body["id"]), major)))

    return make


def _transition(client, headers, hazard_id, base_version, **data):
    return client.post(
        f"/api/v1/hazards/{hazard_id}/transitions", headers=headers, json={"base_version": base_version, **data}
    )


def _deadline(clock, days):
    return (clock.now() + timedelta(days=days)).isoformat()


def _order(client, headers, clock, hazard_id, version=1, days=7, **extra):
    return _transition(
        client,
        headers,
        hazard_id,
        version,
        action="order",
        deadline=_deadline(clock, days),
        responsible_person="企业负责人",
        measures="立即整改",
        **extra,
    )


def test_full_loop_for_a_general_hazard(client, login, clock, raise_hazards, session):
    general, _ = raise_hazards()
    inspector = login("inspector1")
    ordered = _order(client, inspector, clock, general)
    assert ordered.status_code == 200, ordered.get_json()
    assert ordered.get_json()["status"] == "ordered" and ordered.get_json()["version"] == 2
    submitted = _transition(client, login("enterprise1"), general, 2, action="submit", photos=[PHOTO], note="已整改")
    assert submitted.get_json()["status"] == "submitted"
    closed = _transition(client, login("inspector2"), general, 3, action="verify", note="复查合格")
    body = closed.get_json()
    assert body["status"] == "closed" and body["closed_at"] and body["version"] == 4
    actions = [e["action"] for e in body["events"]]
    assert actions == ["report", "order", "submit", "verify"]
    submit_event = session.scalar(
        select(HazardEvent).where(HazardEvent.hazard_id == uuid.UUID(general), HazardEvent.action == "submit")
    )
    assert submit_event.photos == [PHOTO] and submit_event.device_id.startswith("test-enterprise1")
    audited = session.execute(
        select(AuditEntry.action, AuditEntry.device_id, AuditEntry.summary)
        .where(AuditEntry.entity == "hazard", AuditEntry.entity_id == general)
        .order_by(AuditEntry.id)
    ).all()
    # Raised by the inspection, whose own audit entry covers it; each transition has its own entry.
    assert [(a, s["from"], s["to"]) for a, _, s in audited] == [
        ("order", "reported", "ordered"),
        ("submit", "ordered", "submitted"),
        ("verify", "submitted", "closed"),
    ]
    assert audited[1].device_id.startswith("test-enterprise1")


def test_rejected_rectification_goes_back_to_ordered_with_a_new_deadline(client, login, clock, raise_hazards):
    general, _ = raise_hazards()
    inspector = login("inspector1")
    _order(client, inspector, clock, general)
    _transition(client, login("enterprise1"), general, 2, action="submit", photos=[PHOTO], note="已整改")
    missing_note = _transition(client, inspector, general, 3, action="reject")
    assert missing_note.status_code == 422 and missing_note.get_json()["errors"][0]["field"] == "note"
    rejected = _transition(
        client, inspector, general, 3, action="reject", note="未彻底整改", deadline=_deadline(clock, 14)
    )
    assert rejected.get_json()["status"] == "ordered"
    assert datetime.fromisoformat(rejected.get_json()["deadline"]) == clock.now() + timedelta(days=14)


def test_order_needs_its_fields_and_major_hazards_the_five_implementations(client, login, clock, raise_hazards):
    general, major = raise_hazards()
    inspector = login("inspector1")
    bare = _transition(client, inspector, general, 1, action="order")
    assert {e["field"] for e in bare.get_json()["errors"]} == {"deadline", "responsible_person", "measures"}
    no_five = _order(client, inspector, clock, major)
    assert no_five.status_code == 422
    assert {e["field"] for e in no_five.get_json()["errors"]} == {"five"}
    ok = _order(client, inspector, clock, major, five=FIVE, treatment_plan="治理方案：停用并更换")
    assert ok.status_code == 200 and ok.get_json()["five"] == FIVE
    assert ok.get_json()["treatment_plan"] == "治理方案：停用并更换"


def test_major_order_without_a_treatment_plan_takes_the_five_measures(client, login, clock, raise_hazards):
    """The contract (SYNC_PROTOCOL.md §2) names only `five`; the 治理方案 summary falls back to its measures."""
    _, major = raise_hazards()
    ordered = _order(client, login("inspector1"), clock, major, five=FIVE)
    assert ordered.status_code == 200, ordered.get_json()
    assert ordered.get_json()["treatment_plan"] == FIVE["measures"]


def test_wrong_role_is_refused(client, login, clock, raise_hazards):
    general, major = raise_hazards()
    refused = _order(client, login("gridworker1"), clock, general)
    assert refused.status_code == 403 and refused.get_json()["code"] == "hazard.role_not_allowed"
    supervise = _transition(client, login("inspector1"), major, 1, action="supervise", office="县安委办")
    assert supervise.status_code == 403


def test_stale_version_and_wrong_state_are_conflicts_with_current(client, login, clock, raise_hazards):
    general, _ = raise_hazards()
    inspector = login("inspector1")
    _order(client, inspector, clock, general)
    stale = _order(client, inspector, clock, general, version=1)
    assert stale.status_code == 409
    assert stale.get_json()["code"] == "hazard.stale_version"
    assert stale.get_json()["current"]["version"] == 2 and stale.get_json()["current"]["status"] == "ordered"
    wrong = _transition(client, inspector, general, 2, action="verify")
    assert wrong.status_code == 409 and wrong.get_json()["code"] == "hazard.invalid_transition"
    assert wrong.get_json()["current"]["status"] == "ordered"


def test_submit_needs_evidence_photos(client, login, clock, raise_hazards):
    general, _ = raise_hazards()
    _order(client, login("inspector1"), clock, general)
    response = _transition(client, login("enterprise1"), general, 2, action="submit", note="已整改")
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "photos"


def test_verifier_must_not_be_the_submitter(client, login, clock, raise_hazards):
    general, _ = raise_hazards()
    inspector = login("inspector1")
    _order(client, inspector, clock, general)
    _transition(client, inspector, general, 2, action="submit", photos=[PHOTO], note="代为提交")
    response = _transition(client, inspector, general, 3, action="verify")
    assert response.status_code == 403 and response.get_json()["code"] == "hazard.verifier_is_submitter"


def test_major_hazard_closes_only_through_a_recheck_inspection(client, login, clock, raise_hazards, inspection_body):
    _, major = raise_hazards()
    inspector = login("inspector1")
    _order(client, inspector, clock, major, five=FIVE, treatment_plan="方案")
    _transition(client, login("enterprise1"), major, 2, action="submit", photos=[PHOTO], note="已整改")
    without = _transition(client, inspector, major, 3, action="verify")
    assert without.status_code == 422 and without.get_json()["errors"][0]["field"] == "recheck_inspection_id"
    unknown = _transition(client, inspector, major, 3, action="verify", recheck_inspection_id=str(uuid.uuid4()))
    assert unknown.status_code == 422 and unknown.get_json()["code"] == "sync.unknown_reference"
    routine = inspection_body()
    client.post("/api/v1/inspections", headers=inspector, json=routine)
    not_recheck = _transition(client, inspector, major, 3, action="verify", recheck_inspection_id=routine["id"])
    assert not_recheck.get_json()["errors"][0]["code"] == "hazard.not_a_recheck"
    recheck = inspection_body(kind="recheck")
    assert client.post("/api/v1/inspections", headers=inspector, json=recheck).status_code == 201
    closed = _transition(client, inspector, major, 3, action="verify", recheck_inspection_id=recheck["id"])
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"


def test_listed_supervision_only_for_major_hazards(client, login, raise_hazards):
    general, major = raise_hazards()
    desk = login("desk")
    refused = _transition(client, desk, general, 1, action="supervise", office="县安委办")
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["code"] == "hazard.not_major"
    ok = _transition(client, desk, major, 1, action="supervise", office="县安委办")
    body = ok.get_json()
    assert body["supervised"] is True and body["status"] == "reported" and body["supervising_office"] == "县安委办"


def test_overdue_is_derived_from_the_clock(client, login, clock, raise_hazards):
    general, _ = raise_hazards()
    desk = login("desk")
    _order(client, login("inspector1"), clock, general, days=1)
    assert client.get(f"/api/v1/hazards/{general}", headers=desk).get_json()["overdue"] is False
    assert general not in {
        h["id"] for h in client.get("/api/v1/hazards?overdue=true", headers=desk).get_json()["items"]
    }
    clock.advance(days=2)
    assert client.get(f"/api/v1/hazards/{general}", headers=desk).get_json()["overdue"] is True
    assert general in {h["id"] for h in client.get("/api/v1/hazards?overdue=true", headers=desk).get_json()["items"]}


def test_hazards_outside_the_scope_are_404(client, login, clock, raise_hazards):
    general, _ = raise_hazards()
    assert client.get(f"/api/v1/hazards/{general}", headers=login("gridworker1")).status_code == 200
    assert client.get(f"/api/v1/hazards/{general}", headers=login("gridworker2")).status_code == 404
    assert _order(client, login("gridworker3"), clock, general).status_code in (403, 404)


def test_free_report_by_a_grid_worker(client, login, session, demo):
    from sqlalchemy import func

    from enterprises.models import Enterprise

    lon, lat = session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == demo.retailer.id)
    ).one()
    body = {
        "level": "general",
        "description": "店外堆放烟花",
        "location": {"lon": lon, "lat": lat},
        "photos": [PHOTO],
        "found_at": "2026-11-22T08:00:00+08:00",
    }
    response = client.post("/api/v1/hazards", headers=login("gridworker1"), json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["grid_id"] == str(demo.grid_of["gridworker1"])
    outside = client.post("/api/v1/hazards", headers=login("gridworker2"), json=body)
    assert outside.status_code == 422 and outside.get_json()["errors"][0]["code"] == "scope.outside"
    neither = client.post(
        "/api/v1/hazards", headers=login("gridworker1"), json={k: v for k, v in body.items() if k != "location"}
    )
    assert neither.status_code == 422


def test_ledger_filters_and_sorts(client, login, clock, raise_hazards):
    general, major = raise_hazards()
    desk = login("desk")
    majors = client.get("/api/v1/hazards?level=major", headers=desk).get_json()["items"]
    assert {h["id"] for h in majors} == {major}
    fireworks = client.get("/api/v1/hazards?industry=fireworks&status=reported", headers=desk).get_json()
    assert fireworks["total"] == 2
    assert client.get("/api/v1/hazards?industry=gas", headers=desk).get_json()["total"] == 0
    _order(client, login("inspector1"), clock, general, days=3)
    by_deadline = client.get("/api/v1/hazards?sort=deadline", headers=desk).get_json()["items"]
    assert by_deadline[0]["id"] == general
    assert client.get("/api/v1/hazards?region=500299101000", headers=desk).get_json()["total"] == 0
    assert client.get("/api/v1/hazards?region=500299100000", headers=desk).get_json()["total"] == 2
    assert client.get("/api/v1/hazards", headers=login("gridworker3")).get_json()["total"] == 0


def test_etag_of_a_hazard_guards_its_transitions(client, login, clock, raise_hazards):
    """GET answers an ETag and 304 for it; a transition with a stale If-Match is 412 and changes nothing;
    without If-Match the body's base_version alone decides, as phones built from the contract send."""
    general, _ = raise_hazards()
    inspector, path = login("inspector1"), f"/api/v1/hazards/{general}"
    first = client.get(path, headers=inspector)
    tag = first.headers["ETag"]
    assert client.get(path, headers={**inspector, "If-None-Match": tag}).status_code == 304
    assert _order(client, inspector, clock, general).status_code == 200  # no If-Match: base_version alone
    stale = client.post(
        f"{path}/transitions",
        headers={**inspector, "If-Match": tag},
        json={"base_version": 2, "action": "supervise", "office": "县应急管理局"},
    )
    assert stale.status_code == 412 and stale.get_json()["code"] == "precondition_failed"
    assert client.get(path, headers=inspector).get_json()["supervised"] is False
    enterprise = login("enterprise1")
    fresh = client.get(path, headers=enterprise).headers["ETag"]
    ok = client.post(
        f"{path}/transitions",
        headers={**enterprise, "If-Match": fresh},
        json={"base_version": 2, "action": "submit", "photos": [PHOTO], "note": "已整改"},
    )
    assert ok.status_code == 200 and ok.get_json()["status"] == "submitted", ok.get_json()
    assert ok.headers["ETag"] == client.get(path, headers=enterprise).headers["ETag"] != fresh
    transitions = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/hazards/{hazard_id}/transitions"]
    [if_match] = [p for p in transitions["post"]["parameters"] if p.get("name") == "If-Match"]
    assert if_match["required"] is False and "412" in transitions["post"]["responses"]
