"""GET/POST /tasks, GET /tasks/{id}, POST /tasks/{id}/transitions: who sees a task (its assignee, the desk
officers of its place, admins), the filters, creating one (role fit for the kind, target in both scopes,
every refusal on its field in Chinese), the assignee's steps and the desk's cancel."""

import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from audit.models import AuditEntry
from inspections.models import TASK_KINDS, TASK_STATUSES, Task

PHOTO = "c" * 64


def _ids(answer) -> set[str]:
    assert answer.status_code == 200, answer.get_json()
    return {item["id"] for item in answer.get_json()["items"]}


def _transition(client, headers, task_id, base_version, **data):
    return client.post(
        f"/api/v1/tasks/{task_id}/transitions", headers=headers, json={"base_version": base_version, **data}
    )


def _problem(answer, status):
    assert answer.status_code == status, answer.get_json()
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    return answer.get_json()


def _fields(problem) -> dict[str, str]:
    return {e["field"]: e["message"] for e in problem["errors"]}


# --------------------------------------------------------------------------- creating and seeing


def test_a_desk_officer_gives_a_patrol_to_a_grid_worker(client, login, create_task, demo, session):
    task = create_task()
    assert task["status"] == "open" and task["version"] == 1 and task["overdue"] is False
    assert task["assignee_name"] == demo.users["gridworker1"].name
    assert task["enterprise_name"] == demo.retailer.name
    assert task["target"] == {"entity": "enterprise", "id": str(demo.retailer.id)}
    assert task["grid_id"] == str(demo.grid_of["gridworker1"])
    assert task["due"].endswith("+08:00") and task["created_at"].endswith("+08:00")

    mine = client.get("/api/v1/tasks", headers=login("gridworker1"))
    assert task["id"] in _ids(mine)
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=login("gridworker1")).get_json() == task
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=login("admin")).status_code == 200

    created = session.scalars(select(AuditEntry).where(AuditEntry.entity == "task", AuditEntry.entity_id == task["id"]))
    (entry,) = list(created)
    assert entry.action == "create" and entry.actor_id == demo.users["desk"].id
    assert entry.summary["assignee"] == str(demo.users["gridworker1"].id)


def test_a_task_is_hidden_from_the_worker_of_another_village_and_the_desk_of_another_town(
    client, login, create_task, town_desk, places
):
    task = create_task()
    for outsider in ("gridworker2", "gridworker3", "inspector1", "enterprise1", town_desk(places.other_town)):
        headers = login(outsider)
        assert task["id"] not in _ids(client.get("/api/v1/tasks", headers=headers)), outsider
        assert client.get(f"/api/v1/tasks/{task['id']}", headers=headers).status_code == 404, outsider
        refused = _transition(client, headers, task["id"], 1, action="accept")
        assert refused.status_code == 404, outsider
    # The desk officer of the task's own town sees it.
    town = login(town_desk(places.town))
    assert task["id"] in _ids(client.get("/api/v1/tasks", headers=town))


def test_a_town_desk_officer_follows_the_work_of_the_town_even_when_a_district_inspector_does_it(
    client, login, create_task, town_desk, places, clock, demo
):
    hazard = client.post(
        "/api/v1/hazards",
        headers=login("gridworker2"),
        json={
            "enterprise_id": str(places.neighbour.id),
            "level": "general",
            "description": "灭火器过期",
            "photos": [PHOTO],
            "found_at": "2026-11-22T08:00:00+08:00",
        },
    ).get_json()
    ordered = client.post(
        f"/api/v1/hazards/{hazard['id']}/transitions",
        headers=login("desk"),
        json={
            "base_version": 1,
            "action": "order",
            "deadline": (clock.now() + timedelta(days=5)).isoformat(),
            "responsible_person": "店主",
            "measures": "更换灭火器",
        },
    )
    assert ordered.status_code == 200, ordered.get_json()
    recheck = create_task(
        kind="recheck",
        title="复查：更换灭火器",
        assignee_id=str(demo.users["inspector1"].id),
        enterprise_id=None,
        hazard_id=hazard["id"],
    )
    assert recheck["target"] == {"entity": "hazard", "id": hazard["id"]}
    assert recheck["enterprise_id"] == str(places.neighbour.id)
    # The inspector sits in the district; the task's place is the village of the hazard, in the town.
    assert recheck["id"] in _ids(client.get("/api/v1/tasks", headers=login(town_desk(places.town))))
    assert recheck["id"] in _ids(client.get("/api/v1/tasks", headers=login("inspector1")))


# --------------------------------------------------------------------------- filters


