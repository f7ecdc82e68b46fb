"""GET /sync/pull: scoped feed, each record once at its latest version, tombstones, nothing skipped
when transactions commit out of sequence order, unannounced plans only for their team."""

import uuid
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import create_engine, select, text, update

from checklists import load_all
from enterprises.models import Enterprise
from geo.models import GridAssignment
from inspections.models import Plan
from tests.sync.payloads import PHOTO, hazard_change, transition


def _in_grid(session, grid_id):
    return {str(i) for i in session.scalars(select(Enterprise.id).where(Enterprise.grid_id == grid_id))}


def test_initial_pull_brings_exactly_the_workers_world(phone, db_session, world):
    worker = phone("gridworker1")
    received = worker.pull_all(limit=7)
    keys = [(c["entity"], c["id"]) for c in received]
    assert len(keys) == len(set(keys)), "a record came twice"
    assert worker.ids("enterprise") == _in_grid(db_session, world["grid_of"]["gridworker1"])
    assert worker.ids("grid") == {str(world["grid_of"]["gridworker1"])}
    templates = worker.ids("checklist_template")
    # Every published version; a withdrawn one is no longer handed out (SYNC_PROTOCOL.md §3).
    assert templates == {f"{t.code}@{t.version}" for t in load_all() if t.published}
    grid = worker.records[("grid", str(world["grid_of"]["gridworker1"]))]
    assert grid["geometry"]["type"] == "MultiPolygon" and grid["workers"][0]["username"] == "gridworker1"
    enterprise = worker.records[("enterprise", str(world["retailer"]))]
    assert {"name", "uscc", "industry", "subtype", "risk", "address", "location", "grid_id"} <= set(enterprise)


def test_desk_officer_pulls_the_district(phone, db_session):
    desk = phone("desk")
    desk.pull_all(limit=2000)
    assert len(desk.ids("enterprise")) == 400 and len(desk.ids("grid")) == 40


def test_an_officers_first_pull_is_a_snapshot_and_the_feed_goes_on_after_it(phone, db_session, world):
    """A desk officer sees most of the log: the first pull walks the records in view at the head of the
    feed (no tombstones for a phone that starts empty), then the feed goes on from that head. What
    changes while the snapshot runs arrives after it, at its newer version; nothing else comes twice."""
    from geo.models import Region

    district = db_session.get(Region, world["users"]["desk"].region_id).path
    gone = str(uuid.uuid4())
    db_session.execute(
        text("""INSERT INTO change_log (entity, entity_id, op, version, region_path)
                               VALUES ('hazard', :id, 'delete', 2, CAST(:path AS ltree))"""),
        {"id": gone, "path": str(district)},
    )
    db_session.commit()
    desk, worker = phone("desk"), phone("gridworker1")
    received = []
    while not any(c["entity"] == "enterprise" for c in received):
        received += desk.pull_page(limit=7)["changes"]
    served = next(c["id"] for c in received if c["entity"] == "enterprise")
    db_session.execute(
        update(Enterprise)
        .where(Enterprise.id == uuid.UUID(served))
        .values(name="快照期间改名", version=Enterprise.version + 1)
    )
    db_session.commit()
    hazard = hazard_change(world["retailer"])
    assert worker.push([hazard]).get_json()["results"][0]["status"] == "applied"
    received += desk.pull_all(limit=7)

    assert gone not in {c["id"] for c in received} and all(c["op"] == "upsert" for c in received)
    keys = [(c["entity"], c["id"]) for c in received]
    assert keys.count(("enterprise", served)) == 2, "a record changed during the snapshot comes again"
    assert len(keys) - 1 == len(set(keys)), "nothing else comes twice"
    assert desk.records[("enterprise", served)]["name"] == "快照期间改名"
    in_district = {
        str(i)
        for i in db_session.scalars(
            select(Enterprise.id)
            .join(Region, Region.id == Enterprise.region_id)
            .where(Region.path.descendant_of(district))
        )
    }
    assert desk.ids("enterprise") == in_district and len(in_district) == 400
    assert hazard["id"] in desk.ids("hazard") and len(desk.ids("grid")) == 40
    assert desk.pull_all() == []


