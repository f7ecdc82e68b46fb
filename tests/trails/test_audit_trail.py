"""GET /audit?entity=…&entity_id=…: the audit trail of one record, oldest first, paged, with who acted
and from which device; only admins and desk officers, and only for a record they can see (404
otherwise, as for the record itself); an unknown kind of record is a 422."""

import uuid
from datetime import timedelta

import pytest

from tests.accounts.conftest import town_desk  # noqa: F401  (fixture)
from geo.models import Grid, Region

PHOTO = "d" * 64


@pytest.fixture
def hazard_loop(client, login, demo, clock):
    """A hazard gridworker1 reports at the retailer, the desk orders, gridworker1 submits and inspector1
    verifies; returns (hazard id, the device of each step)."""
    devices = {name: f"trail-{name}-{uuid.uuid4().hex[:6]}" for name in ("gridworker1", "desk", "inspector1")}
    heads = {name: login(name, device_id=device) for name, device in devices.items()}
    hazard = client.post(
        "/api/v1/hazards",
        headers=heads["gridworker1"],
        json={
            "enterprise_id": str(demo.retailer.id),
            "level": "general",
            "description": "消防通道堆放纸箱",
            "photos": [PHOTO],
            "found_at": "2026-11-22T08:30:00+08:00",
        },
    ).get_json()
    steps = [
        (
            "desk",
            {
                "action": "order",
                "deadline": (clock.now() + timedelta(days=3)).isoformat(),
                "responsible_person": "店主",
                "measures": "清理通道",
            },
        ),
        ("gridworker1", {"action": "submit", "photos": [PHOTO], "note": "已清理"}),
        ("inspector1", {"action": "verify", "note": "复查合格"}),
    ]
    for version, (who, data) in enumerate(steps, start=1):
        clock.advance(minutes=10)
        answer = client.post(
            f"/api/v1/hazards/{hazard['id']}/transitions", headers=heads[who], json={"base_version": version, **data}
        )
        assert answer.status_code == 200, answer.get_json()
    return hazard["id"], devices


def _trail(client, headers, entity, entity_id, **query):
    return client.get(
        "/api/v1/audit", headers=headers, query_string={"entity": entity, "entity_id": entity_id, **query}
    )


def test_a_hazards_whole_trail_after_report_and_transitions(client, login, demo, hazard_loop):
    hazard_id, devices = hazard_loop
    answer = _trail(client, login("desk"), "hazard", hazard_id)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["total"] == 4
    items = body["items"]
    assert [i["action"] for i in items] == ["report", "order", "submit", "verify"]
    assert [i["actor"]["name"] for i in items] == [
        demo.users[u].name for u in ("gridworker1", "desk", "gridworker1", "inspector1")
    ]
    assert items[0]["actor"]["roles"] == ["grid_worker"] and items[0]["actor"]["username"] == "gridworker1"
    assert [i["device_id"] for i in items] == [devices[u] for u in ("gridworker1", "desk", "gridworker1", "inspector1")]
    assert items[0]["summary"] == {"level": "general"}
    assert items[1]["summary"] == {"from": "reported", "to": "ordered", "version": 2}
    assert items[3]["summary"] == {"from": "submitted", "to": "closed", "version": 4}
    times = [i["at"] for i in items]
    assert all(t.endswith("+08:00") for t in times) and times == sorted(times)

    second = _trail(client, login("admin"), "hazard", hazard_id, per_page=3, page=2).get_json()
    assert second["total"] == 4 and [i["action"] for i in second["items"]] == ["verify"]
    assert 'rel="prev"' in _trail(client, login("admin"), "hazard", hazard_id, per_page=3, page=2).headers["Link"]


