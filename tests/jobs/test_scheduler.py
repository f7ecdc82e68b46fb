"""Exactly one scheduler acts: two started together on one database run each job once; a job already
running elsewhere is skipped; a failing job rolls its work back and is logged."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select, text

from inspections.models import Task
from jobs.jobs import JOBS, Job, JobEnv
from jobs.models import JobRun
from jobs.runner import LOCK_CLASS, run_job
from jobs.scheduler import JobScheduler


def _scheduler(app, runner: str, jobs=JOBS) -> JobScheduler:
    services = app.extensions["anxun"]
    env = JobEnv(settings=services.settings, photo_store=services.photo_store)
    return JobScheduler(services.engine, services.session_factory, services.clock, env, runner=runner, jobs=jobs)


def _runs(app) -> list[tuple[str, str, bool]]:
    with app.extensions["anxun"].session_factory() as session:
        return [tuple(row) for row in session.execute(select(JobRun.job, JobRun.runner, JobRun.ok).order_by(JobRun.id))]


def _task_count(app) -> int:
    with app.extensions["anxun"].session_factory() as session:
        return session.scalar(select(func.count()).select_from(Task))


def test_two_schedulers_started_together_act_once(committed_app):
    app, clock, _ = committed_app
    first, second = _scheduler(app, "host-a"), _scheduler(app, "host-b")
    barrier = threading.Barrier(2)
    leads = {}

    def contend(scheduler):
        barrier.wait()
        leads[scheduler.runner] = scheduler.check_leadership()

    threads = [threading.Thread(target=contend, args=(s,)) for s in (first, second)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(leads.values()) == [False, True]
        leader, standby = (first, second) if leads["host-a"] else (second, first)

        # The leader caught up on taking the lead: every job once, all by it.
        runs = _runs(app)
        assert sorted(job for job, _, _ in runs) == sorted(JOBS)
        assert {runner for _, runner, _ in runs} == {leader.runner} and all(ok for _, _, ok in runs)
        tasks = _task_count(app)
        assert tasks > 0  # the demo's grid workers and enterprise officer got their tasks

        # Both fire every job when its time comes: only the leader acts, and adds nothing new.
        for name in JOBS:
            assert standby.fire(name) is None
            assert leader.fire(name).ran
        assert len(_runs(app)) == 2 * len(JOBS) and _task_count(app) == tasks

        # The leader goes away: the standby takes over on its next try and catches up, harmlessly.
        leader.release()
        clock.advance(hours=1)
        assert standby.check_leadership()
        assert not leader.check_leadership()
        later = _runs(app)[2 * len(JOBS) :]
        assert sorted(job for job, _, _ in later) == sorted(JOBS)
        assert {runner for _, runner, _ in later} == {standby.runner}
        assert _task_count(app) == tasks
    finally:
        first.release()
        second.release()


def test_two_running_apschedulers_act_once(committed_app):
    """The real APScheduler loop in two processes' worth of schedulers: catch-up only (no cron times),
    so the test waits for work, never for a time of day."""
    app, _, _ = committed_app
    catch_up_only = {name: replace(job, cron={}) for name, job in JOBS.items()}
    schedulers = [_scheduler(app, f"host-{n}", catch_up_only) for n in "ab"]
    try:
        for scheduler in schedulers:
            scheduler.start_background()
        deadline = time.monotonic() + 120
        while len(_runs(app)) < len(JOBS) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        # The standby first, so it cannot take over from a leader that is shutting down.
        for scheduler in sorted(schedulers, key=lambda s: s.leading):
            scheduler.shutdown()
    runs = _runs(app)
    assert sorted(job for job, _, _ in runs) == sorted(JOBS)
    assert len({runner for _, runner, _ in runs}) == 1


def test_a_job_running_elsewhere_is_skipped(engine, session_factory, clock, settings, session):
    with engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:a, hashtext('patrol_tasks'))"), {"a": LOCK_CLASS})
        try:
            outcome = run_job(session_factory, clock, JobEnv(settings), "patrol_tasks", runner="pytest")
        finally:
            other.execute(text("SELECT pg_advisory_unlock(:a, hashtext('patrol_tasks'))"), {"a": LOCK_CLASS})
    assert not outcome.ran
    assert session.scalar(select(func.count()).select_from(JobRun)) == 0
    assert session.scalar(select(func.count()).select_from(Task)) == 0
    assert run_job(session_factory, clock, JobEnv(settings), "patrol_tasks", runner="pytest").ran


def test_a_failing_job_rolls_its_work_back_and_is_logged(session_factory, clock, settings, session):
    from jobs import tasks

    def half_done(db, job_clock, env):
        tasks.create_patrol_tasks(db, job_clock, env.settings)
        db.flush()
        raise RuntimeError("磁盘已满")

    jobs = {"broken": Job("broken", "半途而废", half_done)}
    outcome = run_job(session_factory, clock, JobEnv(settings), "broken", runner="pytest", jobs=jobs)
    assert outcome.ran and not outcome.ok and "磁盘已满" in outcome.error
    run = session.scalar(select(JobRun))
    assert (run.job, run.ok) == ("broken", False) and "RuntimeError" in run.error
    assert session.scalar(select(func.count()).select_from(Task)) == 0


def test_cli_runs_a_job_by_hand_as_of_a_given_time(committed_app):
    app, _, _ = committed_app
    runner = app.test_cli_runner()
    result = runner.invoke(args=["anxun", "run-job", "self_inspection_tasks", "--at", "2026-12-01T00:30:00+08:00"])
    assert result.exit_code == 0, result.output
    assert "'tasks_created': 3" in result.output and "2026-12-01" in result.output
    again = runner.invoke(args=["anxun", "run-job", "self_inspection_tasks", "--at", "2026-12-01T08:00:00+08:00"])
    assert "'tasks_created': 0" in again.output
    listed = runner.invoke(args=["anxun", "jobs"])
    assert "self_inspection_tasks" in listed.output and "ok on" in listed.output
    unknown = runner.invoke(args=["anxun", "run-job", "no_such_job"])
    assert unknown.exit_code != 0 and "unknown job" in unknown.output
    naive = runner.invoke(args=["anxun", "run-job", "patrol_tasks", "--at", "2026-12-01T00:30:00"])
    assert naive.exit_code != 0


@pytest.mark.parametrize("name", sorted(JOBS))
def test_every_job_runs_and_a_second_run_changes_nothing(name, run, session):
    def state():
        return {
            table: session.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("tasks", "hazards", "hazard_events", "monthly_figures", "photos")
        }

    run(name)
    before = state()
    run(name)
    assert state() == before
