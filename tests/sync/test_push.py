"""POST /sync/push: per-change results in order, exactly-once batches, duplicates vs reused ids,
conflicts with current, retryable unknown references, missing photos, size limits and gzip."""

import dataclasses
import gzip
import json
import random
import threading
import uuid

import pytest
from sqlalchemy import select

from inspections.models import Hazard, HazardEvent, Inspection, Patrol
from sync.models import SyncBatch
from tests.sync.conftest import count
from tests.sync.payloads import PHOTO, hazard_change, inspection_change, transition


def test_results_come_one_per_change_in_order(phone, db_session, world):
    inspector = phone("inspector1")
    users = world["users"]
    inspection, failing = inspection_change(
        db_session, world["retailer"], [users["inspector1"].id, users["inspector2"].id], fail_first=1
    )
    derived = str(uuid.uuid5(uuid.UUID(inspection["id"]), failing[0]))
    bad = hazard_change(world["retailer"])
    bad["data"]["level"] = "catastrophic"
    changes = [
        inspection,
        # A later change may refer to a record created earlier in the same batch.
        transition(
            derived, 1, action="order", deadline="2026-12-01T00:00:00+08:00", responsible_person="店主", measures="清理"
        ),
        bad,
        transition(uuid.uuid4(), 1, action="submit", photos=[PHOTO], note="已整改"),
    ]
    response = inspector.push(changes, sent_at="2026-11-22T08:59:58+08:00")
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert [r["id"] for r in answer["results"]] == [c["id"] for c in changes]
    assert [r["status"] for r in answer["results"]] == ["applied", "applied", "rejected", "rejected"]
    assert answer["results"][0]["derived"] == [{"entity": "hazard", "id": derived}]
    assert answer["results"][1]["version"] == 2
    assert answer["results"][2]["retryable"] is False
    assert answer["results"][2]["errors"][0]["field"] == "data.level"
    assert answer["results"][3]["retryable"] is True
    assert answer["results"][3]["code"] == "sync.unknown_reference"
    assert answer["missing_photos"] == [PHOTO]
    assert answer["clock_skew_seconds"] == 2.0
    stored = db_session.get(Inspection, uuid.UUID(inspection["id"]))
    assert stored.recorded_at_corrected.isoformat() == "2026-11-22T00:40:02+00:00"


def test_a_retried_batch_gets_the_same_answer_and_changes_nothing(phone, db_session, world):
    worker = phone("gridworker1")
    batch_id = str(uuid.uuid4())
    changes = [hazard_change(world["retailer"]) for _ in range(3)]
    first = worker.push(changes, batch_id=batch_id).get_json()
    again = worker.push(changes, batch_id=batch_id).get_json()
    assert first == again
    assert count(db_session, Hazard, Hazard.id.in_([uuid.UUID(c["id"]) for c in changes])) == 3
    assert count(db_session, SyncBatch, SyncBatch.batch_id == batch_id) == 1


def test_same_change_in_a_new_batch_is_duplicate_and_a_reused_id_is_rejected(phone, world):
    worker = phone("gridworker1")
    change = hazard_change(world["retailer"])
    assert worker.push([change]).get_json()["results"][0]["status"] == "applied"
    assert worker.push([change]).get_json()["results"][0]["status"] == "duplicate"
    reused = dict(change, data=dict(change["data"], description="另一条隐患"))
    result = worker.push([reused]).get_json()["results"][0]
    assert result["status"] == "rejected" and result["code"] == "sync.id_reused" and result["retryable"] is False


def test_a_batch_rolled_back_mid_way_is_applied_once_on_retry(phone, server, db_session, world, committed_app):
    """The server dies after applying half a batch: nothing of it was committed, the retry applies all."""
    from accounts.service import authenticate
    from sync.push import push_batch

    app, clock, _ = committed_app
    worker = phone("gridworker1")
    changes = [hazard_change(world["retailer"]) for _ in range(4)]
    body = {"batch_id": "crash-batch-1", "sent_at": "2026-11-22T09:00:00+08:00", "changes": changes}
    factory = app.extensions["anxun"].session_factory
    with factory() as session:
        principal = authenticate(session, clock, worker.headers["Authorization"].split()[1])
        push_batch(session, clock, principal, body, settings=app.extensions["anxun"].settings)
        session.rollback()  # the crash: no commit
    assert count(db_session, Hazard, Hazard.id.in_([uuid.UUID(c["id"]) for c in changes])) == 0
    answer = worker.push(changes, batch_id="crash-batch-1").get_json()
    assert [r["status"] for r in answer["results"]] == ["applied"] * 4
    assert count(db_session, Hazard, Hazard.id.in_([uuid.UUID(c["id"]) for c in changes])) == 4


