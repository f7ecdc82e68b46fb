"""Who did it: the people a 网格员巡查 or a 企业自查 names must be the caller or people who may inspect
that enterprise; enforcement kinds still need two inspectors with a valid 执法证; reads name the people
on inspections, hazards and patrols."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from accounts.models import User


@pytest.mark.parametrize(
    "named, status",
    [
        ((), 201),
        (("gridworker1",), 201),
        (("gridworker1", "inspector1"), 201),  # a district inspector may inspect the shop: a joint patrol
        (("gridworker2",), 422),  # another village's grid worker
        (("gridworker3",), 422),
        (("enterprise1",), 422),  # the shop's own officer does not patrol it
        (("nobody",), 422),
    ],
)
def test_a_patrol_check_names_the_caller_or_people_who_may_inspect_the_enterprise(
    client, login, demo, inspection_body, named, status
):
    ids = [demo.users[n].id if n != "nobody" else uuid.uuid4() for n in named]
    response = client.post(
        "/api/v1/inspections", headers=login("gridworker1"), json=inspection_body(kind="patrol_check", inspectors=ids)
    )
    assert response.status_code == status, response.get_json()
    if status == 422:
        error = response.get_json()["errors"][0]
        assert (error["code"], error["field"]) == ("inspection.inspector_not_allowed", f"inspectors.{len(ids) - 1}")
    else:
        assert response.get_json()["inspectors"] == [str(i) for i in ids or [demo.users["gridworker1"].id]]


@pytest.mark.parametrize(
    "named, status",
    [
        (("enterprise1",), 201),
        (("inspector1",), 422),  # a self-inspection is the enterprise's own: no inspector may be named on it
        (("gridworker1",), 422),
        (("nobody",), 422),
    ],
)
def test_a_self_inspection_names_the_enterprises_own_people(client, login, demo, inspection_body, named, status):
    ids = [demo.users[n].id if n != "nobody" else uuid.uuid4() for n in named]
    response = client.post(
        "/api/v1/inspections", headers=login("enterprise1"), json=inspection_body(kind="self", inspectors=ids)
    )
    assert response.status_code == status, response.get_json()


def test_the_same_rule_holds_for_a_pushed_inspection(demo, inspection_body, push):
    body = inspection_body(kind="patrol_check", inspectors=[demo.users["gridworker3"].id])
    result = push("gridworker1", "inspection", "create", body.pop("id"), body)
    assert result["status"] == "rejected" and result["errors"][0]["code"] == "inspection.inspector_not_allowed"
    assert result["errors"][0]["field"] == "data.inspectors.0"


def test_an_expired_enforcement_certificate_shows_and_no_longer_certifies(
    client, login, session, clock, demo, inspection_body
):
    yesterday = clock.now().date() - timedelta(days=1)
    session.execute(
        update(User).where(User.id == demo.users["inspector2"].id).values(enforcement_cert_valid_until=yesterday)
    )
    person = client.get(f"/api/v1/people/{demo.users['inspector2'].id}", headers=login("desk")).get_json()
    assert person["enforcement_cert"] == {
        "number": "50029920260002",
        "valid_until": yesterday.isoformat(),
        "valid": False,
    }
    refused = client.post("/api/v1/inspections", headers=login("inspector1"), json=inspection_body())
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0] == {
        "code": "inspection.not_certified",
        "field": "inspectors.1",
        "message": "不是持有效执法证的执法人员",
    }


def test_reads_name_the_people_on_inspections_hazards_and_patrols(
    client, login, session, clock, demo, inspection_body, first_items
):
    from inspections import hazards
    from tests.inspections.test_patrols import _patrol

    body = inspection_body(fail=[first_items[0]])
    assert client.post("/api/v1/inspections", headers=login("inspector1"), json=body).status_code == 201
    inspection = client.get(f"/api/v1/inspections/{body['id']}", headers=login("desk")).get_json()
    inspector1, inspector2 = (str(demo.users[u].id) for u in ("inspector1", "inspector2"))
    assert inspection["people"] == {
        inspector1: {"name": "李执法", "enforcement_cert_no": "50029920260001"},
        inspector2: {"name": "张执法", "enforcement_cert_no": "50029920260002"},
    }
    hazard_id = inspection["derived"][0]["id"]
    hazard = client.get(f"/api/v1/hazards/{hazard_id}", headers=login("enterprise1")).get_json()
    assert hazard["people"][hazard["found_by"]]["name"] == "李执法"
    assert hazard["people"][hazard["events"][0]["actor_id"]]["name"] == "李执法"
    listed = client.get("/api/v1/hazards", headers=login("desk")).get_json()["items"]
    assert listed[0]["people"][inspector1]["enforcement_cert_no"] == "50029920260001"
    # What the pull serves for a hazard is the same dict.
    from accounts.principal import principal_for
    from geo.models import Region

    worker = demo.users["gridworker1"]
    region = session.get(Region, worker.region_id)
    pulled = hazards.rows(session, clock, principal_for(worker, region.code, region.path, None), [uuid.UUID(hazard_id)])
    assert pulled[0]["people"][inspector1]["name"] == "李执法"
    patrol, _ = _patrol(session, demo)
    assert client.post("/api/v1/patrols", headers=login("gridworker1"), json=patrol).status_code == 201
    read = client.get(f"/api/v1/patrols/{patrol['id']}", headers=login("desk")).get_json()
    assert read["people"] == {str(worker.id): {"name": "赵网格", "enforcement_cert_no": None}}
