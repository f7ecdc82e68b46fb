"""The reference sync client (sync/client/) against the real server over real HTTP.

The app of ``committed_app`` runs in a werkzeug server on a free port; between it and the clients
sits ``FlakyLink`` (tests/sync/flaky_link.py), a TCP relay standing for a village's signal: it can be
offline, lose an answer after the server sent it, cut a request part-way, cut an answer inside its
headers or stand in for a busy gateway (503 + Retry-After).
Nothing of ours is mocked: the clients speak HTTP to the app, which commits to PostGIS."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, update

from enterprises.models import Enterprise
from evidence.models import Photo
from inspections.models import Hazard, HazardEvent
from sync.client import SyncClient, Unreachable, rules
from sync.client.transport import AuthRequired
from sync.models import SyncBatch
from tests.sync.conftest import count
from tests.sync.flaky_link import FlakyLink
from tests.sync.payloads import hazard_change, inspection_change

REPO = Path(__file__).resolve().parents[2]
PUSH, PHOTOS = "POST /api/v1/sync/push", "PUT /api/v1/photos/"
ORDER = {
    "action": "order",
    "deadline": "2026-12-01T00:00:00+08:00",
    "responsible_person": "店主",
    "measures": "清理通道",
}
FIVE = {
    "responsibility": "店主",
    "measures": "清理通道、增设灭火器",
    "funds": "2000 元",
    "deadline": "2026-12-01",
    "contingency_plan": "停业整改预案",
}


# --------------------------------------------------------------------------- the network


def _batch(request: dict) -> dict:
    body = request["body"]
    if request["headers"].get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return json.loads(body)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def link(committed_app):
    """The live server behind a FlakyLink; yields the link (``link.url`` is what clients use)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, committed_app[0], threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    relay = FlakyLink(("127.0.0.1", server.server_port))
    yield relay
    relay.close()
    server.shutdown()
    thread.join(10)


FAST = {"max_attempts": 4, "backoff": 0.01, "max_backoff": 0.05}


@pytest.fixture
def field_phone(link, tmp_path):
    """``field_phone("gridworker1", **options)`` -> a logged-in SyncClient with its own state file;
    ``field_phone.reopen(path)`` -> a new client on an existing state file (the app restarted)."""
    clients = []

    def make(username, *, state=None, **options):
        client = SyncClient(state or tmp_path / f"{username}-{uuid.uuid4().hex[:6]}.sqlite", **(FAST | options))
        clients.append(client)
        client.login(username, "anxun-demo", server_url=link.url)
        return client

    def reopen(state, **options):
        client = SyncClient(state, **(FAST | options))
        clients.append(client)
        return client

    make.reopen = reopen
    yield make
    for client in clients:
        client.close()


def pull_until(client: SyncClient, ready, *, limit=None, wait_seconds=120) -> list[dict]:
    """Pull until ``ready()``; returns every change received. A pull serves only what is older than
    every transaction in flight on the cluster (other test runs share it), so a fresh change may
    take a few pulls to come; this waits for it, it does not time anything."""
    received, deadline = [], time.monotonic() + wait_seconds
    while True:
        received += client.pull(limit=limit).changes
        if ready():
            return received
        assert time.monotonic() < deadline, "the change never reached the phone"
        time.sleep(0.2)


def noisy_jpeg(side: int = 500) -> bytes:
    """A JPEG that does not compress away (~280 KB at 500 px): several upload parts."""
    from PIL import Image

    out = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise((side, side), 64) for _ in range(3)]).save(out, "JPEG", quality=95)
    return out.getvalue()


def transition(hazard_id, **data) -> dict:
    """A hazard transition as a user records it: no base_version, the client knows it."""
    return {"entity": "hazard", "op": "transition", "id": str(hazard_id), "data": data}


# --------------------------------------------------------------------------- push


def test_changes_recorded_offline_go_once_signal_returns(link, field_phone, world, db_session):
    worker = field_phone("gridworker1")
    link.offline = True
    recorded = [
        worker.record(hazard_change(world["retailer"], description=f"离线记录 {i}：门口堆放杂物，占用疏散通道"))
        for i in range(3)
    ]
    with pytest.raises(Unreachable):
        worker.push()
    in_flight = worker.state.pending_batch()
    assert in_flight and worker.status()["queued"] == 3 and worker.status()["batch_in_flight"] == in_flight
    later = worker.record(hazard_change(world["retailer"], description="信号恢复前又记一条"))

    link.offline = False
    report = worker.push()
    # The batch fixed while offline goes first, under its id and with exactly its changes.
    assert report.batches[0] == in_flight and len(report.batches) == 2
    assert [c["id"] for c in report.applied] == [c.id for c in recorded] + [later.id]
    assert worker.status()["queued"] == 0 and worker.status()["batch_in_flight"] is None
    stored = dict(
        db_session.execute(
            select(SyncBatch.batch_id, SyncBatch.change_count).where(SyncBatch.device_id == worker.device_id)
        ).all()
    )
    assert stored == {in_flight: 3, report.batches[1]: 1}
    ids = [uuid.UUID(c.id) for c in recorded + [later]]
    assert count(db_session, Hazard, Hazard.id.in_(ids)) == 4
    # A batch of more than a few hundred bytes travels gzip-compressed.
    assert link.requests(PUSH)[0]["headers"].get("content-encoding") == "gzip"


