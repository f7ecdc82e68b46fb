"""复查 (recheck): a hazard closes on a recheck recorded after its latest submission that passes the
item; a failing recheck sends it back to 整改 with the recheck as the reason and raises no duplicate."""

import uuid

import pytest
from sqlalchemy import func, select

from inspections.models import Hazard
from tests.inspections.test_hazard_lifecycle import FIVE, PHOTO, _order, _transition, raise_hazards  # noqa: F401


@pytest.fixture
def submitted_major(client, login, clock, raise_hazards, first_items):
    """A major hazard ordered and submitted at 09:00 on 22 November; returns (hazard id, item code)."""
    _, major = raise_hazards()
    _order(client, login("inspector1"), clock, major, five=FIVE)
    submitted = _transition(client, login("enterprise1"), major, 2, action="submit", photos=[PHOTO], note="已整改")
    assert submitted.get_json()["status"] == "submitted"
    return major, first_items[1]


def _recheck(client, login, inspection_body, *, fail=(), started_at="2026-11-22T14:00:00+08:00"):
    body = inspection_body(kind="recheck", fail=list(fail), started_at=started_at, finished_at=None)
    response = client.post("/api/v1/inspections", headers=login("inspector2"), json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _entry(recheck, hazard_id):
    """What the recheck did to one hazard (the inspection that raised it left a general one open too)."""
    return next(e for e in recheck["rechecked"] if e["hazard_id"] == hazard_id)


def _hazards_of_item(session, hazard_id):
    hazard = session.get(Hazard, uuid.UUID(hazard_id))
    return session.scalar(
        select(func.count())
        .select_from(Hazard)
        .where(Hazard.enterprise_id == hazard.enterprise_id, Hazard.item_code == hazard.item_code)
    )


def test_a_failing_recheck_sends_the_hazard_back_and_raises_no_duplicate(
    client, login, session, clock, inspection_body, submitted_major
):
    major, item = submitted_major
    recheck = _recheck(client, login, inspection_body, fail=[item])
    assert recheck["derived"] == []
    assert _entry(recheck, major) == {"hazard_id": major, "item": item, "result": "fail", "sent_back": True}
    assert _hazards_of_item(session, major) == 1
    hazard = client.get(f"/api/v1/hazards/{major}", headers=login("desk")).get_json()
    assert hazard["status"] == "ordered" and hazard["version"] == 4
    last = hazard["events"][-1]
    assert (last["action"], last["from"], last["to"]) == ("reject", "submitted", "ordered")
    assert last["data"]["recheck_inspection_id"] == recheck["id"] and "复查" in last["note"]
    # Nor can it be closed on that recheck once submitted again (at 15:00, after the recheck).
    clock.advance(hours=6)
    _transition(client, login("enterprise1"), major, 4, action="submit", photos=[PHOTO], note="再次整改")
    refused = _transition(client, login("inspector1"), major, 5, action="verify", recheck_inspection_id=recheck["id"])
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["code"] == "hazard.recheck_before_submission"


def test_verify_on_a_recheck_that_fails_the_item_is_refused(
    client, login, session, clock, inspection_body, submitted_major
):
    """A failing recheck recorded while the hazard was still ordered: no duplicate, and no closure."""
    major, item = submitted_major
    # Put the hazard back to ordered by hand, recheck (failing) while ordered, then submit again.
    _transition(client, login("inspector1"), major, 3, action="reject", note="照片不清楚")
    recheck = _recheck(client, login, inspection_body, fail=[item], started_at="2026-11-22T10:00:00+08:00")
    assert _entry(recheck, major) == {"hazard_id": major, "item": item, "result": "fail", "sent_back": False}
    assert _hazards_of_item(session, major) == 1
    clock.advance(hours=3)  # submitted at 12:00 Beijing, after the recheck
    _transition(client, login("enterprise1"), major, 4, action="submit", photos=[PHOTO], note="已整改")
    later_fail = _recheck(client, login, inspection_body, fail=[item])  # 14:00: after the submission
    assert _entry(later_fail, major)["sent_back"] is True
    hazard = client.get(f"/api/v1/hazards/{major}", headers=login("desk")).get_json()
    refused = _transition(
        client, login("inspector1"), major, hazard["version"], action="verify", recheck_inspection_id=later_fail["id"]
    )
    assert refused.status_code == 409  # back in 整改: nothing to verify


def test_a_recheck_recorded_before_the_submission_cannot_close(
    client, login, clock, raise_hazards, inspection_body, first_items
):
    _, major = raise_hazards()
    _order(client, login("inspector1"), clock, major, five=FIVE)
    early = _recheck(client, login, inspection_body, started_at="2026-11-22T08:00:00+08:00")
    _transition(client, login("enterprise1"), major, 2, action="submit", photos=[PHOTO], note="已整改")
    refused = _transition(client, login("inspector1"), major, 3, action="verify", recheck_inspection_id=early["id"])
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["code"] == "hazard.recheck_before_submission"
    passing = _recheck(client, login, inspection_body)
    assert _entry(passing, major) == {"hazard_id": major, "item": first_items[1], "result": "pass", "sent_back": False}
    closed = _transition(client, login("inspector1"), major, 3, action="verify", recheck_inspection_id=passing["id"])
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"


def test_a_recheck_that_does_not_pass_the_item_cannot_close_it(
    client, login, session, inspection_body, submitted_major, template_of, demo
):
    """Answered 不适用, the item was not rechecked: no closure on that recheck."""
    major, item = submitted_major
    body = inspection_body(
        kind="recheck", started_at="2026-11-22T14:00:00+08:00", finished_at="2026-11-22T14:30:00+08:00"
    )
    body["answers"] = [a for a in body["answers"] if a["item"] != item]
    assert client.post("/api/v1/inspections", headers=login("inspector2"), json=body).status_code == 201
    refused = _transition(client, login("inspector1"), major, 3, action="verify", recheck_inspection_id=body["id"])
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["code"] == "hazard.recheck_not_passed"