def test_filters(client, login, create_task, demo, places, clock, town_desk):
    patrol = create_task()
    self_check = create_task(
        kind="self_inspection",
        title="负责人月排查",
        assignee_id=str(demo.users["enterprise1"].id),
        due=(clock.now() + timedelta(days=20)).isoformat(),
    )
    soon = create_task(title="今天要巡查", due=(clock.now() + timedelta(hours=2)).isoformat())
    desk = login("desk")

    def listed(**query):
        return _ids(client.get("/api/v1/tasks", headers=desk, query_string=query))

    ours = {patrol["id"], self_check["id"], soon["id"]}
    assert listed(kind="self_inspection") & ours == {self_check["id"]}
    assert listed(kind=["patrol", "self_inspection"]) & ours == ours
    assert listed(assignee_id=str(demo.users["gridworker1"].id)) & ours == {patrol["id"], soon["id"]}
    assert listed(grid_id=str(demo.grid_of["gridworker1"])) & ours == ours
    assert listed(region=places.town.code) & ours == ours
    assert listed(region=places.other_town.code) & ours == set()
    assert listed(enterprise_id=str(demo.retailer.id)) & ours == ours
    window = {
        "due_from": (clock.now() + timedelta(days=1)).isoformat(),
        "due_to": (clock.now() + timedelta(days=4)).isoformat(),
    }
    assert listed(**window) & ours == {patrol["id"]}
    assert listed(overdue="true") & ours == set()

    clock.advance(hours=3)  # past the due time of `soon`
    assert listed(overdue="true") & ours == {soon["id"]}
    assert listed(overdue="false") & ours == {patrol["id"], self_check["id"]}
    shown = client.get(f"/api/v1/tasks/{soon['id']}", headers=desk).get_json()
    assert shown["overdue"] is True
    # Done is never overdue.
    assert _transition(client, login("gridworker1"), soon["id"], 1, action="complete", note="已巡查").status_code == 200
    assert listed(overdue="true") & ours == set()
    assert listed(status="done") & ours == {soon["id"]}
    assert listed(status=["open", "accepted"]) & ours == {patrol["id"], self_check["id"]}

    by_due = client.get("/api/v1/tasks", headers=desk, query_string={"sort": "-due", "per_page": 500}).get_json()[
        "items"
    ]
    dues = [item["due"] for item in by_due]
    assert dues == sorted(dues, reverse=True)
    # The grid worker's own view obeys the same filters and never shows another's task.
    worker = _ids(client.get("/api/v1/tasks", headers=login("gridworker1"), query_string={"per_page": 500}))
    assert self_check["id"] not in worker and {patrol["id"], soon["id"]} <= worker


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(
    statuses=st.lists(st.sampled_from(TASK_STATUSES), unique=True, max_size=3),
    kinds=st.lists(st.sampled_from(TASK_KINDS), unique=True, max_size=3),
    overdue=st.sampled_from([None, True, False]),
)
def test_every_filter_selects_exactly_the_matching_visible_tasks(
    client, login, session, seeded, statuses, kinds, overdue
):
    headers, everything = seeded
    query = {"per_page": 500, "status": statuses, "kind": kinds}
    if overdue is not None:
        query["overdue"] = str(overdue).lower()
    got = _ids(client.get("/api/v1/tasks", headers=headers, query_string=query))
    expected = {
        t["id"]
        for t in everything
        if (not statuses or t["status"] in statuses)
        and (not kinds or t["kind"] in kinds)
        and (overdue is None or t["overdue"] == overdue)
    }
    assert got == expected


def _seed(client, login, create_task, demo, clock):
    """A handful of tasks in several kinds, statuses and dues; returns the desk's headers and all it sees."""
    worker = login("gridworker1")
    for hours, status in ((1, "open"), (30, "accepted"), (2, "done"), (50, "declined"), (3, "cancelled")):
        task = create_task(title=f"巡查 {hours}", due=(clock.now() + timedelta(hours=hours)).isoformat())
        if status == "accepted":
            _transition(client, worker, task["id"], 1, action="accept")
        elif status in ("done", "declined"):
            _transition(
                client,
                worker,
                task["id"],
                1,
                action=status.replace("done", "complete").replace("declined", "decline"),
                note="原因",
            )
        elif status == "cancelled":
            _transition(client, login("desk"), task["id"], 1, action="cancel", note="重复派发")
    create_task(kind="self_inspection", title="日排查", assignee_id=str(demo.users["enterprise1"].id))
    clock.advance(hours=4)
    desk = login("desk")
    return desk, client.get("/api/v1/tasks", headers=desk, query_string={"per_page": 500}).get_json()["items"]


@pytest.fixture
def seeded(client, login, create_task, demo, clock):
    return _seed(client, login, create_task, demo, clock)


# --------------------------------------------------------------------------- bad input


