"""Recurring tasks: patrols by risk colour and 日周月 self-inspections, with the clock moved across days,
weeks and a month end."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from accounts.models import User
from enterprises.models import Enterprise
from geo.models import GridAssignment
from inspections.tasks import transition_task


@pytest.fixture
def grid1(session, demo):
    """gridworker1's enterprises, coloured: one red, one orange, one yellow, the rest blue."""
    ids = list(
        session.scalars(
            select(Enterprise.id).where(Enterprise.grid_id == demo.grid_of["gridworker1"]).order_by(Enterprise.uscc)
        )
    )
    assert len(ids) >= 4
    colours = {ids[0]: "red", ids[1]: "orange", ids[2]: "yellow"}
    for enterprise_id in ids:
        session.execute(
            update(Enterprise).where(Enterprise.id == enterprise_id).values(risk=colours.get(enterprise_id, "blue"))
        )
    session.flush()
    return {"red": ids[0], "orange": ids[1], "yellow": ids[2], "blue": ids[3:]}


def _keys(tasks_of, worker):
    return {(t.target_id, t.period_key) for t in tasks_of("patrol", assignee_id=worker.id)}


def _complete(session, clock, principal_of, task):
    transition_task(session, clock, principal_of("gridworker1"), task.id, {"action": "complete", "note": "已巡查"})


def test_patrol_tasks_follow_the_risk_colour_across_weeks_and_a_month_end(
    session, clock, demo, grid1, run, tasks_of, principal_of
):
    worker = demo.users["gridworker1"]
    # Sunday 2026-11-22 09:00 in Shanghai: ISO week 47, fortnight W47–W48, November, Q4.
    result = run("patrol_tasks")
    assert result["periods"] == {"red": "2026-W47", "orange": "2026-W47-W48", "yellow": "2026-11", "blue": "2026-Q4"}
    expected = {(grid1["red"], "2026-W47"), (grid1["orange"], "2026-W47-W48"), (grid1["yellow"], "2026-11")}
    expected |= {(blue, "2026-Q4") for blue in grid1["blue"]}
    assert _keys(tasks_of, worker) == expected
    red_task = tasks_of("patrol", target_id=grid1["red"])[0]
    assert red_task.due == datetime(2026, 11, 22, 15, 59, 59, tzinfo=timezone.utc)  # Sunday 23:59:59 Beijing
    assert red_task.grid_id == demo.grid_of["gridworker1"] and red_task.title.startswith("巡查（每周）：")
    # Every task went to a worker of the enterprise's grid; grids nobody works get none.
    for task in tasks_of("patrol"):
        assert session.scalar(
            select(GridAssignment.id).where(
                GridAssignment.grid_id == task.grid_id, GridAssignment.user_id == task.assignee_id
            )
        )
    assert run("patrol_tasks")["tasks_created"] == 0

    # Monday: a new week, but the red enterprise's task of last week is still open: no duplicate.
    clock.at = datetime(2026, 11, 22, 16, 30, tzinfo=timezone.utc)  # Monday 00:30 Beijing
    assert run("patrol_tasks")["periods"]["red"] == "2026-W48"
    assert _keys(tasks_of, worker) == expected
    _complete(session, clock, principal_of, red_task)
    run("patrol_tasks")
    expected.add((grid1["red"], "2026-W48"))
    assert _keys(tasks_of, worker) == expected

    # Across the month end (Tuesday 1 December): the November yellow task is done, so December's comes;
    # the orange one is new for the new fortnight only once its open task is done.
    for task in tasks_of("patrol", assignee_id=worker.id):
        if task.target_id in (grid1["yellow"], grid1["red"]) and task.status == "open":
            _complete(session, clock, principal_of, task)
    clock.at = datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc)
    run("patrol_tasks")
    expected |= {(grid1["yellow"], "2026-12"), (grid1["red"], "2026-W49")}
    assert _keys(tasks_of, worker) == expected
    assert run("patrol_tasks")["tasks_created"] == 0


def test_patrol_frequencies_are_configurable(session, clock, demo, settings, grid1, run, tasks_of):
    custom = settings.replace(
        patrol_frequencies={"red": "daily", "orange": "weekly", "yellow": "quarterly", "blue": "off"}
    )
    run("patrol_tasks", settings=custom)
    keys = _keys(tasks_of, demo.users["gridworker1"])
    assert keys == {(grid1["red"], "2026-11-22"), (grid1["orange"], "2026-W47"), (grid1["yellow"], "2026-Q4")}


def test_patrol_tasks_go_to_the_longest_serving_active_worker(session, clock, demo, grid1, run, tasks_of):
    grid = demo.grid_of["gridworker1"]
    clock.advance(hours=1)  # the demo assigned gridworker1 at the start
    session.add(GridAssignment(grid_id=grid, user_id=demo.users["gridworker2"].id, assigned_at=clock.now()))
    session.flush()
    run("patrol_tasks")
    assert {t.assignee_id for t in tasks_of("patrol", grid_id=grid)} == {demo.users["gridworker1"].id}

    # gridworker1 leaves: from the next run the grid's tasks go to gridworker2.
    session.execute(update(User).where(User.id == demo.users["gridworker1"].id).values(active=False))
    clock.at = datetime(2026, 11, 22, 16, 30, tzinfo=timezone.utc)
    run("patrol_tasks")
    assert {t.target_id for t in tasks_of("patrol", grid_id=grid, assignee_id=demo.users["gridworker2"].id)} == {
        grid1["red"],
        grid1["orange"],
        grid1["yellow"],
        *grid1["blue"],
    }


def test_self_inspection_reminders_follow_the_day_week_month_rule(session, clock, demo, run, tasks_of):
    officer = demo.users["enterprise1"]

    def keys():
        return {t.period_key for t in tasks_of("self_inspection", assignee_id=officer.id)}

    run("self_inspection_tasks")
    assert keys() == {"2026-11-22", "2026-W47", "2026-11"}
    titles = {t.period_key: t.title for t in tasks_of("self_inspection")}
    assert titles["2026-11-22"].startswith("班组日排查") and titles["2026-W47"].startswith("部门周排查")
    assert titles["2026-11"].startswith("负责人月排查") and demo.retailer.name in titles["2026-11"]
    assert all(t.target_id == demo.retailer.id for t in tasks_of("self_inspection"))
    assert run("self_inspection_tasks")["tasks_created"] == 0

    clock.at = datetime(2026, 11, 22, 16, 30, tzinfo=timezone.utc)  # Monday
    assert run("self_inspection_tasks")["tasks_created"] == 2
    assert keys() == {"2026-11-22", "2026-W47", "2026-11", "2026-11-23", "2026-W48"}

    clock.at = datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc)  # Tuesday 1 December, week 49
    assert run("self_inspection_tasks")["tasks_created"] == 3
    assert keys() >= {"2026-12-01", "2026-W49", "2026-12"}
    # Only enterprise officers get them.
    assert {t.assignee_id for t in tasks_of("self_inspection")} == {officer.id}


def test_self_inspection_cadences_are_configurable_and_inactive_officers_get_none(
    session, clock, demo, settings, run, tasks_of
):
    run("self_inspection_tasks", settings=settings.replace(self_inspection_cadences=("weekly",)))
    assert {t.period_key for t in tasks_of("self_inspection")} == {"2026-W47"}
    session.execute(update(User).where(User.id == demo.users["enterprise1"].id).values(active=False))
    clock.advance(days=1)
    assert run("self_inspection_tasks")["tasks_created"] == 0