def test_incremental_pull_brings_a_record_once_at_its_latest_version(phone, world):
    worker, inspector = phone("gridworker1"), phone("inspector1")
    worker.pull_all()
    hazard = hazard_change(world["retailer"])
    worker.push([hazard])
    inspector.push(
        [
            transition(
                hazard["id"],
                1,
                action="order",
                deadline="2026-12-01T00:00:00+08:00",
                responsible_person="店主",
                measures="清理",
            )
        ]
    )
    worker.push([transition(hazard["id"], 2, action="submit", photos=[PHOTO], note="已整改")])
    changes = worker.pull_all()
    mine = [c for c in changes if c["id"] == hazard["id"]]
    assert len(mine) == 1 and mine[0]["version"] == 3 and mine[0]["data"]["status"] == "submitted"
    assert worker.pull_all() == []


def test_out_of_order_commits_are_not_skipped(phone, committed_app, world, db_session):
    """T1 takes its sequence number first but commits last; a pull between the commits must not
    move past T1's change."""
    worker = phone("gridworker1")
    worker.pull_all()
    ids = sorted(_in_grid(db_session, world["grid_of"]["gridworker1"]))
    first, second = uuid.UUID(ids[0]), uuid.UUID(ids[1])
    engine = create_engine(committed_app[2])
    with engine.connect() as t1, engine.connect() as t2:
        t1.execute(
            update(Enterprise).where(Enterprise.id == first).values(address="T1 改", version=Enterprise.version + 1)
        )
        t2.execute(
            update(Enterprise).where(Enterprise.id == second).values(address="T2 改", version=Enterprise.version + 1)
        )
        t2.commit()
        between = worker.pull_all()
        t1.commit()
    after = worker.pull_all()
    engine.dispose()
    seen = {c["id"]: c["data"]["address"] for c in between + after if c["entity"] == "enterprise"}
    assert seen == {str(first): "T1 改", str(second): "T2 改"}


def test_a_long_transaction_in_another_database_does_not_hold_the_feed_back(phone, world, server_url):
    """Transaction ids are cluster-wide; the horizon counts only this database's running writers."""
    worker = phone("gridworker1")
    worker.pull_all()
    elsewhere = create_engine(server_url)
    with elsewhere.connect() as other:
        other.execute(text("SELECT pg_current_xact_id()"))  # holds a transaction id, open throughout
        hazard = hazard_change(world["retailer"])
        assert worker.push([hazard]).get_json()["results"][0]["status"] == "applied"
        received = worker.pull_all()
        other.rollback()
    elsewhere.dispose()
    assert [c["id"] for c in received if c["entity"] == "hazard"] == [hazard["id"]]


def _move_gridworker1_to_gridworker2s_grid(db_session, world):
    old_grid = world["grid_of"]["gridworker1"]
    new_grid = world["grid_of"]["gridworker2"]
    now = datetime.now(timezone.utc)
    db_session.execute(
        update(GridAssignment)
        .where(GridAssignment.user_id == world["users"]["gridworker1"].id, GridAssignment.ended_at.is_(None))
        .values(ended_at=now)
    )
    db_session.add(GridAssignment(grid_id=new_grid, user_id=world["users"]["gridworker1"].id, assigned_at=now))
    db_session.commit()
    return old_grid, new_grid


def test_moved_grid_worker_loses_the_old_grid_and_gets_the_new(phone, db_session, world):
    worker = phone("gridworker1")
    worker.pull_all()
    old_grid, new_grid = _move_gridworker1_to_gridworker2s_grid(db_session, world)
    changes = worker.pull_all(limit=5)
    deleted = {c["id"] for c in changes if c["op"] == "delete"}
    assert str(old_grid) in deleted and _in_grid(db_session, old_grid) <= deleted
    assert worker.ids("grid") == {str(new_grid)}
    assert worker.ids("enterprise") == _in_grid(db_session, new_grid)


def test_enterprise_moved_out_of_the_grid_comes_as_delete(phone, db_session, world):
    worker = phone("gridworker1")
    worker.pull_all()
    db_session.execute(
        update(Enterprise)
        .where(Enterprise.id == world["retailer"])
        .values(grid_id=world["grid_of"]["gridworker2"], version=Enterprise.version + 1)
    )
    db_session.commit()
    changes = worker.pull_all()
    assert [(c["op"], c["id"]) for c in changes] == [("delete", str(world["retailer"]))]
    neighbour = phone("gridworker2")
    neighbour.pull_all()
    assert str(world["retailer"]) in neighbour.ids("enterprise")