def test_a_lost_answer_is_retried_with_the_same_batch_id_and_applies_once(link, field_phone, world, db_session):
    worker = field_phone("gridworker1")
    change = worker.record(hazard_change(world["retailer"]))
    link.fail("lose_answer", PUSH)
    report = worker.push()
    pushes = link.requests(PUSH)
    assert len(pushes) == 2 and [p["status"] for p in pushes] == [None, 200]
    assert _batch(pushes[0])["batch_id"] == _batch(pushes[1])["batch_id"] == report.batches[0]
    assert [c["state"] for c in report.applied] == ["applied"]  # the stored answer, verbatim
    assert count(db_session, SyncBatch, SyncBatch.device_id == worker.device_id) == 1
    assert count(db_session, Hazard, Hazard.id == uuid.UUID(change.id)) == 1


def test_a_phone_restarted_after_a_lost_answer_resends_the_same_batch(link, field_phone, world, db_session, tmp_path):
    state = tmp_path / "phone.sqlite"
    worker = field_phone("gridworker1", state=state, max_attempts=1)
    recorded = [worker.record(hazard_change(world["retailer"])) for _ in range(2)]
    link.fail("lose_answer", PUSH)
    with pytest.raises(Unreachable):
        worker.push()
    in_flight = worker.state.pending_batch()
    worker.close()  # the app dies before it ever saw the answer
    ids = [uuid.UUID(c.id) for c in recorded]
    assert count(db_session, Hazard, Hazard.id.in_(ids)) == 2  # the server had committed

    again = field_phone.reopen(state)
    report = again.push()
    assert report.batches == [in_flight]
    assert [c["state"] for c in report.applied] == ["applied", "applied"]
    assert again.status()["queued"] == 0
    assert count(db_session, SyncBatch, SyncBatch.device_id == again.device_id) == 1
    assert count(db_session, Hazard, Hazard.id.in_(ids)) == 2


def test_a_busy_server_is_asked_again_after_the_time_it_names(link, field_phone, world, db_session):
    waits = []
    worker = field_phone("gridworker1", sleep=waits.append)
    change = worker.record(hazard_change(world["retailer"]))
    link.fail("busy", PUSH, retry_after=2)
    report = worker.push()
    assert waits == [2.0]
    assert [p["status"] for p in link.requests(PUSH)] == [503, 200]
    assert [c["id"] for c in report.applied] == [change.id]


# Where an answer can break off inside its headers: right after the status line, before a header,
# half-way through the line that gives the body's length, after it (the body then falls short).
HEADER_CUTS = [
    (None, 0),
    ("Date", 0),
    ("Content-Type", 0),
    ("Content-Length", 0),
    ("Content-Length", 9),
    ("Connection", 0),
]


def test_a_push_answer_cut_inside_its_headers_counts_as_lost_and_the_batch_goes_again(
    link, field_phone, world, db_session
):
    """The server stored the batch; its answer breaks off inside the headers. http.client takes the
    end of the stream for the end of the headers, so the client sees a 200 without a body, or with
    less of it than announced: a lost answer, not an error. The same batch goes again, applied once."""
    worker = field_phone("gridworker1")
    for before, into in HEADER_CUTS:
        change = worker.record(hazard_change(world["retailer"]))
        link.fail("cut_answer", PUSH, before=before, into=into)
        report = worker.push()
        assert [c["id"] for c in report.applied] == [change.id], (before, into)
        cut, retried = link.requests(PUSH)[-2:]
        assert _batch(cut)["batch_id"] == _batch(retried)["batch_id"] == report.batches[0]
        assert b"\r\n\r\n" not in cut["answer"] and [cut["status"], retried["status"]] == [200, 200]
    assert count(db_session, SyncBatch, SyncBatch.device_id == worker.device_id) == len(HEADER_CUTS)


def test_a_pull_page_cut_inside_its_headers_is_asked_for_again(link, field_phone, world, db_session):
    worker = field_phone("gridworker1")
    pull = "GET /api/v1/sync/pull"
    link.fail("cut_answer", pull, nth=2, before="Content-Length")
    report = worker.pull(limit=7)
    first, cut, again = link.requests(pull)[:3]
    assert cut["line"] == again["line"] != first["line"]  # the same cursor again
    assert worker.ids("enterprise") == _in_grid(db_session, world["grid_of"]["gridworker1"])
    assert len({(c["entity"], c["id"]) for c in report.changes}) == len(report.changes)


def test_a_long_queue_goes_in_batches_no_larger_than_the_server_advertises(
    link, field_phone, committed_app, world, db_session
):
    services = committed_app[0].extensions["anxun"]
    services.settings = dataclasses.replace(services.settings, max_batch_changes=3)
    worker = field_phone("gridworker1")  # learns the limits when it logs in
    recorded = [worker.record(hazard_change(world["retailer"])) for _ in range(7)]
    report = worker.push()
    assert [len(_batch(p)["changes"]) for p in link.requests(PUSH)] == [3, 3, 1]
    assert [c["id"] for c in report.applied] == [c.id for c in recorded]
    assert count(db_session, Hazard, Hazard.id.in_([uuid.UUID(c.id) for c in recorded])) == 7


