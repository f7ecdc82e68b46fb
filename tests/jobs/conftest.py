"""Factories for the job tests: hazards put through the real state machine, principals of demo
accounts, and a runner bound to the test's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from accounts.principal import principal_for
from geo.models import Region
from inspections.hazards import report_hazard, transition_hazard
from inspections.models import Task
from jobs.jobs import JobEnv
from jobs.runner import run_job

FIVE = {
    "responsibility": "企业主要负责人",
    "measures": "更换防爆电气",
    "funds": "5 万元",
    "deadline": "2026-12-31",
    "contingency_plan": "停产整改期间的应急预案",
}


@pytest.fixture
def principal_of(session, demo):
    def get(username: str):
        user = demo.users[username]
        region = session.get(Region, user.region_id)
        return principal_for(user, region.code, region.path, None)

    return get


@pytest.fixture
def make_hazard(session, clock, demo, principal_of):
    """``make_hazard(enterprise, level=…, deadline=…, by=…)``: found now by ``by``; ordered with the
    deadline when one is given (the officer who orders is ``by``)."""

    def make(
        enterprise=None,
        *,
        level: str = "general",
        deadline: datetime | None = None,
        by: str = "inspector1",
        description: str = "灭火器过期未检验",
        found_at: datetime | None = None,
    ):
        enterprise = enterprise or demo.retailer
        principal = principal_of(by)
        hazard = report_hazard(
            session,
            clock,
            principal,
            uuid.uuid4(),
            {
                "enterprise_id": enterprise.id,
                "level": level,
                "description": description,
                "location": None,
                "photos": [],
                "found_at": found_at or clock.now() - timedelta(minutes=5),
            },
        ).record
        session.flush()
        if deadline is not None:
            order(hazard.id, deadline, by=by, major=level == "major")
        return hazard

    def order(hazard_id, deadline, *, by="inspector1", major=False, version=1):
        data = {"action": "order", "deadline": deadline, "responsible_person": "企业负责人", "measures": "限期整改"}
        if major:
            data.update(five=FIVE, treatment_plan="治理方案：停用并更换")
        return transition_hazard(session, clock, principal_of(by), hazard_id, data, base_version=version)

    make.order = order
    return make


@pytest.fixture
def job_env(settings):
    from evidence.storage import make_store

    return JobEnv(settings=settings, photo_store=make_store(settings))


@pytest.fixture
def run(session_factory, clock, job_env):
    """``run("patrol_tasks")`` → the job's result; ``run(name, settings=…)`` with other settings."""

    def do(name: str, settings=None):
        env = JobEnv(settings=settings) if settings is not None else job_env
        outcome = run_job(session_factory, clock, env, name, runner="pytest")
        assert outcome.ran and outcome.ok, outcome
        return outcome.result

    return do


@pytest.fixture
def tasks_of(session):
    """``tasks_of(kind)`` → the tasks of that kind as (target_id, assignee_id, period_key) tuples."""

    def get(kind: str, **where):
        stmt = select(Task).where(Task.kind == kind)
        for name, value in where.items():
            stmt = stmt.where(getattr(Task, name) == value)
        session.expire_all()
        return list(session.scalars(stmt.order_by(Task.period_key, Task.created_at)))

    return get