def test_unannounced_plan_reaches_only_its_team(phone, db_session, world):
    users = world["users"]
    plan = Plan(
        id=uuid.uuid4(),
        kind="unannounced",
        title="暗查暗访",
        window_start=date(2026, 11, 23),
        window_end=date(2026, 11, 30),
        enterprise_ids=[world["retailer"]],
        inspector_ids=[users["inspector1"].id, users["inspector2"].id],
        region_id=users["desk"].region_id,
        created_by=users["desk"].id,
        created_at=datetime.now(timezone.utc),
    )
    db_session.add(plan)
    db_session.commit()
    for username in ("inspector1", "inspector2", "desk"):
        p = phone(username)
        p.pull_all(limit=2000)
        assert p.ids("plan") == {str(plan.id)}, username
    for username in ("gridworker1", "enterprise1", "admin", "gridworker2"):
        p = phone(username)
        p.pull_all(limit=2000)
        assert p.ids("plan") == set(), username


def test_bad_cursor_and_changed_scope_answer_reset(phone, server, db_session, world):
    client = server[0]
    worker = phone("gridworker1")
    answer = client.get("/api/v1/sync/pull?cursor=not-a-cursor", headers=worker.headers).get_json()
    assert answer["reset"] is True and answer["changes"]
    worker.pull_all()
    from accounts.models import User

    db_session.execute(
        update(User).where(User.username == "gridworker1").values(region_id=world["users"]["gridworker2"].region_id)
    )
    db_session.commit()
    answer = client.get(f"/api/v1/sync/pull?cursor={worker.cursor}", headers=worker.headers).get_json()
    assert answer["reset"] is True