def test_the_client_keeps_its_batches_small_when_the_server_allows_large_ones(link, field_phone, world, db_session):
    """The server allows 1,000 changes a batch; the client sends at most its own ``batch_changes``."""
    worker = field_phone("gridworker1", batch_changes=4)
    recorded = [worker.record(hazard_change(world["retailer"])) for _ in range(10)]
    report = worker.push()
    assert [len(_batch(p)["changes"]) for p in link.requests(PUSH)] == [4, 4, 2]
    assert [c["id"] for c in report.applied] == [c.id for c in recorded]


def test_a_batch_refused_for_its_size_is_split_and_nothing_is_lost(link, field_phone, committed_app, world, db_session):
    """The limits were lowered after the phone learnt them: 413, then the phone asks for the limits
    again and sends smaller batches of the same changes, in the order they were recorded."""
    worker = field_phone("gridworker1")
    recorded = [worker.record(hazard_change(world["retailer"])) for _ in range(5)]
    services = committed_app[0].extensions["anxun"]
    services.settings = dataclasses.replace(services.settings, max_batch_changes=2)
    report = worker.push()
    pushes = link.requests(PUSH)
    assert [p["status"] for p in pushes] == [413, 200, 200, 200]
    assert [len(_batch(p)["changes"]) for p in pushes] == [5, 2, 2, 1]
    assert [c["id"] for c in report.applied] == [c.id for c in recorded] and not report.rejected
    assert count(db_session, Hazard, Hazard.id.in_([uuid.UUID(c.id) for c in recorded])) == 5


def test_an_expired_token_keeps_the_queue_until_the_user_logs_in_again(
    link, field_phone, committed_app, world, db_session
):
    clock = committed_app[1]
    worker = field_phone("gridworker1")
    recorded = [worker.record(hazard_change(world["retailer"])) for _ in range(2)]
    clock.advance(hours=committed_app[0].extensions["anxun"].settings.token_ttl_hours + 1)
    with pytest.raises(AuthRequired):
        worker.push()
    in_flight = worker.state.pending_batch()
    assert worker.status()["queued"] == 2 and in_flight is not None
    assert count(db_session, Hazard, Hazard.id.in_([uuid.UUID(c.id) for c in recorded])) == 0

    worker.login("gridworker1", "anxun-demo")
    report = worker.push()
    assert report.batches == [in_flight]  # the same batch, not a second copy of its changes
    assert [c["id"] for c in report.applied] == [c.id for c in recorded] and worker.status()["queued"] == 0


def test_a_revoked_phone_keeps_what_it_recorded_and_is_told_why(link, field_phone, world, db_session):
    """A desk officer revokes a phone believed lost; it comes back with records on it. The server
    takes nothing from it; the phone keeps its queue and says why, so the records are not lost."""
    worker, desk = field_phone("gridworker1"), field_phone("desk")
    recorded = worker.record(hazard_change(world["retailer"]))
    revoked = desk.transport.request("DELETE", f"/api/v1/devices/{worker.device_id}")
    assert revoked.status_code in (200, 204), revoked.text
    with pytest.raises(AuthRequired) as refused:
        worker.push()
    assert refused.value.code == "auth.device_revoked"
    with pytest.raises(AuthRequired) as again:
        worker.login("gridworker1", "anxun-demo")
    assert again.value.code == "auth.device_revoked"
    assert [c.id for c in worker.queued()] == [recorded.id]
    assert count(db_session, Hazard, Hazard.id == uuid.UUID(recorded.id)) == 0


def test_a_change_for_a_record_not_yet_on_the_server_waits_in_the_queue(field_phone, world, db_session):
    """The inspector orders a hazard the grid worker reported (they were there together), before the
    grid worker's phone has pushed it: retryable, kept, and applied once the hazard has arrived."""
    worker, inspector = field_phone("gridworker1"), field_phone("inspector1")
    hazard = worker.record(hazard_change(world["retailer"]))
    order = inspector.record(transition(hazard.id, **ORDER) | {"base_version": 1})
    first = inspector.push()
    assert [c["result"]["code"] for c in first.retryable] == ["sync.unknown_reference"]
    assert inspector.status()["queued"] == 1 and inspector.status()["waiting"][0]["seq"] == order.seq

    worker.push()
    second = inspector.push()
    assert [(c["id"], c["result"]["version"]) for c in second.applied] == [(hazard.id, 2)]
    assert inspector.status()["queued"] == 0


