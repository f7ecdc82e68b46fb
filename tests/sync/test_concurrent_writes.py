"""Two writers of the same record at the same moment: the second one's insert waits for the first
transaction and then meets a unique violation. A push answers that change as retryable (the rest of
the batch is applied); REST answers 409. Made deterministic by holding the first transaction open
until the second is seen waiting on its lock."""

import uuid

from sqlalchemy import func, select, text

from core.clock import FixedClock
from enterprises.models import Enterprise
from enterprises.schemas import EnterpriseIn
from enterprises.service import create_enterprise
from enterprises.uscc import make_uscc
from inspections.hazards import report_hazard
from inspections.schemas import HazardData
from tests.conftest import START
from tests.sync.conftest import principal_of_user, run_while_held
from tests.sync.payloads import hazard_change


def test_a_hazard_pushed_by_two_phones_at_once_is_answered_once_the_first_commits(db_session, phone, world):
    hazard_id = uuid.uuid4()
    change = hazard_change(world["retailer"], hazard_id=hazard_id)
    other = hazard_change(world["retailer"])
    # The first phone's transaction: the same hazard reported and flushed, not yet committed.
    first = principal_of_user(db_session, "gridworker1", "first-phone")
    report_hazard(db_session, FixedClock(START), first, hazard_id, HazardData().load(change["data"]))
    db_session.flush()

    second = phone("gridworker1")
    response = run_while_held(db_session, lambda: second.push([change, other]))
    assert response.status_code == 200, response.get_json()
    raced, applied = response.get_json()["results"]
    # The set path's insert waits on the first phone's row; once that commits, the group is refused and
    # each change goes one by one, meeting the committed hazard: same content, same user — a duplicate,
    # what a retry would have been told (the per-change path said sync.concurrent_write, retryable).
    assert raced["status"] == "duplicate", raced
    assert applied["status"] == "applied"  # the rest of the batch is not held hostage

    # Sent again (the phone retries retryable changes), it meets the committed hazard: same content.
    again = second.push([change]).get_json()["results"][0]
    assert again["status"] == "duplicate", again


def test_two_officers_registering_one_enterprise_at_once_get_201_and_409(db_session, server, world):
    """REST: the unique USCC is checked before the insert; a registration in flight elsewhere slips
    past the check, and its commit turns ours into a unique violation: 409, try again."""
    client = server[0]
    token = client.post(
        "/api/v1/auth/login",
        json={"username": "desk", "password": "anxun-demo", "device": {"id": "desk-web", "platform": "web"}},
    ).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    lon, lat = db_session.execute(
        select(func.ST_X(Enterprise.location), func.ST_Y(Enterprise.location)).where(Enterprise.id == world["retailer"])
    ).one()
    body = {
        "name": "同时登记的烟花零售点",
        "uscc": make_uscc("91500299MA9999997"),
        "industry": "fireworks",
        "subtype": "retail",
        "risk": "orange",
        "address": "石桥社区",
        "location": {"lon": lon, "lat": lat},
    }
    create_enterprise(
        db_session, FixedClock(START), principal_of_user(db_session, "desk", "desk-other"), EnterpriseIn().load(body)
    )
    db_session.flush()

    raced = run_while_held(db_session, lambda: client.post("/api/v1/enterprises", headers=headers, json=body))
    assert raced.status_code == 409, raced.get_json()
    assert raced.get_json()["code"] == "conflict.concurrent_write" and raced.headers["Retry-After"]
    assert raced.mimetype == "application/problem+json"
    again = client.post("/api/v1/enterprises", headers=headers, json=body)
    assert again.status_code == 409 and again.get_json()["code"] == "enterprise.uscc_taken"


def test_a_constraint_no_check_foresaw_rejects_that_change_only_and_finally(db_session, phone, world):
    """Any other violated constraint is a gap in validation: the change is rejected for good (the
    phone must not retry it forever), the rest of the batch is applied, and there is no 500. Made
    here with a constraint the domain code cannot know about, on this test's own database copy."""
    db_session.execute(text("ALTER TABLE hazards ADD CONSTRAINT no_ladders CHECK (description NOT LIKE '%梯子%')"))
    db_session.commit()
    refused = hazard_change(world["retailer"], description="楼道堆放梯子")
    fine = hazard_change(world["retailer"])
    response = phone("gridworker1").push([refused, fine])
    assert response.status_code == 200, response.get_json()
    first, second = response.get_json()["results"]
    assert first["status"] == "rejected" and first["retryable"] is False
    assert first["code"] == "validation.constraint"
    assert second["status"] == "applied"


def test_a_set_based_run_raced_by_another_phone_falls_back_change_by_change(db_session, phone, world):
    """The set-based push clears a run of inspections with its batch checks, then stores them in one
    statement. Another phone's transaction holding one of the same ids makes that statement wait, and its
    commit turns it into a unique violation: the run's savepoint is undone and each change goes the
    per-change path, so the raced one is answered as the record now stands and the other is applied."""
    from inspections.schemas import InspectionData
    from inspections.service import record_inspection
    from inspections.models import Inspection
    from tests.sync.payloads import inspection_change

    users = world["users"]
    team = [users["inspector1"].id, users["inspector2"].id]
    raced, _ = inspection_change(db_session, world["retailer"], team, fail_first=1)
    other, _ = inspection_change(db_session, world["retailer"], team)
    # The first phone of inspector1: the same inspection recorded and flushed, not yet committed.
    first = principal_of_user(db_session, "inspector1", "first-phone")
    record_inspection(
        db_session,
        FixedClock(START),
        first,
        uuid.UUID(raced["id"]),
        InspectionData().load(raced["data"]),
        geofence_m=300,
    )
    db_session.flush()

    second = phone("inspector1")
    response = run_while_held(db_session, lambda: second.push([raced, other]))
    assert response.status_code == 200, response.get_json()
    first_result, second_result = response.get_json()["results"]
    # Same user, same content: the fallback finds it committed and says so (the per-change path alone
    # would have met the violation itself and answered a retryable sync.concurrent_write).
    assert first_result["status"] == "duplicate", first_result
    assert second_result["status"] == "applied", second_result
    db_session.expire_all()
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(Inspection)
            .where(Inspection.id.in_([uuid.UUID(raced["id"]), uuid.UUID(other["id"])]))
        )
        == 2
    )
    # The raced one, sent again, is a duplicate: the phone converges.
    assert second.push([raced]).get_json()["results"][0]["status"] == "duplicate"
