"""A task the desk gives reaches its assignee's phone at the next pull (sync/pull.py: the change feed's
audience is the assignee), and nobody else's; a withdrawn one comes again as ``cancelled``, and the
phone's queued accept of it meets a conflict carrying it. On a committed copy of the demo database."""

import uuid
from datetime import timedelta

from tests.sync.conftest import Phone, db_session, server, world  # noqa: F401  (fixtures)


def test_a_task_created_over_rest_arrives_in_the_assignees_pull_and_its_cancel_too(server, world):
    client, clock, _ = server
    worker = Phone(client, "gridworker1")
    neighbour = Phone(client, "gridworker2")
    worker.pull_all()
    neighbour.pull_all()
    assert all(entity != "task" for entity, _ in worker.records)  # the demo schedules no task by itself

    desk = Phone(client, "desk")
    created = client.post(
        "/api/v1/tasks",
        headers=desk.headers,
        json={
            "kind": "patrol",
            "title": "节前巡查",
            "assignee_id": str(world["users"]["gridworker1"].id),
            "enterprise_id": str(world["retailer"]),
            "due": (clock.now() + timedelta(days=2)).isoformat(),
        },
    )
    assert created.status_code == 201, created.get_json()
    task = created.get_json()

    received = worker.pull_all()
    assert [(c["entity"], c["id"], c["op"]) for c in received] == [("task", task["id"], "upsert")]
    pulled = worker.records[("task", task["id"])]
    assert pulled["title"] == "节前巡查" and pulled["status"] == "open" and pulled["version"] == 1
    assert pulled["enterprise_id"] == str(world["retailer"]) and pulled["due"] == task["due"]
    assert ("enterprise", str(world["retailer"])) in worker.records  # the phone can show what it is about
    assert neighbour.pull_all() == []

    cancelled = client.post(
        f"/api/v1/tasks/{task['id']}/transitions",
        headers=desk.headers,
        json={"base_version": 1, "action": "cancel", "note": "企业已停业"},
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    worker.pull_all()
    assert worker.records[("task", task["id"])]["status"] == "cancelled"

    # The phone had queued an accept on version 1: a conflict carrying the withdrawn task, nothing applied.
    pushed = worker.push(
        [
            {
                "entity": "task",
                "op": "transition",
                "id": task["id"],
                "base_version": 1,
                "recorded_at": "2026-11-22T09:00:00+08:00",
                "data": {"action": "accept"},
            }
        ],
        batch_id=str(uuid.uuid4()),
    )
    assert pushed.status_code == 200, pushed.get_json()
    (result,) = pushed.get_json()["results"]
    assert result["status"] == "conflict" and result["current"]["status"] == "cancelled"
