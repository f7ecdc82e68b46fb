"""Overdue hazards and rechecks: the clock moves past deadlines and exactly the right tasks and overdue
marks appear, once."""

from datetime import timedelta

from sqlalchemy import select

from accounts.models import User
from accounts.service import create_user
from core.clock import SHANGHAI
from inspections.models import Hazard, HazardEvent, Task
from jobs.models import JobRun
from jobs.tasks import SYSTEM_USERNAME


def _ledger_overdue(client, headers):
    body = client.get("/api/v1/hazards?overdue=true&per_page=500", headers=headers).get_json()
    return {item["id"] for item in body["items"]}


def test_overdue_hazards_get_one_task_each_for_the_desk_officer(
    client, login, session, clock, demo, make_hazard, run, tasks_of
):
    soon = make_hazard(deadline=clock.now() + timedelta(days=2))
    later = make_hazard(deadline=clock.now() + timedelta(days=5))
    make_hazard()  # reported, no deadline yet: never overdue
    desk = login("desk")

    assert run("overdue_hazards")["tasks_created"] == 0
    assert _ledger_overdue(client, desk) == set()

    clock.advance(days=3)
    result = run("overdue_hazards")
    assert result["overdue"] == 1 and result["tasks_created"] == 1
    [task] = tasks_of("overdue_hazard")
    assert (task.target_id, task.assignee_id) == (soon.id, demo.users["desk"].id)
    assert task.target_entity == "hazard" and task.enterprise_id == demo.retailer.id and task.status == "open"
    assert task.period_key == soon.deadline.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    assert task.title.startswith("隐患逾期未整改：") and demo.retailer.name in task.title
    assert _ledger_overdue(client, desk) == {str(soon.id)}

    # A second run, and one an hour later, add nothing.
    assert run("overdue_hazards")["tasks_created"] == 0
    clock.advance(hours=1)
    assert run("overdue_hazards")["tasks_created"] == 0
    assert len(tasks_of("overdue_hazard")) == 1

    clock.advance(days=3)
    assert run("overdue_hazards")["tasks_created"] == 1
    assert {t.target_id for t in tasks_of("overdue_hazard")} == {soon.id, later.id}
    assert _ledger_overdue(client, desk) == {str(soon.id), str(later.id)}
    runs = session.scalars(select(JobRun).where(JobRun.job == "overdue_hazards")).all()
    assert len(runs) == 5 and all(r.ok and r.runner == "pytest" for r in runs)


def test_the_nearest_desk_officer_gets_the_task(session, clock, demo, make_hazard, run, tasks_of):
    town = demo.towns[0]
    town_officer = create_user(
        session, username="town-desk", name="镇内勤", password="x" * 12, roles=["desk_officer"], region_id=town.id
    )
    other_town_officer = create_user(
        session,
        username="town2-desk",
        name="邻镇内勤",
        password="x" * 12,
        roles=["desk_officer"],
        region_id=demo.towns[1].id,
    )
    hazard = make_hazard(deadline=clock.now() + timedelta(hours=1))
    clock.advance(hours=2)
    run("overdue_hazards")
    assignees = {t.assignee_id for t in tasks_of("overdue_hazard", target_id=hazard.id)}
    assert assignees == {town_officer.id}
    assert other_town_officer.id not in assignees and demo.users["desk"].id not in assignees


def test_a_hazard_sent_back_with_a_new_deadline_can_fall_overdue_again(
    session, clock, demo, make_hazard, run, tasks_of, principal_of
):
    from inspections.hazards import transition_hazard

    hazard = make_hazard(deadline=clock.now() + timedelta(days=1))
    clock.advance(days=2)
    run("overdue_hazards")
    transition_hazard(
        session,
        clock,
        principal_of("enterprise1"),
        hazard.id,
        {"action": "submit", "photos": ["c" * 64], "note": "已整改"},
        base_version=2,
    )
    assert run("overdue_hazards")["overdue"] == 0
    transition_hazard(
        session,
        clock,
        principal_of("inspector2"),
        hazard.id,
        {"action": "reject", "note": "未整改到位", "deadline": clock.now() + timedelta(days=3)},
        base_version=3,
    )
    clock.advance(days=4)
    assert run("overdue_hazards")["tasks_created"] == 1
    tasks = tasks_of("overdue_hazard", target_id=hazard.id)
    assert len(tasks) == 2 and len({t.period_key for t in tasks}) == 2