def test_an_inspection_and_the_order_of_the_hazard_it_raised_go_together(field_phone, world, db_session):
    users = world["users"]
    inspector = field_phone("inspector1")
    inspection, failing = inspection_change(
        db_session, world["retailer"], [users["inspector1"].id, users["inspector2"].id], fail_first=1
    )
    derived = str(uuid.uuid5(uuid.UUID(inspection["id"]), failing[0]))
    inspector.record(inspection)
    order = inspector.record(transition(derived, **ORDER))
    assert order.base_version == 1  # the client names the derived hazard as the server will
    report = inspector.push()
    assert [c["state"] for c in report.applied] == ["applied", "applied"]
    assert report.applied[0]["result"]["derived"] == [{"entity": "hazard", "id": derived}]
    assert inspector.record_of("hazard", derived)["status"] == "ordered"
    assert db_session.get(Hazard, uuid.UUID(derived)).version == 2


# --------------------------------------------------------------------------- conflicts


def test_a_conflicting_transition_is_rebased_on_current_and_applies(field_phone, world, db_session, tmp_path):
    """Offline, the grid worker records the rectification of a major hazard; meanwhile the desk
    officer puts it under supervision (挂牌督办), which moves its version but not its status. The
    worker's push conflicts once; the client rebases the submission on ``current`` and it applies."""
    worker, inspector, desk = field_phone("gridworker1"), field_phone("inspector1"), field_phone("desk")
    reported = hazard_change(world["retailer"], description="仓库消防通道堵塞")
    reported["data"]["level"] = "major"
    hazard_id = reported["id"]
    worker.record(reported)
    worker.push()

    pull_until(inspector, lambda: inspector.record_of("hazard", hazard_id) is not None, limit=2000)
    inspector.record(transition(hazard_id, **ORDER, five=FIVE, treatment_plan="停业清理，增设消防设施"))
    assert [c["result"]["version"] for c in inspector.push().applied] == [2]

    pull_until(worker, lambda: (worker.record_of("hazard", hazard_id) or {}).get("version") == 2)
    photo = tmp_path / "rectified.jpg"
    photo.write_bytes(noisy_jpeg(200))
    sha = worker.add_photo(photo)
    submit = worker.record(transition(hazard_id, action="submit", photos=[sha], note="通道已清理"))
    assert submit.base_version == 2

    pull_until(desk, lambda: desk.record_of("hazard", hazard_id) is not None, limit=2000)
    desk.record(transition(hazard_id, action="supervise", office="区安委办"))
    assert [c["result"]["version"] for c in desk.push().applied] == [3]

    report = worker.push()
    first, second = [b["answer"]["results"] for b in worker.state.batches()[-2:]]
    assert first[0]["status"] == "conflict" and first[0]["code"] == "hazard.stale_version"
    assert first[0]["current"]["version"] == 3 and first[0]["current"]["supervised"] is True
    assert [(c["seq"], c["previous_base_version"], c["base_version"]) for c in report.rebased] == [(submit.seq, 2, 3)]
    assert second[0]["status"] == "applied" and second[0]["version"] == 4
    assert report.conflicts == [] and worker.status()["conflicts"] == [] and worker.status()["queued"] == 0
    assert report.photos["uploaded"] == [sha]
    local = worker.record_of("hazard", hazard_id)
    assert (local["status"], local["version"], local["supervised"]) == ("submitted", 4, True)
    db_session.expire_all()
    stored = db_session.get(Hazard, uuid.UUID(hazard_id))
    assert (stored.status, stored.version, stored.supervised) == ("submitted", 4, True)
    actions = db_session.scalars(
        select(HazardEvent.action).where(HazardEvent.hazard_id == stored.id).order_by(HazardEvent.version)
    ).all()
    assert actions == ["report", "order", "supervise", "submit"]


def test_an_intent_that_no_longer_applies_is_left_for_the_user(field_phone, world, db_session):
    """Two inspectors order the same hazard offline: the second order cannot be rebased (the hazard
    is already ordered), so it is kept as a conflict with ``current``, not re-sent."""
    worker = field_phone("gridworker1")
    first_inspector, second_inspector = field_phone("inspector1"), field_phone("inspector2")
    reported = worker.record(hazard_change(world["retailer"]))
    worker.push()
    for phone in (first_inspector, second_inspector):
        pull_until(phone, lambda p=phone: p.record_of("hazard", reported.id) is not None, limit=2000)
    first_inspector.record(transition(reported.id, **ORDER))
    mine = second_inspector.record(transition(reported.id, **ORDER | {"measures": "另一种措施"}))
    assert first_inspector.push().applied[0]["result"]["version"] == 2

    report = second_inspector.push()
    assert report.rebased == [] and [c["seq"] for c in report.conflicts] == [mine.seq]
    left = second_inspector.status()["conflicts"]
    assert [c["seq"] for c in left] == [mine.seq]
    assert left[0]["result"]["current"]["status"] == "ordered" and "ordered" in left[0]["result"]["reason"]
    assert second_inspector.record_of("hazard", reported.id)["version"] == 2  # the local copy took current
    assert second_inspector.push().batches == []  # nothing is re-sent on its own
    second_inspector.discard(mine.seq)
    assert second_inspector.status()["conflicts"] == []
    assert db_session.get(Hazard, uuid.UUID(reported.id)).measures == "清理通道"


