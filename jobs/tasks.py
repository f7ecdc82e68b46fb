"""Work the schedule hands out (任务): overdue hazards to the desk officer responsible for them (and 挂牌督办
for overdue major hazards), rechecks (复查) to the officer who set the deadline, patrols to grid workers
by risk colour, “日周月” self-inspections to enterprise safety officers.

Each generator is one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` keyed by period through
``uq_tasks_period`` (kind, target, assignee, period_key): a second run, or a run after missed ones,
creates nothing twice. They take a session and a clock, flush, and never commit."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Select, String, and_, any_, case, column, exists, func, literal, select, true, values
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, aliased

from accounts.models import User
from accounts.principal import Principal
from audit.service import record as audit
from config.settings import Settings
from core.clock import Clock
from core.errors import Conflict
from enterprises.models import Enterprise
from geo.models import GridAssignment, Region
from inspections.hazards import overdue_expr, transition_hazard
from inspections.models import Hazard, HazardEvent, Task
from core.periods import LABELS, period_of

TASK_COLUMNS = (
    "id",
    "kind",
    "title",
    "assignee_id",
    "target_entity",
    "target_id",
    "enterprise_id",
    "due",
    "period_key",
    "status",
    "note",
    "region_id",
    "grid_id",
    "created_at",
    "updated_at",
    "version",
)
OPEN_TASK_STATUSES = ("open", "accepted")
# A desk officer gets three days to follow an overdue hazard up (催办、约谈、立案).
OVERDUE_FOLLOW_UP_DAYS = 3
# 日周月: 班组日排查、部门周排查、厂长经理月排查 (the county work plans, docs/reference/seeds/).
SELF_INSPECTION_TITLES = {"daily": "班组日排查", "weekly": "部门周排查", "monthly": "负责人月排查"}
# The account that signs what the schedule itself decides (automatic 挂牌督办): inactive, cannot log in.
SYSTEM_USERNAME = "anxun-system"
SYSTEM_NAME = "系统（定时任务）"


def _aware(value: datetime):
    return literal(value, DateTime(timezone=True))


def _text(value: str):
    return literal(value, String)


def _has_role(role: str):
    return _text(role) == any_(User.roles)


def _deadline_key(deadline_column):
    """The missed deadline names the period: a hazard sent back with a new deadline can fall overdue again."""
    return func.to_char(func.timezone("Asia/Shanghai", deadline_column), 'YYYY-MM-DD"T"HH24:MI')


def _local_date(deadline_column):
    return func.to_char(func.timezone("Asia/Shanghai", deadline_column), "YYYY-MM-DD")


def _insert_tasks(session: Session, rows: Select) -> list:
    stmt = (
        pg_insert(Task)
        .from_select(TASK_COLUMNS, rows)
        .on_conflict_do_nothing(index_elements=["kind", "target_id", "assignee_id", "period_key"])
        .returning(Task.id, Task.target_id, Task.assignee_id)
    )
    return session.execute(stmt).all()


def _audit_created(session: Session, clock: Clock, kind: str, created: list, **summary) -> None:
    if created:
        audit(session, clock, None, "schedule", "task", None, {"kind": kind, "count": len(created), **summary})


# --------------------------------------------------------------------------- overdue hazards


def nearest_desk_officers(hazards):
    """(hazard id, user id) of the active desk officers sitting nearest above each hazard's village:
    a town's 安监办 before the district's. ``hazards`` has ``id`` and ``region_id`` columns."""
    region = aliased(Region)
    office = aliased(Region)
    nearness = func.rank().over(partition_by=hazards.c.id, order_by=func.nlevel(office.path).desc())
    candidates = (
        select(hazards.c.id.label("hazard_id"), User.id.label("user_id"), nearness.label("nearness"))
        .join(region, region.id == hazards.c.region_id)
        .join(office, region.path.descendant_of(office.path))
        .join(User, and_(User.region_id == office.id, User.active.is_(True), _has_role("desk_officer")))
        .subquery("candidates")
    )
    return select(candidates.c.hazard_id, candidates.c.user_id).where(candidates.c.nearness == 1).subquery("officers")


def create_overdue_tasks(session: Session, clock: Clock, settings: Settings) -> dict:
    """Hazards ordered and past their deadline (the ledger's ``overdue``): one task per hazard and missed
    deadline for the nearest desk officers; overdue major hazards are proposed for 挂牌督办 in that task,
    or supervised at once when ``supervise_overdue_major`` is ``apply``."""
    now = clock.now()
    supervised = (
        supervise_overdue_major(session, clock, settings.supervising_office)
        if settings.supervise_overdue_major == "apply"
        else []
    )
    overdue = (
        select(
            Hazard.id,
            Hazard.region_id,
            Hazard.grid_id,
            Hazard.enterprise_id,
            Hazard.level,
            Hazard.supervised,
            Hazard.deadline,
            func.coalesce(Enterprise.name, func.left(Hazard.description, 40)).label("what"),
        )
        .outerjoin(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .where(overdue_expr(now))
        .subquery("overdue")
    )
    officers = nearest_desk_officers(overdue)
    period_key = _deadline_key(overdue.c.deadline)
    major = overdue.c.level == "major"
    heading = case(
        (and_(major, overdue.c.supervised), _text("重大事故隐患逾期未整改（已挂牌督办）：")),
        (major, _text("重大事故隐患逾期未整改（建议挂牌督办）：")),
        else_=_text("隐患逾期未整改："),
    )
    note = case(
        (
            and_(major, ~overdue.c.supervised),
            _text(f"建议提请{settings.supervising_office}挂牌督办，落实整改责任、措施、资金、时限和预案。"),
        ),
        else_=_text("请督促整改责任人限期整改，必要时依法处理。"),
    )
    already = exists().where(
        Task.kind == "overdue_hazard", Task.target_id == overdue.c.id, Task.period_key == period_key
    )
    due = period_of("daily", now + timedelta(days=OVERDUE_FOLLOW_UP_DAYS)).due
    rows = (
        select(
            func.gen_random_uuid(),
            _text("overdue_hazard"),
            func.left(heading + overdue.c.what + _text("，整改期限 ") + _local_date(overdue.c.deadline), 200),
            officers.c.user_id,
            _text("hazard"),
            overdue.c.id,
            overdue.c.enterprise_id,
            _aware(due),
            period_key,
            _text("open"),
            note,
            overdue.c.region_id,
            overdue.c.grid_id,
            _aware(now),
            _aware(now),
            literal(1),
        )
        .select_from(overdue)
        .join(officers, officers.c.hazard_id == overdue.c.id)
        .where(~already)
    )
    created = _insert_tasks(session, rows)
    _audit_created(session, clock, "overdue_hazard", created)
    overdue_count = session.scalar(select(func.count()).select_from(Hazard).where(overdue_expr(now)))
    unrouted = session.scalar(
        select(func.count()).select_from(overdue).where(~exists().where(officers.c.hazard_id == overdue.c.id))
    )
    return {
        "overdue": overdue_count,
        "tasks_created": len(created),
        "supervised": [str(i) for i in supervised],
        "without_desk_officer": unrouted,
    }


def system_principal(session: Session) -> Principal:
    """The schedule acting on its own (automatic 挂牌督办): a real, inactive account, so the hazard's ledger
    names who acted like for every other step."""
    root = session.execute(
        select(Region.id, Region.code, Region.path).where(Region.parent_id.is_(None)).order_by(Region.code).limit(1)
    ).one()
    session.execute(
        pg_insert(User)
        .values(
            id=uuid.uuid4(),
            username=SYSTEM_USERNAME,
            name=SYSTEM_NAME,
            password_hash="!",
            roles=["admin"],
            region_id=root.id,
            active=False,
        )
        .on_conflict_do_nothing(index_elements=["username"])
    )
    user = session.scalar(select(User).where(User.username == SYSTEM_USERNAME))
    return Principal(
        user_id=user.id,
        username=user.username,
        name=user.name,
        roles=frozenset(user.roles),
        region_id=root.id,
        region_code=root.code,
        region_path=root.path,
    )


def supervise_overdue_major(session: Session, clock: Clock, office: str) -> list[uuid.UUID]:
    """挂牌督办 every overdue, not yet supervised major hazard through the hazard state machine (event,
    version, audit, change feed as for a person). Few rows, so one transition each; a hazard someone
    changes meanwhile is left for the next run."""
    candidates = session.execute(
        select(Hazard.id, Hazard.version)
        .where(overdue_expr(clock.now()), Hazard.level == "major", Hazard.supervised.is_(False))
        .order_by(Hazard.deadline, Hazard.id)
    ).all()
    if not candidates:
        return []
    principal = system_principal(session)
    done = []
    for hazard_id, version in candidates:
        try:
            with session.begin_nested():
                transition_hazard(
                    session,
                    clock,
                    principal,
                    hazard_id,
                    {"action": "supervise", "office": office, "note": "逾期未整改，按规定自动挂牌督办"},
                    base_version=version,
                )
        except Conflict:
            continue
        done.append(hazard_id)
    return done


# --------------------------------------------------------------------------- rechecks


def create_recheck_tasks(session: Session, clock: Clock, settings: Settings) -> dict:
    """When a rectification deadline arrives (ordered or submitted), the officer who set it rechecks
    (复查), within ``recheck_within_days``; one task per hazard and deadline."""
    now = clock.now()
    setter = (
        select(HazardEvent.hazard_id, HazardEvent.actor_id)
        .where(HazardEvent.action.in_(("order", "reject")))
        .distinct(HazardEvent.hazard_id)
        .order_by(HazardEvent.hazard_id, HazardEvent.version.desc(), HazardEvent.id.desc())
        .subquery("setter")
    )
    due_hazards = (
        select(
            Hazard.id,
            Hazard.region_id,
            Hazard.grid_id,
            Hazard.enterprise_id,
            Hazard.deadline,
            func.coalesce(Enterprise.name, func.left(Hazard.description, 40)).label("what"),
        )
        .outerjoin(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .where(Hazard.status.in_(("ordered", "submitted")), Hazard.deadline <= now)
        .subquery("due_hazards")
    )
    due = due_hazards.c.deadline + timedelta(days=settings.recheck_within_days)
    rows = (
        select(
            func.gen_random_uuid(),
            _text("recheck"),
            func.left(
                _text("复查：")
                + due_hazards.c.what
                + _text("（整改期限 ")
                + _local_date(due_hazards.c.deadline)
                + _text("）"),
                200,
            ),
            setter.c.actor_id,
            _text("hazard"),
            due_hazards.c.id,
            due_hazards.c.enterprise_id,
            due,
            _deadline_key(due_hazards.c.deadline),
            _text("open"),
            _text(""),
            due_hazards.c.region_id,
            due_hazards.c.grid_id,
            _aware(now),
            _aware(now),
            literal(1),
        )
        .select_from(due_hazards)
        .join(setter, setter.c.hazard_id == due_hazards.c.id)
        .join(User, and_(User.id == setter.c.actor_id, User.active.is_(True)))
    )
    created = _insert_tasks(session, rows)
    _audit_created(session, clock, "recheck", created)
    return {"tasks_created": len(created)}


# --------------------------------------------------------------------------- patrols and self-inspections


def create_patrol_tasks(session: Session, clock: Clock, settings: Settings) -> dict:
    """One patrol task per enterprise and period of its risk colour's cadence (红 weekly, 橙 every two
    weeks, 黄 monthly, 蓝 quarterly by default), for the grid's longest-serving current worker; none while
    an earlier patrol task of that enterprise is still open with that worker."""
    now = clock.now()
    chosen = [
        (risk, period_of(cadence, now)) for risk, cadence in settings.patrol_frequencies.items() if cadence != "off"
    ]
    if not chosen:
        return {"tasks_created": 0, "periods": {}}
    period = values(
        column("risk", String),
        column("period_key", String),
        column("due", DateTime(timezone=True)),
        column("label", String),
        name="period",
    ).data([(risk, p.key, p.due, LABELS[p.cadence]) for risk, p in chosen])
    worker = (
        select(GridAssignment.grid_id, GridAssignment.user_id)
        .join(User, User.id == GridAssignment.user_id)
        .where(GridAssignment.ended_at.is_(None), User.active.is_(True), _has_role("grid_worker"))
        .distinct(GridAssignment.grid_id)
        .order_by(GridAssignment.grid_id, GridAssignment.assigned_at, GridAssignment.user_id)
        .subquery("worker")
    )
    still_open = exists().where(
        Task.kind == "patrol",
        Task.target_id == Enterprise.id,
        Task.assignee_id == worker.c.user_id,
        Task.status.in_(OPEN_TASK_STATUSES),
    )
    rows = (
        select(
            func.gen_random_uuid(),
            _text("patrol"),
            func.left(_text("巡查（") + period.c.label + _text("）：") + Enterprise.name, 200),
            worker.c.user_id,
            _text("enterprise"),
            Enterprise.id,
            Enterprise.id,
            period.c.due,
            period.c.period_key,
            _text("open"),
            _text(""),
            Enterprise.region_id,
            Enterprise.grid_id,
            _aware(now),
            _aware(now),
            literal(1),
        )
        .select_from(Enterprise)
        .join(period, period.c.risk == Enterprise.risk)
        .join(worker, worker.c.grid_id == Enterprise.grid_id)
        .where(~still_open)
    )
    created = _insert_tasks(session, rows)
    periods = {risk: p.key for risk, p in chosen}
    _audit_created(session, clock, "patrol", created, periods=periods)
    return {"tasks_created": len(created), "periods": periods}


def create_self_inspection_tasks(session: Session, clock: Clock, settings: Settings) -> dict:
    """“日周月”隐患排查 reminders for every active enterprise safety officer: each cadence's period is its
    own duty, so an unfinished one does not hold the next back."""
    now = clock.now()
    chosen = [period_of(cadence, now) for cadence in settings.self_inspection_cadences]
    if not chosen:
        return {"tasks_created": 0, "periods": {}}
    period = values(
        column("period_key", String), column("due", DateTime(timezone=True)), column("title", String), name="period"
    ).data([(p.key, p.due, f"{SELF_INSPECTION_TITLES[p.cadence]}（{p.key}）：") for p in chosen])
    rows = (
        select(
            func.gen_random_uuid(),
            _text("self_inspection"),
            func.left(period.c.title + Enterprise.name, 200),
            User.id,
            _text("enterprise"),
            Enterprise.id,
            Enterprise.id,
            period.c.due,
            period.c.period_key,
            _text("open"),
            _text(""),
            Enterprise.region_id,
            Enterprise.grid_id,
            _aware(now),
            _aware(now),
            literal(1),
        )
        .select_from(User)
        .join(Enterprise, Enterprise.id == User.enterprise_id)
        .join(period, true())
        .where(User.active.is_(True), _has_role("enterprise_officer"))
    )
    created = _insert_tasks(session, rows)
    periods = {p.cadence: p.key for p in chosen}
    _audit_created(session, clock, "self_inspection", created, periods=periods)
    return {"tasks_created": len(created), "periods": periods}