def test_overdue_major_hazards_are_proposed_for_supervision_by_default(session, clock, make_hazard, run, tasks_of):
    major = make_hazard(level="major", deadline=clock.now() + timedelta(days=1))
    clock.advance(days=2)
    result = run("overdue_hazards")
    assert result["supervised"] == []
    [task] = tasks_of("overdue_hazard")
    assert task.title.startswith("重大事故隐患逾期未整改（建议挂牌督办）") and "挂牌督办" in task.note
    session.expire_all()
    assert session.get(Hazard, major.id).supervised is False


def test_overdue_major_hazards_are_supervised_when_configured(session, clock, settings, make_hazard, run, tasks_of):
    apply = settings.replace(supervise_overdue_major="apply", supervising_office="示范县安委会办公室")
    major = make_hazard(level="major", deadline=clock.now() + timedelta(days=1))
    general = make_hazard(deadline=clock.now() + timedelta(days=1))
    not_yet = make_hazard(level="major", deadline=clock.now() + timedelta(days=10))
    clock.advance(days=2)

    assert run("overdue_hazards", settings=apply)["supervised"] == [str(major.id)]
    session.expire_all()
    supervised = session.get(Hazard, major.id)
    assert supervised.supervised and supervised.supervising_office == "示范县安委会办公室"
    assert supervised.version == 3 and supervised.status == "ordered"
    assert not session.get(Hazard, general.id).supervised and not session.get(Hazard, not_yet.id).supervised
    event = session.scalar(
        select(HazardEvent).where(HazardEvent.hazard_id == major.id, HazardEvent.action == "supervise")
    )
    system = session.scalar(select(User).where(User.username == SYSTEM_USERNAME))
    assert event.actor_id == system.id and not system.active
    [task] = tasks_of("overdue_hazard", target_id=major.id)
    assert task.title.startswith("重大事故隐患逾期未整改（已挂牌督办）")

    assert run("overdue_hazards", settings=apply)["supervised"] == []
    assert (
        session.scalar(
            select(HazardEvent.id).where(HazardEvent.hazard_id == major.id, HazardEvent.action == "supervise").offset(1)
        )
        is None
    )


def test_recheck_task_for_the_officer_who_set_the_deadline(
    session, clock, settings, make_hazard, run, tasks_of, principal_of
):
    from inspections.hazards import transition_hazard

    deadline = clock.now() + timedelta(days=3)
    ordered = make_hazard(deadline=deadline, by="inspector2")
    submitted = make_hazard(deadline=deadline, by="inspector1")
    transition_hazard(
        session,
        clock,
        principal_of("enterprise1"),
        submitted.id,
        {"action": "submit", "photos": ["c" * 64], "note": "已整改"},
        base_version=2,
    )
    closed_early = make_hazard(deadline=deadline)
    transition_hazard(
        session,
        clock,
        principal_of("enterprise1"),
        closed_early.id,
        {"action": "submit", "photos": ["c" * 64], "note": "已整改"},
        base_version=2,
    )
    transition_hazard(
        session,
        clock,
        principal_of("inspector2"),
        closed_early.id,
        {"action": "verify", "note": "复查合格"},
        base_version=3,
    )

    clock.advance(days=2, hours=23)
    assert run("recheck_tasks")["tasks_created"] == 0
    clock.advance(hours=2)
    assert run("recheck_tasks")["tasks_created"] == 2
    tasks = {t.target_id: t for t in tasks_of("recheck")}
    assert set(tasks) == {ordered.id, submitted.id}
    assert tasks[ordered.id].assignee_id == principal_of("inspector2").user_id
    assert tasks[submitted.id].assignee_id == principal_of("inspector1").user_id
    assert tasks[ordered.id].due == deadline + timedelta(days=settings.recheck_within_days)
    assert tasks[ordered.id].title.startswith("复查：")
    assert run("recheck_tasks")["tasks_created"] == 0
    # The change feed carries the new tasks to their assignees' phones.
    from sqlalchemy import text

    logged = session.execute(
        text("SELECT count(*) FROM change_log WHERE entity = 'task' AND entity_id = :id"),
        {"id": str(tasks[ordered.id].id)},
    ).scalar()
    assert logged == 1


def test_tasks_are_audited(session, clock, make_hazard, run):
    from audit.models import AuditEntry

    make_hazard(deadline=clock.now() + timedelta(hours=1))
    clock.advance(hours=2)
    run("overdue_hazards")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "task", AuditEntry.action == "schedule"))
    assert entry.actor_id is None and entry.summary == {"kind": "overdue_hazard", "count": 1}
    assert session.scalar(select(Task.id).where(Task.kind == "overdue_hazard")) is not None