def test_a_stored_answer_retried_late_never_takes_the_local_copy_backwards(
    link, field_phone, world, db_session, tmp_path
):
    """inspector1 pulls the hazard (v1); inspector2 orders it (v2); inspector1's stale order meets a
    conflict whose answer is lost; the worker submits the rectification (v3) and inspector1 pulls v3.
    The retry is answered with the stored conflict, ``current`` v2: the copy stays at v3 (the feed will
    not send v3 again), and the order is kept for the user against v3."""
    worker, second_inspector = field_phone("gridworker1"), field_phone("inspector2")
    inspector = field_phone("inspector1", max_attempts=1)
    reported = worker.record(hazard_change(world["retailer"], description="配电箱前堆放纸箱"))
    worker.push()
    pull_until(inspector, lambda: inspector.record_of("hazard", reported.id) is not None, limit=2000)
    pull_until(second_inspector, lambda: second_inspector.record_of("hazard", reported.id) is not None, limit=2000)
    second_inspector.record(transition(reported.id, **ORDER))
    assert [c["result"]["version"] for c in second_inspector.push().applied] == [2]

    stale = inspector.record(transition(reported.id, **ORDER | {"measures": "搬走纸箱"}))
    assert stale.base_version == 1
    link.fail("lose_answer", PUSH)
    with pytest.raises(Unreachable):
        inspector.push()

    photo = tmp_path / "rectified.jpg"
    photo.write_bytes(noisy_jpeg(200))
    sha = worker.add_photo(photo)
    pull_until(worker, lambda: (worker.record_of("hazard", reported.id) or {}).get("version") == 2)
    worker.record(transition(reported.id, action="submit", photos=[sha], note="纸箱已搬走"))
    assert [c["result"]["version"] for c in worker.push().applied] == [3]
    pull_until(inspector, lambda: (inspector.record_of("hazard", reported.id) or {}).get("version") == 3)

    report = inspector.push()
    answer = inspector.state.batches()[-1]["answer"]["results"][0]
    assert (answer["status"], answer["current"]["version"]) == ("conflict", 2)  # the stored answer, verbatim
    assert [c["seq"] for c in report.conflicts] == [stale.seq] and report.rebased == []
    assert inspector.status()["conflicts"][0]["result"]["current"]["version"] == 3
    local = inspector.record_of("hazard", reported.id)
    assert (local["status"], local["version"]) == ("submitted", 3)
    inspector.pull()
    local = inspector.record_of("hazard", reported.id)
    assert (local["status"], local["version"]) == ("submitted", 3)
    fresh = field_phone("inspector1")  # a full pull of the same user, from nothing: the copy equals it
    pull_until(fresh, lambda: fresh.versions() == inspector.versions(), limit=2000)


def test_a_stored_answer_retried_late_does_not_bring_back_a_record_that_left_the_view(
    link, field_phone, world, db_session
):
    """The worker's new hazard is stored but the answer is lost; then the hazard is moved to another
    grid, and the worker's pull brings its tombstone. The retry is answered ``applied`` (stored): the
    hazard must not come back into the copy, since no later pull would take it away again."""
    worker = field_phone("gridworker1", max_attempts=1)
    reported = worker.record(hazard_change(world["retailer"], description="消防栓被遮挡"))
    link.fail("lose_answer", PUSH)
    with pytest.raises(Unreachable):
        worker.push()
    db_session.execute(
        update(Hazard).where(Hazard.id == uuid.UUID(reported.id)).values(grid_id=world["grid_of"]["gridworker2"])
    )
    db_session.commit()
    tombstone = ("hazard", "delete", reported.id)
    deadline = time.monotonic() + 120
    while tombstone not in [(c["entity"], c["op"], c["id"]) for c in worker.pull().changes]:
        assert time.monotonic() < deadline, "the tombstone never reached the phone"
        time.sleep(0.2)

    report = worker.push()
    assert [c["id"] for c in report.applied] == [reported.id]
    assert reported.id not in worker.ids("hazard")
    worker.pull()
    assert reported.id not in worker.ids("hazard")
    fresh = field_phone("gridworker1")
    pull_until(fresh, lambda: fresh.versions() == worker.versions())


def test_rebase_replays_the_intents_in_order_on_current():
    current = {"status": "ordered", "version": 5}
    rebased, stuck = rules.rebase("hazard", current, [(1, "submit", None), (2, "order", None), (3, "supervise", None)])
    assert [(r.seq, r.base_version) for r in rebased] == [(1, 5), (3, 6)]
    assert [s.seq for s in stuck] == [2]
    rebased, stuck = rules.rebase(
        "task", {"status": "accepted", "version": 2}, [(7, "accept", None), (8, "complete", None)]
    )
    assert [(r.seq, r.base_version) for r in rebased] == [(8, 2)] and [s.seq for s in stuck] == [7]