def test_two_phones_transition_the_same_hazard(phone, db_session, world):
    hazard = hazard_change(world["retailer"])
    phone("gridworker1").push([hazard])
    order = dict(action="order", deadline="2026-12-01T00:00:00+08:00", responsible_person="店主", measures="清理")
    a, b = phone("inspector1"), phone("inspector2")
    first = a.push([transition(hazard["id"], 1, **order)]).get_json()["results"][0]
    second = b.push([transition(hazard["id"], 1, **dict(order, measures="另一种措施"))]).get_json()["results"][0]
    assert first["status"] == "applied"
    assert second["status"] == "conflict" and second["retryable"] is False
    assert second["current"]["status"] == "ordered" and second["version"] == 2
    # Phone B rebases on current: its rectification follow-up now applies.
    rebased = b.push(
        [transition(hazard["id"], second["version"], action="submit", photos=[PHOTO], note="已整改")]
    ).get_json()["results"][0]
    assert rebased["status"] == "applied" and rebased["version"] == 3
    assert count(db_session, HazardEvent, HazardEvent.hazard_id == uuid.UUID(hazard["id"])) == 3


def test_twenty_phones_with_random_retries_end_with_exactly_their_union(phone, db_session, world):
    rng = random.Random(7)
    users = ["gridworker1", "gridworker2", "gridworker3", "inspector1", "inspector2", "desk"]
    phones = [phone(users[n % len(users)], device=f"phone-{n:02d}") for n in range(20)]
    enterprise_of = {}
    for username in users:
        enterprise_of[username] = _enterprise_visible_to(db_session, world, username)
    batches = []
    expected = set()
    for p in phones:
        username = p.user["username"]
        for _ in range(3):
            changes = [hazard_change(enterprise_of[username]) for _ in range(rng.randint(1, 4))]
            expected |= {c["id"] for c in changes}
            batches.append((p, str(uuid.uuid4()), changes))
    work = [b for b in batches for _ in range(rng.randint(1, 3))]  # every batch sent 1–3 times
    rng.shuffle(work)
    errors = []

    def run(items):
        for p, batch_id, changes in items:
            response = p.push(changes, batch_id=batch_id)
            if response.status_code != 200:
                errors.append(response.get_json())

    threads = [threading.Thread(target=run, args=(work[i::4],)) for i in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    stored = {
        str(i) for i in db_session.scalars(select(Hazard.id).where(Hazard.id.in_([uuid.UUID(i) for i in expected])))
    }
    assert stored == expected
    descriptions = set(
        db_session.scalars(select(Hazard.description).where(Hazard.id.in_([uuid.UUID(i) for i in expected])))
    )
    assert descriptions == {"门口堆放杂物"}
    assert count(db_session, SyncBatch, SyncBatch.device_id.like("phone-%")) == len(batches)


def _enterprise_visible_to(session, world, username):
    from enterprises.models import Enterprise

    grid = world["grid_of"].get(username)
    stmt = select(Enterprise.id).order_by(Enterprise.id).limit(1)
    if grid:
        stmt = stmt.where(Enterprise.grid_id == grid)
    return session.scalar(stmt)


def test_photos_named_but_not_uploaded_are_listed_until_they_are(phone, server, world):
    from tests.evidence.images import jpeg, make_exif

    client = server[0]
    worker = phone("gridworker1")
    data = jpeg(exif=make_exif())
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    first = worker.push([hazard_change(world["retailer"], photos=[sha])]).get_json()
    assert first["missing_photos"] == [sha]
    put = client.put(f"/api/v1/photos/{sha}", headers={**worker.headers, "Content-Type": "image/jpeg"}, data=data)
    assert put.status_code == 201, put.get_json()
    second = worker.push([hazard_change(world["retailer"], photos=[sha])]).get_json()
    assert second["missing_photos"] == []


def test_limits_gzip_and_bad_bodies(phone, server, world, committed_app):
    client = server[0]
    worker = phone("gridworker1")
    settings = committed_app[0].extensions["anxun"].settings
    too_many = {
        "batch_id": "big",
        "sent_at": "2026-11-22T09:00:00+08:00",
        "changes": [hazard_change(world["retailer"]) for _ in range(settings.max_batch_changes + 1)],
    }
    response = client.post("/api/v1/sync/push", headers=worker.headers, json=too_many)
    assert response.status_code == 413 and response.get_json()["code"] == "sync.batch_too_large"
    # A gzip bomb: 64 MiB of zeros in about 64 KiB. Refused after inflating at most the limit.
    bomb = gzip.compress(b'{"batch_id": "x", "changes": [' + b" " * (64 * 1024 * 1024) + b"]}", 9)
    assert len(bomb) < 200_000
    response = client.post(
        "/api/v1/sync/push",
        data=bomb,
        headers={**worker.headers, "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.get_json()["code"] == "sync.batch_too_large"
    good = {"batch_id": "gz", "sent_at": "2026-11-22T09:00:00+08:00", "changes": [hazard_change(world["retailer"])]}
    response = client.post(
        "/api/v1/sync/push",
        data=gzip.compress(json.dumps(good).encode()),
        headers={**worker.headers, "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200 and response.get_json()["results"][0]["status"] == "applied"
    not_json = client.post(
        "/api/v1/sync/push", data=b"{nope", headers={**worker.headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.get_json()["code"] == "sync.bad_body"
    not_gzip = client.post("/api/v1/sync/push", data=b"plain", headers={**worker.headers, "Content-Encoding": "gzip"})
    assert not_gzip.status_code == 400
    config = client.get("/api/v1/sync/config", headers=worker.headers).get_json()
    assert config["max_batch_changes"] == settings.max_batch_changes and config["protocol_version"] == 1


def test_patrol_and_task_changes(phone, db_session, world):
    from datetime import datetime, timezone

    from inspections.models import Task

    worker = phone("gridworker1")
    user_id = world["users"]["gridworker1"].id
    task = Task(
        kind="patrol",
        title="巡查",
        assignee_id=user_id,
        target_entity="enterprise",
        target_id=world["retailer"],
        enterprise_id=world["retailer"],
        due=datetime(2026, 11, 30, tzinfo=timezone.utc),
        period_key="2026-W48",
        created_at=datetime.now(timezone.utc),
        updated_at=datetime.now(timezone.utc),
    )
    db_session.add(task)
    db_session.commit()
    patrol_id = str(uuid.uuid4())
    patrol = {
        "entity": "patrol",
        "op": "create",
        "id": patrol_id,
        "recorded_at": "2026-11-22T09:00:00+08:00",
        "data": {
            "grid_id": str(world["grid_of"]["gridworker1"]),
            "started_at": "2026-11-22T08:00:00+08:00",
            "ended_at": "2026-11-22T09:00:00+08:00",
            "track": None,
            "visits": [
                {
                    "enterprise_id": str(world["retailer"]),
                    "at": "2026-11-22T08:30:00+08:00",
                    "location": None,
                    "outcome": "normal",
                    "note": "",
                    "photos": [],
                }
            ],
            "notes": "",
        },
    }
    complete = {
        "entity": "task",
        "op": "transition",
        "id": str(task.id),
        "base_version": 1,
        "recorded_at": "2026-11-22T09:00:00+08:00",
        "data": {"action": "complete", "note": "", "result": {"entity": "patrol", "id": patrol_id}},
    }
    answer = worker.push([patrol, complete]).get_json()
    assert [r["status"] for r in answer["results"]] == ["applied", "applied"]
    db_session.expire_all()
    assert db_session.get(Task, task.id).status == "done"
    assert count(db_session, Patrol, Patrol.id == uuid.UUID(patrol_id)) == 1
    assert worker.push([complete]).get_json()["results"][0]["status"] == "duplicate"


def test_batch_limits_are_set_by_the_operator_and_advertised(committed_app, world, tmp_path):
    from api.app import create_app
    from config.settings import Settings, SettingsError
    from tests.sync.conftest import Phone

    app, clock, url = committed_app
    settings = Settings.from_env(
        {"ANXUN_MAX_BATCH_CHANGES": "2", "ANXUN_MAX_BATCH_BYTES": "65536"},
        database_url=url,
        testing=True,
        photo_root=str(tmp_path / "photos-limits"),
    )
    limited = create_app(settings, clock=clock)
    try:
        worker = Phone(limited.test_client(), "gridworker1")
        config = worker.client.get("/api/v1/sync/config", headers=worker.headers).get_json()
        assert (config["max_batch_changes"], config["max_batch_bytes"]) == (2, 65536)
        refused = worker.push([hazard_change(world["retailer"]) for _ in range(3)])
        assert refused.status_code == 413 and refused.get_json()["code"] == "sync.batch_too_large"
        assert worker.push([hazard_change(world["retailer"]) for _ in range(2)]).status_code == 200
    finally:
        limited.extensions["anxun"].dispose()
    for name, value in (("ANXUN_MAX_BATCH_CHANGES", "0"), ("ANXUN_MAX_BATCH_BYTES", "1000")):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value}, database_url=url)


def test_a_stored_batch_is_answered_even_after_the_limits_were_lowered(phone, committed_app, world):
    """The server accepted the batch under the old limits; its retry must not turn into a 413."""
    app = committed_app[0]
    worker = phone("gridworker1")
    changes = [hazard_change(world["retailer"]) for _ in range(3)]
    first = worker.push(changes, batch_id="accepted-under-old-limits").get_json()
    services = app.extensions["anxun"]
    services.settings = dataclasses.replace(services.settings, max_batch_changes=2)
    retried = worker.push(changes, batch_id="accepted-under-old-limits")
    assert retried.status_code == 200 and retried.get_json() == first
    assert worker.push(changes).status_code == 413


ORDER = {"action": "order", "deadline": "2026-12-01T00:00:00+08:00", "responsible_person": "店主", "measures": "清理"}


def test_a_transition_is_a_duplicate_only_for_the_user_who_had_it_applied(phone, world):
    """Issue 15, case 2: the content hash alone made inspector2's identical order a `duplicate` of
    inspector1's (the event names inspector1), and told a grid worker of another town `duplicate`
    for a hazard they may not see. Only the user who had the change applied gets `duplicate`; another
    inspector gets the conflict; someone outside the scope gets what an unknown record gets."""
    reported = hazard_change(world["retailer"])
    assert phone("gridworker1").push([reported]).get_json()["results"][0]["status"] == "applied"
    order = transition(reported["id"], 1, **ORDER)
    inspector1 = phone("inspector1")
    assert inspector1.push([order]).get_json()["results"][0]["status"] == "applied"
    assert inspector1.push([order]).get_json()["results"][0]["status"] == "duplicate"  # a retry in a new batch

    other = phone("inspector2").push([order]).get_json()["results"][0]
    assert other["status"] == "conflict" and other["version"] == 2 and other["current"]["status"] == "ordered"

    outsider = phone("gridworker3").push([order, transition(uuid.uuid4(), 1, **ORDER)]).get_json()["results"]
    strip = [{k: v for k, v in r.items() if k != "id"} for r in outsider]
    assert strip[0] == strip[1], outsider  # indistinguishable from a hazard that does not exist
    assert outsider[0]["status"] == "rejected" and outsider[0]["code"] == "sync.unknown_reference"


def test_a_create_is_a_duplicate_only_for_the_user_who_recorded_it(phone, db_session, world):
    """The same id and content pushed by another user is not that user's record: the id is taken."""
    users = world["users"]
    inspection, _ = inspection_change(db_session, world["retailer"], [users["inspector1"].id, users["inspector2"].id])
    assert phone("inspector1").push([inspection]).get_json()["results"][0]["status"] == "applied"
    again = phone("inspector2").push([inspection]).get_json()["results"][0]
    assert again["status"] == "rejected" and again["code"] == "sync.id_reused" and again["retryable"] is False
    reported = hazard_change(world["retailer"])
    assert phone("gridworker1").push([reported]).get_json()["results"][0]["status"] == "applied"
    assert phone("gridworker1").push([reported]).get_json()["results"][0]["status"] == "duplicate"
    assert phone("inspector1").push([reported]).get_json()["results"][0]["code"] == "sync.id_reused"


def test_the_same_users_other_phone_gets_the_conflict_not_a_duplicate(phone, world):
    """Found by make soak: two phones of one inspector verified the same hazard from the same copy; the
    second was answered `duplicate` and dropped its change, though nothing of that phone was stored."""
    reported = hazard_change(world["retailer"])
    assert phone("gridworker1").push([reported]).get_json()["results"][0]["status"] == "applied"
    order = transition(reported["id"], 1, **ORDER)
    assert phone("inspector1", "inspector1-phone").push([order]).get_json()["results"][0]["status"] == "applied"
    tablet = phone("inspector1", "inspector1-tablet").push([order]).get_json()["results"][0]
    assert tablet["status"] == "conflict" and tablet["current"]["status"] == "ordered"