def test_pull_honours_gzip(phone, server):
    import gzip
    import json

    client = server[0]
    worker = phone("gridworker1")
    response = client.get("/api/v1/sync/pull", headers={**worker.headers, "Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.data))["changes"]


def test_positions_are_ordered_as_numbers_when_transaction_ids_gain_a_digit(phone, db_session, world):
    """Transaction ids grow through 9 → 10, 99,999 → 100,000, …: a page ordered by their text would
    put 10 before 9, move the cursor to 10 and skip 9 for ever. Two changes planted at txid 9 and 10
    (before anything real) must both arrive, 9 first."""
    grid = world["grid_of"]["gridworker1"]
    planted = {9: str(uuid.uuid4()), 10: str(uuid.uuid4())}
    for txid, entity_id in planted.items():
        db_session.execute(
            text("""
            INSERT INTO change_log (txid, entity, entity_id, op, version, grid_id)
            VALUES (CAST(:txid AS text)::xid8, 'hazard', :id, 'delete', 1, :grid)"""),
            {"txid": str(txid), "id": entity_id, "grid": grid},
        )
    db_session.commit()
    received = phone("gridworker1").pull_all(limit=1)  # one change per page: every page boundary tested
    assert [c["id"] for c in received[:2]] == [planted[9], planted[10]]
    assert len(received) == len({(c["entity"], c["id"]) for c in received}), "a record came twice"


def test_a_new_grid_is_replayed_up_to_the_real_head_of_the_feed(phone, db_session, world):
    """The replay of a newly assigned grid runs up to the newest change; read as text, a change at
    txid 9 would look newer than every real one and the replay would stop before them."""
    db_session.execute(
        text("""
        INSERT INTO change_log (txid, entity, entity_id, op, version)
        VALUES (CAST('9' AS text)::xid8, 'hazard', :id, 'delete', 1)"""),
        {"id": str(uuid.uuid4())},
    )
    db_session.commit()
    worker = phone("gridworker1")
    worker.pull_all()
    _, new_grid = _move_gridworker1_to_gridworker2s_grid(db_session, world)
    worker.pull_all(limit=5)
    assert worker.ids("grid") == {str(new_grid)}
    assert worker.ids("enterprise") == _in_grid(db_session, new_grid)


@pytest.fixture
def unprivileged_app(committed_app, tmp_path):
    """The API connected as a role that is not a superuser and not in pg_read_all_stats — as in most
    deployments. Such a role sees other roles' sessions in pg_stat_activity without their details."""
    from sqlalchemy.engine import make_url

    from api.app import create_app
    from config.settings import Settings

    app, clock, url = committed_app
    role = f"anxun_app_{uuid.uuid4().hex[:8]}"
    owner = create_engine(url, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        try:
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER'))
        except Exception as err:  # a server where the test user may not create roles
            pytest.skip(f"cannot create a role here: {err}")
        conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
        conn.execute(text(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"'))
        conn.execute(text(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"'))
    role_url = make_url(url).set(username=role, password=None).render_as_string(hide_password=False)
    settings = Settings.from_env({}, database_url=role_url, testing=True, photo_root=str(tmp_path / "photos-role"))
    limited = create_app(settings, clock=clock)
    try:
        yield limited
    finally:
        limited.extensions["anxun"].dispose()
        with owner.connect() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        owner.dispose()


def test_a_hidden_writer_holds_the_feed_back_instead_of_being_skipped(
    unprivileged_app, committed_app, world, db_session
):
    """The API's role cannot see whether another role's session is writing, so the horizon falls back
    to the cluster-wide oldest transaction: the change committed after the hidden writer began waits
    for it, and when the writer commits both arrive — nothing is skipped."""
    from tests.sync.conftest import Phone

    worker = Phone(unprivileged_app.test_client(), "gridworker1")
    worker.pull_all()
    enterprise = sorted(_in_grid(db_session, world["grid_of"]["gridworker1"]))[0]
    superuser = create_engine(committed_app[2])
    with superuser.connect() as hidden:
        hidden.execute(
            update(Enterprise)
            .where(Enterprise.id == uuid.UUID(enterprise))
            .values(address="另一角色改", version=Enterprise.version + 1)
        )  # holds its xid
        hazard = hazard_change(world["retailer"])
        assert worker.push([hazard]).get_json()["results"][0]["status"] == "applied"
        while_open = worker.pull_all()
        hidden.commit()
    superuser.dispose()
    after = worker.pull_all()
    assert while_open == [], "served past a transaction the API could not see"
    received = {c["id"]: c for c in after}
    assert hazard["id"] in received and received[enterprise]["data"]["address"] == "另一角色改"


def test_writers_that_started_after_the_pulls_snapshot_do_not_wrap_the_horizon(phone, committed_app, world):
    """Issue 15, recipe 1. A running writer whose transaction id is above the pull's snapshot xmax was
    taken for the previous epoch: the horizon went negative, wrapped to about 2^64 as an xid8 and held
    nothing back, so the cursor moved past session A's write while it was in flight; A's change never
    reached the phone. With one extra session nothing was skipped (its id equals xmax); with two it was."""
    worker = phone("gridworker1")
    first = hazard_change(world["retailer"])
    assert worker.push([first]).get_json()["results"][0]["status"] == "applied"
    worker.pull_all()
    engine = create_engine(committed_app[2])
    with engine.connect() as a, engine.connect() as d1, engine.connect() as d2:
        a.execute(
            text("UPDATE hazards SET description = 'A 改', version = version + 1 WHERE id = :id"), {"id": first["id"]}
        )
        second = hazard_change(world["retailer"])
        assert worker.push([second]).get_json()["results"][0]["status"] == "applied"
        d1.execute(text("SELECT pg_current_xact_id()"))
        d2.execute(text("SELECT pg_current_xact_id()"))
        worker.pull_all()
        a.commit()
        d1.rollback()
        d2.rollback()
    engine.dispose()
    worker.pull_all()
    assert worker.records[("hazard", first["id"])]["description"] == "A 改"
    assert worker.records[("hazard", first["id"])]["version"] == 2
    assert ("hazard", second["id"]) in worker.records


def test_a_prepared_transaction_holds_the_feed_back_until_it_commits(phone, committed_app, world, db_session):
    """A prepared (two-phase) transaction has no backend in pg_stat_activity, but its rows commit
    later with the id it took early: the horizon must wait for it too."""
    if int(db_session.execute(text("SHOW max_prepared_transactions")).scalar()) == 0:
        pytest.skip("the server allows no prepared transactions (max_prepared_transactions = 0)")
    worker = phone("gridworker1")
    first = hazard_change(world["retailer"])
    assert worker.push([first]).get_json()["results"][0]["status"] == "applied"
    worker.pull_all()
    engine = create_engine(committed_app[2])
    gid = f"anxun-test-{uuid.uuid4().hex[:8]}"
    with engine.connect() as a, engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        a.execute(
            text("UPDATE hazards SET description = '两阶段', version = version + 1 WHERE id = :id"), {"id": first["id"]}
        )
        a.execute(text(f"PREPARE TRANSACTION '{gid}'"))
        a.commit()  # the connection is free again; the transaction lives on as prepared
        try:
            second = hazard_change(world["retailer"])
            assert worker.push([second]).get_json()["results"][0]["status"] == "applied"
            worker.pull_all()
        finally:
            admin.execute(text(f"COMMIT PREPARED '{gid}'"))
    engine.dispose()
    worker.pull_all()
    assert worker.records[("hazard", first["id"])]["description"] == "两阶段"
    assert ("hazard", second["id"]) in worker.records