def test_a_recheck_decision_is_rebased_only_onto_the_submission_it_judged():
    first = {"status": "submitted", "version": 4, "submitted_at": "2026-11-22T09:00:00+08:00", "submitted_by": "w"}
    supervised = first | {"version": 5, "supervised": True}
    resubmitted = first | {"version": 6, "submitted_at": "2026-11-22T15:00:00+08:00"}
    for action in ("verify", "reject"):
        rebased, stuck = rules.rebase("hazard", supervised, [(1, action, first)])
        assert [(r.seq, r.base_version) for r in rebased] == [(1, 5)] and stuck == [], action
        rebased, stuck = rules.rebase("hazard", resubmitted, [(1, action, first)])
        assert rebased == [] and [s.seq for s in stuck] == [1] and "重新提交" in stuck[0].reason, action
    # The phone's own submission, replayed first, is one it has seen.
    ordered = {"status": "ordered", "version": 3, "submitted_at": None, "submitted_by": None}
    rebased, _ = rules.rebase("hazard", ordered | {"version": 4}, [(1, "submit", ordered), (2, "reject", ordered)])
    assert [(r.seq, r.base_version) for r in rebased] == [(1, 4), (2, 5)]


@pytest.mark.parametrize("pulled_before_pushing", [False, True])
def test_an_offline_verification_is_not_applied_to_a_rectification_submitted_again(
    field_phone, committed_app, world, db_session, tmp_path, pulled_before_pushing
):
    """inspector1 verifies (销号) the rectification on the phone, offline. Meanwhile inspector2 sends
    it back (退回) and the worker submits new evidence. inspector1's verification must not close the
    hazard on evidence nobody looked at: it stays with inspector1 as a conflict — also when the phone
    pulled the new submission before it pushed (the verification judged the one shown when it was
    recorded, not the one in the copy now)."""
    clock = committed_app[1]
    worker, inspector, colleague = field_phone("gridworker1"), field_phone("inspector1"), field_phone("inspector2")
    reported = worker.record(hazard_change(world["retailer"], description="安全出口上锁"))
    worker.push()
    pull_until(inspector, lambda: inspector.record_of("hazard", reported.id) is not None, limit=2000)
    inspector.record(transition(reported.id, **ORDER))
    inspector.push()
    photo = tmp_path / "rectified.jpg"
    photo.write_bytes(noisy_jpeg(200))
    sha = worker.add_photo(photo)
    pull_until(worker, lambda: (worker.record_of("hazard", reported.id) or {}).get("status") == "ordered")
    worker.record(transition(reported.id, action="submit", photos=[sha], note="已开锁"))
    worker.push()

    pull_until(inspector, lambda: (inspector.record_of("hazard", reported.id) or {}).get("status") == "submitted")
    verification = inspector.record(transition(reported.id, action="verify", note="现场核实已整改"))
    pull_until(
        colleague, lambda: (colleague.record_of("hazard", reported.id) or {}).get("status") == "submitted", limit=2000
    )
    colleague.record(transition(reported.id, action="reject", note="照片看不清，重新整改"))
    colleague.push()
    clock.advance(hours=3)
    pull_until(worker, lambda: (worker.record_of("hazard", reported.id) or {}).get("status") == "ordered")
    worker.record(transition(reported.id, action="submit", photos=[sha], note="已拆除门锁"))
    worker.push()
    if pulled_before_pushing:
        pull_until(inspector, lambda: inspector.record_of("hazard", reported.id)["version"] == 5)

    report = inspector.push()
    assert report.rebased == [] and [c["seq"] for c in report.conflicts] == [verification.seq]
    assert "重新提交" in inspector.status()["conflicts"][0]["result"]["reason"]
    db_session.expire_all()
    assert db_session.get(Hazard, uuid.UUID(reported.id)).status == "submitted"


# --------------------------------------------------------------------------- photos


def photo_in_parts(field_phone, tmp_path, part: int) -> tuple[SyncClient, str, int]:
    """A grid worker's phone uploading in parts of ``part`` bytes, with a photo of several parts
    registered: (phone, sha256, size)."""
    data = noisy_jpeg()
    photo = tmp_path / "hazard.jpg"
    photo.write_bytes(data)
    worker = field_phone("gridworker1", chunk_bytes=part)
    return worker, worker.add_photo(photo), len(data)


def test_a_photo_upload_resumes_after_a_broken_connection(link, field_phone, world, db_session, tmp_path):
    part = 64 * 1024
    worker, sha, size = photo_in_parts(field_phone, tmp_path, part)
    worker.record(hazard_change(world["retailer"], photos=[sha]))
    link.fail("cut", PHOTOS, nth=3, after=10_000)  # the third part breaks after 10,000 bytes

    report = worker.push()
    assert report.missing_photos == [sha]  # named by the change before its bytes arrived
    assert report.photos == {"uploaded": [sha], "already_held": [], "failed": []}
    resumed_at = 2 * part + 10_000
    ranges = [r["headers"]["content-range"] for r in link.requests(PHOTOS)]
    assert ranges[:4] == [
        f"bytes 0-{part - 1}/{size}",
        f"bytes {part}-{2 * part - 1}/{size}",
        f"bytes {2 * part}-{3 * part - 1}/{size}",
        f"bytes {resumed_at}-{min(resumed_at + part, size) - 1}/{size}",
    ]
    assert len(link.requests(f"HEAD /api/v1/photos/{sha}")) == 2  # before starting, and after the break
    assert sum(r["forwarded"] for r in link.requests(PHOTOS)) == size  # no byte sent twice
    assert db_session.get(Photo, sha).size_bytes == size
    again = worker.push()  # nothing queued: only the photo check
    assert again.photos == {"uploaded": [], "already_held": [], "failed": []}
    worker.record(hazard_change(world["retailer"], photos=[sha]))
    assert worker.push().missing_photos == []


