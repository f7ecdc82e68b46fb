"""Recording inspections: who may record what, scoring through the checklist version, hazards from
failed items with uuid5 ids, idempotent re-sends, the geofence."""

import uuid

import pytest
from sqlalchemy import func, select

from audit.models import AuditEntry
from geo.coords import wgs84_to_gcj02
from inspections.models import Hazard
from inspections.records import Provenance
from inspections.service import record_inspection


def _enterprise_point(session, enterprise):
    from enterprises.models import Enterprise

    return session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == enterprise.id)
    ).one()


def test_routine_inspection_raises_hazards_with_uuid5_ids(client, login, session, demo, inspection_body, first_items):
    general, major = first_items
    body = inspection_body(fail=[general, major])
    response = client.post("/api/v1/inspections", headers=login("inspector1"), json=body)
    assert response.status_code == 201, response.get_json()
    out = response.get_json()
    expected = {str(uuid.uuid5(uuid.UUID(body["id"]), code)) for code in (general, major)}
    assert {d["id"] for d in out["derived"]} == expected
    assert out["summary"]["failed"] == 2 and out["summary"]["major_failed"] == 1
    levels = dict(
        session.execute(
            select(Hazard.item_code, Hazard.level).where(Hazard.inspection_id == uuid.UUID(body["id"]))
        ).all()
    )
    assert levels == {general: "general", major: "major"}
    assert out["missing_photos"] == ["a" * 64]
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.entity == "inspection", AuditEntry.entity_id == body["id"])
        )
        == 1
    )


def test_resending_the_same_inspection_is_harmless_and_a_reused_id_is_refused(
    client, login, session, inspection_body, first_items
):
    headers = login("inspector1")
    body = inspection_body(fail=[first_items[0]])
    assert client.post("/api/v1/inspections", headers=headers, json=body).status_code == 201
    again = client.post("/api/v1/inspections", headers=headers, json=body)
    assert again.status_code == 200
    assert (
        session.scalar(select(func.count()).select_from(Hazard).where(Hazard.inspection_id == uuid.UUID(body["id"])))
        == 1
    )
    changed = dict(body, remarks="改过的备注")
    reused = client.post("/api/v1/inspections", headers=headers, json=changed)
    assert reused.status_code == 409 and reused.get_json()["code"] == "sync.id_reused"


