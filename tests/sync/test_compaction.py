"""Compaction of the change feed: superseded rows and tombstones older than the retention go, each
record's latest row stays, a cursor from before the floor answers reset, and a phone that keeps
pulling is never sent back to the start — not even one whose view sees no change for months."""

import uuid
from datetime import timedelta

from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.orm import Session

from enterprises.models import Enterprise
from jobs.jobs import JobEnv
from jobs.runner import run_job
from sync.models import ChangeLogEntry
from sync.pull import pull
from tests.sync.conftest import principal_of_user, run_while_held


# Records whose latest change left them in existence: what a compacted log must still name.
LATEST_UPSERTS = """
SELECT entity, entity_id FROM (
    SELECT DISTINCT ON (entity, entity_id) entity, entity_id, op FROM change_log
     ORDER BY entity, entity_id, txid DESC, seq DESC) latest
 WHERE op = 'upsert'
"""


def _age_the_log(db_session, clock, days):
    """Every change row so far happened ``days`` before the test clock's now."""
    db_session.execute(text("UPDATE change_log SET at = :at"), {"at": clock.now() - timedelta(days=days)})
    db_session.commit()


def _compact(committed_app):
    app, clock, _ = committed_app
    services = app.extensions["anxun"]
    outcome = run_job(
        services.session_factory, clock, JobEnv(settings=services.settings), "compact_feed", runner="pytest"
    )
    assert outcome.ok, outcome
    return outcome.result


def _rename(db_session, enterprise_id, name):
    db_session.execute(
        update(Enterprise).where(Enterprise.id == enterprise_id).values(name=name, version=Enterprise.version + 1)
    )
    db_session.commit()


def _rows_of(db_session, entity, entity_id):
    return db_session.scalar(
        select(func.count())
        .select_from(ChangeLogEntry)
        .where(ChangeLogEntry.entity == entity, ChangeLogEntry.entity_id == str(entity_id))
    )


def test_superseded_rows_and_old_tombstones_go_and_every_record_keeps_its_latest(
    committed_app, db_session, world, phone
):
    clock = committed_app[1]
    before = phone("gridworker1")
    before.pull_all()
    retailer = world["retailer"]
    for name in ("第一次改名", "第二次改名", "第三次改名"):
        _rename(db_session, retailer, name)
    gone = str(uuid.uuid4())
    db_session.execute(
        text(
            "INSERT INTO change_log (entity, entity_id, op, version, grid_id) "
            "VALUES ('hazard', :id, 'delete', 2, :grid)"
        ),
        {"id": gone, "grid": world["grid_of"]["gridworker1"]},
    )
    db_session.commit()
    in_view = set(db_session.execute(text(LATEST_UPSERTS)).all())
    assert _rows_of(db_session, "enterprise", retailer) >= 4

    _age_the_log(db_session, clock, 31)
    result = _compact(committed_app)
    assert result["rows_removed"] > 0 and result["floor"] is not None
    assert _rows_of(db_session, "enterprise", retailer) == 1, "the latest row of a record stays"
    assert _rows_of(db_session, "hazard", gone) == 0, "an old tombstone goes"
    assert set(db_session.execute(text("SELECT DISTINCT entity, entity_id FROM change_log")).all()) == in_view
    assert db_session.scalar(text("SELECT count(*) FROM change_log")) == len(in_view), "one row a record"
    assert _compact(committed_app)["rows_removed"] == 0, "a second run finds nothing more"

    # A new phone pulls the compacted feed from the start and gets the same world as before.
    after = phone("gridworker1")
    after.pull_all(limit=7)
    assert after.records.keys() == before.records.keys()
    assert after.records[("enterprise", str(retailer))]["name"] == "第三次改名"


def test_a_cursor_before_the_floor_answers_reset_and_a_recent_one_goes_on(committed_app, db_session, world, phone):
    """The retailer leaves gridworker1's grid and is then changed in its new grid: compaction removes
    the row that carried the move, so a phone that was away since before it could never learn of the
    move from the feed — it must start again. A phone that kept pulling goes on."""
    clock = committed_app[1]
    away, active = phone("gridworker1"), phone("gridworker1")
    away.pull_all()
    active.pull_all()
    retailer = world["retailer"]
    db_session.execute(
        update(Enterprise)
        .where(Enterprise.id == retailer)
        .values(grid_id=world["grid_of"]["gridworker2"], version=Enterprise.version + 1)
    )
    db_session.commit()
    assert [(c["op"], c["id"]) for c in active.pull_all()] == [("delete", str(retailer))]
    _rename(db_session, retailer, "迁出之后改名")  # supersedes the row that carried the move
    _age_the_log(db_session, clock, 31)
    active.pull_all()
    _compact(committed_app)
    assert _rows_of(db_session, "enterprise", retailer) == 1

    neighbour = db_session.scalar(select(Enterprise.id).where(Enterprise.grid_id == world["grid_of"]["gridworker1"]))
    _rename(db_session, neighbour, "压缩之后改名")
    answer = active.pull_page()
    assert answer["reset"] is False
    assert [(c["id"], c["data"]["name"]) for c in answer["changes"]] == [(str(neighbour), "压缩之后改名")]

    answer = away.pull_page(limit=2000)
    assert answer["reset"] is True, "rows this cursor still needed were compacted away"
    while answer["has_more"]:
        answer = away.pull_page(limit=2000)
    assert ("enterprise", str(retailer)) not in away.records
    assert away.records == active.records


def test_a_quiet_view_keeps_up_with_the_feed_and_is_not_reset(committed_app, db_session, world, phone):
    """gridworker1's grid sees no change for weeks while the rest of the district keeps changing: its
    cursor must still move with the feed, or the first compaction would send it back to the start."""
    clock = committed_app[1]
    worker = phone("gridworker1")
    worker.pull_all()
    elsewhere = db_session.scalar(select(Enterprise.id).where(Enterprise.grid_id == world["grid_of"]["gridworker2"]))
    for n in range(3):
        _rename(db_session, elsewhere, f"别处改名 {n}")
        assert worker.pull_all() == []
    _age_the_log(db_session, clock, 31)
    _rename(db_session, elsewhere, "别处再改名")  # rows newer than the floor, outside the worker's view
    _rename(db_session, elsewhere, "别处又改名")
    _compact(committed_app)
    assert _rows_of(db_session, "enterprise", elsewhere) == 2, "within the retention even superseded rows stay"
    answer = worker.pull_page()
    assert answer["reset"] is False and answer["changes"] == []


def test_a_compaction_waits_for_a_pull_in_flight(committed_app, db_session, world):
    """Between a pull's reading of the floor and of the rows no compaction may fall: the pull holds a
    shared lock for its transaction, the compaction waits for it."""
    app, clock, url = committed_app
    _age_the_log(db_session, clock, 31)
    engine = create_engine(url)
    with Session(engine) as reading:
        pull(reading, clock, principal_of_user(reading, "gridworker1", "pulling-phone"), None, 500)
        result = run_while_held(reading, lambda: _compact(committed_app), "the compaction")
    engine.dispose()
    assert result["floor"] is not None  # it ran, after the pull's transaction ended