def test_a_photo_upload_answer_cut_before_its_range_is_asked_about_again(link, field_phone, db_session, tmp_path):
    """A 308 that lost its Range on the way says nothing about what the server holds: ask HEAD, and
    when HEAD's own 308 comes without Range, ask again. Nothing is sent twice."""
    worker, sha, size = photo_in_parts(field_phone, tmp_path, 64 * 1024)
    head = f"HEAD /api/v1/photos/{sha}"
    link.fail("cut_answer", PHOTOS, nth=2, before="Content-Length")  # a PUT's 308 without Range (or body)
    link.fail("cut_answer", head, nth=2, before="Range")  # HEAD's 308 without Range
    assert worker.upload_photos() == {"uploaded": [sha], "already_held": [], "failed": []}
    assert [r["status"] for r in link.requests(head)] == [404, 308, 308]
    assert sum(r["forwarded"] for r in link.requests(PHOTOS)) == size
    assert db_session.get(Photo, sha).size_bytes == size


def test_a_photo_upload_resumes_where_the_server_is_after_a_restart(link, field_phone, db_session, tmp_path):
    data = noisy_jpeg(400)
    photo = tmp_path / "rectified.jpg"
    photo.write_bytes(data)
    state = tmp_path / "phone.sqlite"
    worker = field_phone("gridworker1", state=state, max_attempts=1)
    sha = worker.add_photo(photo)
    link.fail("cut", PHOTOS, after=100_000)
    with pytest.raises(Unreachable):
        worker.upload_photos()
    worker.close()

    again = field_phone.reopen(state)
    assert again.upload_photos()["uploaded"] == [sha]
    second_put = link.requests(PHOTOS)[1]
    assert second_put["headers"]["content-range"] == f"bytes 100000-{len(data) - 1}/{len(data)}"
    assert again.status()["photos"] == {"pending": 0, "held": 1, "failed": 0}
    assert db_session.get(Photo, sha).size_bytes == len(data)


# --------------------------------------------------------------------------- pull


def _in_grid(session, grid_id) -> set[str]:
    return {str(i) for i in session.scalars(select(Enterprise.id).where(Enterprise.grid_id == grid_id))}


def test_pull_builds_the_local_copy_and_then_follows_changes(field_phone, world, db_session):
    worker = field_phone("gridworker1")
    grid = world["grid_of"]["gridworker1"]
    first = worker.pull(limit=7)
    assert first.pages > 1 and not first.reset and first.gzip
    keys = [(c["entity"], c["id"]) for c in first.changes]
    assert len(keys) == len(set(keys))
    assert worker.ids("enterprise") == _in_grid(db_session, grid) and worker.ids("grid") == {str(grid)}
    assert len(worker.ids("checklist_template")) == 9
    assert worker.record_of("grid", grid)["geometry"]["type"] == "MultiPolygon"
    retailer = str(world["retailer"])
    assert {"name", "uscc", "risk", "location", "grid_id"} <= set(worker.record_of("enterprise", retailer))

    # Another phone reports a hazard at the retailer: the next pulls bring just that.
    inspector = field_phone("inspector1")
    reported = inspector.record(hazard_change(world["retailer"], description="灭火器过期"))
    inspector.push()
    received = pull_until(worker, lambda: reported.id in worker.ids("hazard"))
    assert [(c["entity"], c["op"], c["id"]) for c in received] == [("hazard", "upsert", reported.id)]
    assert worker.record_of("hazard", reported.id)["description"] == "灭火器过期"

    # The retailer moves to another grid: a tombstone removes it from the local copy.
    db_session.execute(
        update(Enterprise)
        .where(Enterprise.id == world["retailer"])
        .values(grid_id=world["grid_of"]["gridworker2"], version=Enterprise.version + 1)
    )
    db_session.commit()
    received = pull_until(worker, lambda: retailer not in worker.ids("enterprise"))
    assert ("enterprise", "delete", retailer) in [(c["entity"], c["op"], c["id"]) for c in received]
    assert worker.record_of("enterprise", retailer) is None
    assert worker.pull().changes == []


def test_a_cursor_the_server_cannot_honour_replaces_the_local_copy(field_phone, world, db_session):
    worker = field_phone("gridworker1")
    worker.pull(limit=2000)
    with worker.state.transaction():
        worker.state.put_record_tx("enterprise", str(uuid.uuid4()), 1, {"name": "早已不存在的企业"})
    worker.state.set("cursor", "not-a-cursor")
    report = worker.pull(limit=2000)
    assert report.reset
    assert worker.ids("enterprise") == _in_grid(db_session, world["grid_of"]["gridworker1"])