def test_refusals_name_their_field_in_chinese(client, login, task_body, demo, places, clock, town_desk):
    desk = login("desk")

    def refused(status=422, **overrides):
        return _problem(client.post("/api/v1/tasks", headers=desk, json=task_body(**overrides)), status)

    problem = refused(kind="inspection")
    assert problem["code"] == "validation" and "必须是以下之一" in _fields(problem)["kind"]
    assert "缺少必填字段" in _fields(refused(assignee_id=None))["assignee_id"]
    assert "须为带时区偏移" in _fields(refused(due="2026-12-01T10:00:00"))["due"]
    assert "晚于当前时间" in _fields(refused(due=(clock.now() - timedelta(hours=1)).isoformat()))["due"]
    assert "网格员" in _fields(refused(assignee_id=str(demo.users["inspector1"].id)))["assignee_id"]
    assert "须指定企业" in _fields(refused(enterprise_id=None))["enterprise_id"]
    assert "须指定隐患" in _fields(refused(kind="recheck", assignee_id=str(demo.users["inspector1"].id)))["hazard_id"]
    # gridworker2's grid does not hold the retailer: the phone could not even show it.
    outside = _fields(refused(assignee_id=str(demo.users["gridworker2"].id)))
    assert outside["assignee_id"] == f"{demo.users['gridworker2'].name}负责的网格内没有这家企业"
    assert "不存在" in _fields(refused(assignee_id=str(uuid.uuid4())))["assignee_id"]
    title = _fields(refused(title="   "))
    assert title["title"] == "任务名称不能为空"
    # A recheck needs a hazard being rectified; a self-inspection an enterprise officer of that enterprise.
    assert "企业安全员" in _fields(refused(kind="self_inspection"))["assignee_id"]

    # A town's desk officer: neither the person nor the enterprise of another town.
    other = login(town_desk(places.other_town))
    problem = _problem(client.post("/api/v1/tasks", headers=other, json=task_body()), 422)
    assert set(_fields(problem)) == {"assignee_id", "enterprise_id"}
    assert problem["title"] == "数据校验未通过"
    # Grid workers do not give tasks.
    assert _problem(client.post("/api/v1/tasks", headers=login("gridworker1"), json=task_body()), 403)


def test_a_deactivated_person_gets_no_task(client, login, task_body, demo):
    desk = login("desk")
    worker = demo.users["gridworker1"]
    assert client.delete(
        f"/api/v1/users/{worker.id}", headers=desk, query_string={"version": worker.version}
    ).status_code in (
        200,
        204,
    )
    problem = _problem(client.post("/api/v1/tasks", headers=desk, json=task_body()), 422)
    assert "停用" in _fields(problem)["assignee_id"]


# --------------------------------------------------------------------------- steps


def test_the_assignee_accepts_and_completes_with_etag_and_version(client, login, create_task, session):
    task = create_task()
    worker = login("gridworker1")
    read = client.get(f"/api/v1/tasks/{task['id']}", headers=worker)
    etag = read.headers["ETag"]
    accepted = client.post(
        f"/api/v1/tasks/{task['id']}/transitions",
        headers=worker | {"If-Match": etag},
        json={"base_version": 1, "action": "accept"},
    )
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "accepted" and accepted.get_json()["version"] == 2
    # The tag of the state before: 412; a stale version without a tag: 409 with the current task.
    stale_tag = client.post(
        f"/api/v1/tasks/{task['id']}/transitions",
        headers=worker | {"If-Match": etag},
        json={"base_version": 2, "action": "complete"},
    )
    assert stale_tag.status_code == 412
    conflict = _problem(_transition(client, worker, task["id"], 1, action="complete"), 409)
    assert conflict["code"] == "task.invalid_transition" and conflict["current"]["status"] == "accepted"
    done = _transition(client, worker, task["id"], 2, action="complete", note="已巡查，无异常")
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    again = _problem(_transition(client, worker, task["id"], 3, action="decline", note="x"), 409)
    assert "已完成" in again["detail"]


def test_decline_needs_a_reason_and_only_the_assignee_steps(client, login, create_task):
    task = create_task()
    problem = _problem(_transition(client, login("gridworker1"), task["id"], 1, action="decline"), 422)
    assert _fields(problem)["note"] == "拒绝任务须说明原因"
    # The desk sees the task but does not accept it for the worker.
    not_theirs = _problem(_transition(client, login("desk"), task["id"], 1, action="accept"), 403)
    assert not_theirs["code"] == "task.not_assignee"
    # Nor does the worker withdraw it.
    assert _problem(_transition(client, login("gridworker1"), task["id"], 1, action="cancel", note="x"), 403)


def test_the_desk_cancels_with_a_reason(client, login, create_task, session, town_desk, places):
    task = create_task()
    desk = login("desk")
    problem = _problem(_transition(client, desk, task["id"], 1, action="cancel"), 422)
    assert _fields(problem)["note"] == "撤销任务须说明原因"
    # The desk officer of another town does not see it.
    assert (
        _transition(client, login(town_desk(places.other_town)), task["id"], 1, action="cancel", note="x").status_code
        == 404
    )
    cancelled = _transition(client, desk, task["id"], 1, action="cancel", note="企业已停业")
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled" and cancelled.get_json()["note"] == "企业已停业"
    late = _problem(_transition(client, login("gridworker1"), task["id"], 2, action="accept"), 409)
    assert late["current"]["status"] == "cancelled" and "已撤销" in late["detail"]
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity == "task", AuditEntry.entity_id == task["id"])
        .order_by(AuditEntry.id)
    )
    assert list(actions) == ["create", "cancel"]
    assert session.get(Task, uuid.UUID(task["id"])).status == "cancelled"