@pytest.mark.parametrize(
    "user, kind, inspectors, status, code",
    [
        ("inspector1", "routine", ["inspector1"], 422, "validation"),
        ("inspector1", "unannounced", ["inspector2", "desk"], 422, "validation"),
        ("gridworker1", "routine", ["inspector1", "inspector2"], 403, "inspection.kind_not_allowed"),
        ("enterprise1", "routine", ["inspector1", "inspector2"], 403, "inspection.kind_not_allowed"),
        ("inspector1", "self", ["inspector1", "inspector2"], 403, "inspection.kind_not_allowed"),
    ],
)
def test_who_may_record_which_kind(client, login, demo, inspection_body, user, kind, inspectors, status, code):
    body = inspection_body(kind=kind, inspectors=[demo.users[u].id for u in inspectors])
    response = client.post("/api/v1/inspections", headers=login(user), json=body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["code"] == code


def test_enforcement_errors_name_the_field(client, login, demo, inspection_body):
    too_few = client.post(
        "/api/v1/inspections",
        headers=login("inspector1"),
        json=inspection_body(inspectors=[demo.users["inspector1"].id]),
    ).get_json()
    assert too_few["errors"][0]["code"] == "inspection.too_few_inspectors"
    not_on_team = client.post(
        "/api/v1/inspections",
        headers=login("inspector1"),
        json=inspection_body(inspectors=[demo.users["inspector2"].id, demo.users["desk"].id]),
    ).get_json()
    assert {e["code"] for e in not_on_team["errors"]} == {"inspection.recorder_not_on_team"}


def test_self_inspection_by_the_enterprise_officer(client, login, demo, inspection_body, session):
    headers = login("enterprise1")
    ok = client.post("/api/v1/inspections", headers=headers, json=inspection_body(kind="self", inspectors=[]))
    assert ok.status_code == 201, ok.get_json()
    from enterprises.models import Enterprise

    other = session.scalar(
        select(Enterprise)
        .where(Enterprise.industry == "fireworks", Enterprise.subtype == "retail", Enterprise.id != demo.retailer.id)
        .limit(1)
    )
    outside = client.post(
        "/api/v1/inspections", headers=headers, json=inspection_body(other, kind="self", inspectors=[])
    )
    assert outside.status_code == 404


def test_grid_worker_patrol_check_in_own_grid(client, login, session, demo, inspection_body):
    response = client.post(
        "/api/v1/inspections", headers=login("gridworker1"), json=inspection_body(kind="patrol_check", inspectors=[])
    )
    assert response.status_code == 201
    assert (
        client.get(f"/api/v1/inspections/{response.get_json()['id']}", headers=login("gridworker2")).status_code == 404
    )


def test_answers_are_checked_against_the_named_version(client, login, inspection_body, first_items):
    headers = login("inspector1")
    body = inspection_body()
    body["answers"].append({"item": "NOT-AN-ITEM", "result": "pass", "value": None, "note": "", "photos": []})
    foreign = client.post("/api/v1/inspections", headers=headers, json=body).get_json()
    assert foreign["errors"][0]["code"] == "checklist.unknown_item"
    assert foreign["errors"][0]["field"] == f"answers.{len(body['answers']) - 1}.item"
    no_evidence = inspection_body(fail=[first_items[1]])
    for answer in no_evidence["answers"]:
        answer["photos"] = []
    missing = client.post("/api/v1/inspections", headers=headers, json=no_evidence)
    assert missing.status_code == 422
    unknown = inspection_body(checklist={"code": "fireworks.retail", "version": 99})
    response = client.post("/api/v1/inspections", headers=headers, json=unknown)
    assert response.status_code == 422 and response.get_json()["code"] == "sync.unknown_reference"
    wrong_industry = inspection_body(checklist={"code": "gas.user", "version": 1})
    response = client.post("/api/v1/inspections", headers=headers, json=wrong_industry)
    assert response.get_json()["errors"][0]["code"] == "inspection.checklist_not_applicable"


def test_unknown_fields_are_refused(client, login, inspection_body):
    body = inspection_body(enterprise_name="typo field")
    response = client.post("/api/v1/inspections", headers=login("inspector1"), json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "enterprise_name"


def test_geofence_flags_at_below_and_above_the_threshold(session, clock, demo, inspection_body):
    from accounts.service import _principal

    principal = _principal(session, demo.users["inspector1"], "dev")
    lon, lat = _enterprise_point(session, demo.retailer)
    check_in = {"lon": lon, "lat": lat + 0.003, "accuracy_m": 20}  # ≈333 m north
    distance = session.scalar(
        select(
            func.ST_Distance(
                func.Geography(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)),
                func.Geography(func.ST_SetSRID(func.ST_MakePoint(lon, lat + 0.003), 4326)),
            )
        )
    )
    outcomes = {}
    for name, threshold in (("at", distance), ("below", distance - 1), ("above", distance + 1)):
        body = inspection_body(location=check_in)
        data = {k: v for k, v in body.items() if k != "id"}
        from inspections.schemas import InspectionData

        loaded = InspectionData().load(data)
        recorded = record_inspection(
            session,
            clock,
            principal,
            uuid.UUID(body["id"]),
            loaded,
            geofence_m=threshold,
            provenance=Provenance(device_id="dev"),
        )
        outcomes[name] = (recorded.record.outside_geofence, round(recorded.record.distance_m, 3))
    assert outcomes["at"] == (False, round(distance, 3))
    assert outcomes["above"][0] is False
    assert outcomes["below"][0] is True


def test_check_in_in_gcj02_is_stored_in_wgs84(client, login, session, demo, inspection_body):
    lon, lat = _enterprise_point(session, demo.retailer)
    glon, glat = wgs84_to_gcj02(lon, lat)
    body = inspection_body(location={"lon": glon, "lat": glat, "crs": "gcj02", "accuracy_m": 10})
    out = client.post("/api/v1/inspections", headers=login("inspector1"), json=body).get_json()
    assert out["distance_m"] < 0.5 and out["outside_geofence"] is False
    assert abs(out["location"]["lon"] - lon) < 1e-6