def test_only_desk_officers_and_admins_and_only_for_records_they_see(
    client, login, hazard_loop, town_desk, session, demo
):
    hazard_id, _ = hazard_loop
    town_of_worker = session.get(Region, session.get(Grid, demo.grid_of["gridworker1"]).town_id)
    other_town = next(t for t in demo.towns if t.id != town_of_worker.id)
    assert _trail(client, login(town_desk(town_of_worker)), "hazard", hazard_id).status_code == 200
    outside = _trail(client, login(town_desk(other_town)), "hazard", hazard_id)
    assert outside.status_code == 404 and outside.get_json()["title"] == "记录不存在"
    for role in ("gridworker1", "inspector1", "enterprise1"):
        refused = _trail(client, login(role), "hazard", hazard_id)
        assert refused.status_code == 403, role
    # A record that does not exist answers as one out of scope.
    assert _trail(client, login("desk"), "hazard", str(uuid.uuid4())).status_code == 404
    # People: a desk officer sees the trail of the people they administer, never an admin's.
    assert (
        _trail(client, login("desk"), "user", str(demo.users["gridworker1"].id)).get_json()["items"][0]["action"]
        == "login"
    )
    assert _trail(client, login("desk"), "user", str(demo.users["admin"].id)).status_code == 404
    assert _trail(client, login("admin"), "user", str(demo.users["admin"].id)).status_code == 200


def test_unknown_kind_of_record_and_bad_id_are_422_in_chinese(client, login):
    desk = login("desk")
    unknown = _trail(client, desk, "weather", str(uuid.uuid4()))
    assert unknown.status_code == 422 and unknown.headers["Content-Type"].startswith("application/problem+json")
    (error,) = unknown.get_json()["errors"]
    assert error["field"] == "entity" and error["message"].startswith("必须是以下之一")
    bad_id = _trail(client, desk, "hazard", "not-an-id").get_json()
    assert bad_id["errors"][0]["field"] == "entity_id" and bad_id["errors"][0]["message"] == "不是有效的 UUID"
    missing = client.get("/api/v1/audit", headers=desk).get_json()
    assert {e["field"] for e in missing["errors"]} == {"entity", "entity_id"}


def test_trails_of_grids_plans_tasks_and_enterprises(client, login, demo, clock):
    desk = login("desk")
    grid_id = str(demo.grid_of["gridworker2"])
    grid = client.get(f"/api/v1/grids/{grid_id}", headers=desk).get_json()
    version = grid["properties"]["version"]
    workers = [str(demo.users["gridworker2"].id), str(demo.users["gridworker1"].id)]
    assert (
        client.put(
            f"/api/v1/grids/{grid_id}/workers", headers=desk, json={"worker_ids": workers, "version": version}
        ).status_code
        == 200
    )
    (entry,) = _trail(client, desk, "grid", grid_id).get_json()["items"]
    assert entry["action"] == "assign_workers" and entry["summary"]["added"] == [str(demo.users["gridworker1"].id)]

    plan = client.post(
        "/api/v1/plans",
        headers=desk,
        json={
            "kind": "routine",
            "title": "例行检查",
            "window_start": "2026-12-01",
            "window_end": "2026-12-15",
            "enterprise_ids": [str(demo.retailer.id)],
            "inspector_ids": [str(demo.users["inspector1"].id), str(demo.users["inspector2"].id)],
        },
    ).get_json()
    assert [i["action"] for i in _trail(client, desk, "plan", plan["id"]).get_json()["items"]] == ["create"]

    task = client.post(
        "/api/v1/tasks",
        headers=desk,
        json={
            "kind": "patrol",
            "title": "巡查",
            "assignee_id": str(demo.users["gridworker1"].id),
            "enterprise_id": str(demo.retailer.id),
            "due": (clock.now() + timedelta(days=1)).isoformat(),
        },
    ).get_json()
    assert (
        client.post(
            f"/api/v1/tasks/{task['id']}/transitions",
            headers=login("gridworker1"),
            json={"base_version": 1, "action": "accept"},
        ).status_code
        == 200
    )
    assert [i["action"] for i in _trail(client, desk, "task", task["id"]).get_json()["items"]] == ["create", "accept"]

    enterprise = client.get(f"/api/v1/enterprises/{demo.retailer.id}", headers=desk).get_json()
    assert (
        client.patch(
            f"/api/v1/enterprises/{demo.retailer.id}",
            headers=desk,
            json={"version": enterprise["version"], "risk": "red"},
        ).status_code
        == 200
    )
    (update,) = _trail(client, desk, "enterprise", str(demo.retailer.id)).get_json()["items"]
    assert update["action"] == "update" and update["summary"]["after"]["risk"] == "red"