def test_a_pull_without_a_cursor_starts_the_local_copy_afresh(field_phone, world, db_session):
    """An officer's first pull is a snapshot that sends no tombstones: a copy left over without its
    cursor must not keep records the snapshot no longer has."""
    desk = field_phone("desk")
    with desk.state.transaction():
        desk.state.put_record_tx("hazard", str(uuid.uuid4()), 1, {"description": "早已销号的隐患"})
    report = desk.pull(limit=2000)
    assert not report.reset and report.deletes == 0
    assert len(desk.ids("enterprise")) == 400
    assert desk.ids("hazard") == {c["id"] for c in report.changes if c["entity"] == "hazard"}


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def cli(tmp_path):
    """``cli(*args, expect=0)``: ``python -m sync`` on one state file; its JSON output (stderr's when
    the exit code is not 0)."""
    state = tmp_path / "cli.sqlite"
    env = os.environ | {"ANXUN_PASSWORD": "anxun-demo"}

    def run(*args, expect=0):
        done = subprocess.run(
            [sys.executable, "-m", "sync", "--state", str(state), "--backoff", "0.01", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == expect, done.stderr
        return json.loads(done.stdout) if expect == 0 else json.loads(done.stderr)

    return run


def test_command_line_round_trip(link, cli, world, tmp_path):
    assert cli("login", "--server", link.url, "--username", "gridworker1")["user"]["username"] == "gridworker1"
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(noisy_jpeg(200))
    sha = cli("photo", str(photo))[str(photo)]
    change = hazard_change(world["retailer"], photos=[sha])
    (tmp_path / "hazard.json").write_text(json.dumps(change, ensure_ascii=False), encoding="utf-8")
    assert cli("record", str(tmp_path / "hazard.json"))["queued"][0]["id"] == change["id"]
    status = cli("status")
    assert status["queued"] == 1 and status["photos"]["pending"] == 1

    pushed = cli("push")
    assert [c["id"] for c in pushed["applied"]] == [change["id"]] and pushed["photos"]["uploaded"] == [sha]
    pulled = cli("pull")
    assert pulled["records"]["enterprise"] > 0 and pulled["records"]["grid"] == 1
    assert cli("show", "enterprise", str(world["retailer"]))["id"] == str(world["retailer"])

    # No signal: the push fails with exit code 3 and the batch waits under its id.
    link.offline = True
    second = hazard_change(world["retailer"])
    (tmp_path / "second.json").write_text(json.dumps(second), encoding="utf-8")
    cli("record", str(tmp_path / "second.json"))
    assert cli("--attempts", "1", "push", expect=3)["kind"] == "Unreachable"
    in_flight = cli("status")["batch_in_flight"]
    assert in_flight
    link.offline = False
    again = cli("push")
    assert again["batches"] == [in_flight] and [c["id"] for c in again["applied"]] == [second["id"]]
    assert cli("status")["queued"] == 0
    assert cli("logout") == {"logged_out": True}
    assert cli("push", expect=4)["kind"] == "NotLoggedIn"


def test_command_line_says_no_signal_for_answers_cut_short(link, cli, world, tmp_path):
    """An answer that breaks off inside its headers is no answer: exit code 3, nothing lost, and the
    next run finishes the job (the same batch; the photo from where the server is)."""
    cli("login", "--server", link.url, "--username", "gridworker1")
    change = hazard_change(world["retailer"])
    (tmp_path / "hazard.json").write_text(json.dumps(change), encoding="utf-8")
    cli("record", str(tmp_path / "hazard.json"))
    link.fail("cut_answer", PUSH, before=None)  # a 200 with no headers and no body
    assert cli("--attempts", "1", "push", "--no-photos", expect=3)["kind"] == "Unreachable"
    in_flight = cli("status")["batch_in_flight"]
    again = cli("push", "--no-photos")
    assert again["batches"] == [in_flight] and [c["id"] for c in again["applied"]] == [change["id"]]

    photo = tmp_path / "large.jpg"
    photo.write_bytes(noisy_jpeg(1200))  # two parts of the advertised 1 MiB
    sha = cli("photo", str(photo))[str(photo)]
    link.fail("cut_answer", PHOTOS, before="Content-Length")  # the first part's 308, without its Range
    assert cli("--attempts", "1", "photos", expect=3)["kind"] == "Unreachable"
    assert cli("photos")["uploaded"] == [sha]
    assert [r["headers"]["content-range"].split("-")[0] for r in link.requests(PHOTOS)] == [
        "bytes 0",
        f"bytes {1024 * 1024}",
    ]


# --------------------------------------------------------------------------- the contract vs the server


def test_a_major_hazard_is_ordered_with_the_fields_the_contract_names(field_phone, world):
    worker, inspector = field_phone("gridworker1"), field_phone("inspector1")
    reported = hazard_change(world["retailer"])
    reported["data"]["level"] = "major"
    worker.record(reported)
    worker.push()
    inspector.record(transition(reported["id"], **ORDER, five=FIVE) | {"base_version": 1})
    report = inspector.push()
    assert [c["state"] for c in report.applied] == ["applied"], json.dumps(
        report.rejected[0]["result"]["errors"], ensure_ascii=False
    )
