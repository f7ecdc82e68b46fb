"""Inspection plans and 双随机 draws.

Secrecy of unannounced plans (四不两直): such a plan exists only for the inspectors on it and the
officer who made it — for everyone else, admins included, it is 404 — until an inspection under it
has been recorded on site for every enterprise it names (:func:`plan_filter`, the one rule every read
of plans uses; docs/loop-rules.md)."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import ColumnElement, Text, and_, cast, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.people import certified_inspector
from accounts.principal import Principal
from audit.service import record as audit
from core.clock import Clock
from core.errors import FieldError, Forbidden, NotFound, ValidationFailed
from core.serialize import jsonable
from db.pagination import Page, paginate
from enterprises.models import Enterprise
from geo.models import GridAssignment, Region
from inspections.draw import compute_draw
from core.periods import local_date
from inspections.models import Hazard, Inspection, Plan, RandomDraw


def carried_out(plan=Plan) -> ColumnElement[bool]:
    """Every enterprise the plan names has an inspection recorded under THIS plan. Inspections under
    other plans (or none) say nothing: an earlier visit must not reveal a later unannounced plan."""
    eid = func.unnest(plan.enterprise_ids).column_valued("eid")
    # Correlated to the plan explicitly: left to auto-correlation, the innermost EXISTS would bring
    # its own ``plans`` into FROM and match an inspection under any plan at all.
    under_this_plan = (
        exists().where(Inspection.plan_id == plan.id, Inspection.enterprise_id == eid).correlate_except(Inspection)
    )
    return not_(exists(select(eid).where(~under_this_plan)))


def on_team(principal: Principal, plan=Plan) -> ColumnElement[bool]:
    """The plan's author and the inspectors on it: they see it from the start, whatever its kind."""
    return or_(plan.created_by == principal.user_id, plan.inspector_ids.any(principal.user_id))


def plan_filter(principal: Principal, plan=Plan) -> ColumnElement[bool]:
    """THE secrecy rule (四不两直), for every read of plans: the team and the author see a plan;
    anyone else with an enterprise of the plan in scope sees it when it is announced, or, when it is
    unannounced, once it has been :func:`carried_out`."""
    enterprise = Enterprise.__table__.alias("plan_enterprise")
    in_scope = exists().where(
        enterprise.c.id == func.any(plan.enterprise_ids), principal.enterprise_filter(enterprise.c)
    )
    open_to_others = or_(plan.kind != "unannounced", carried_out(plan))
    return or_(on_team(principal, plan), and_(in_scope, open_to_others))


def plan_dict(plan: Plan) -> dict:
    return {
        "id": plan.id,
        "kind": plan.kind,
        "title": plan.title,
        "window": {"start": plan.window_start.isoformat(), "end": plan.window_end.isoformat()},
        "enterprise_ids": plan.enterprise_ids,
        "inspectors": plan.inspector_ids,
        "draw_id": plan.draw_id,
        "notes": plan.notes,
        "created_by": plan.created_by,
        "created_at": plan.created_at,
        "version": plan.version,
    }


def _certified_inspectors(
    session: Session, clock: Clock, principal: Principal, ids: list[uuid.UUID], field: str
) -> None:
    found = set(
        session.scalars(
            select(User.id)
            .join(Region, Region.id == User.region_id)
            .where(User.id.in_(ids), certified_inspector(local_date(clock.now())), principal.region_filter(Region.path))
        )
    )
    errors = [
        FieldError("plan.not_an_inspector", f"{field}.{n}", "不是本辖区持执法证的执法人员")
        for n, i in enumerate(ids)
        if i not in found
    ]
    if len(set(ids)) != len(ids):
        errors.append(FieldError("validation", field, "执法人员重复"))
    if errors:
        raise ValidationFailed(errors=errors)


def _visible_enterprises(session: Session, principal: Principal, ids: list[uuid.UUID], field: str) -> None:
    found = set(
        session.scalars(select(Enterprise.id).where(Enterprise.id.in_(ids), principal.enterprise_filter(Enterprise)))
    )
    errors = [
        FieldError("not_found", f"{field}.{n}", "企业不存在或不在辖区内") for n, i in enumerate(ids) if i not in found
    ]
    if errors:
        raise ValidationFailed(errors=errors)


def create_plan(session: Session, clock: Clock, principal: Principal, data: dict) -> Plan:
    if not principal.has("desk_officer", "inspector", "admin"):
        raise Forbidden("只有内勤或执法人员可以制定检查计划")
    if data["kind"] == "random":
        raise ValidationFailed(
            errors=[
                FieldError(
                    "plan.random_needs_draw", "kind", "双随机检查计划只能由双随机抽取产生（POST /plans/random-draw）"
                )
            ]
        )
    _visible_enterprises(session, principal, data["enterprise_ids"], "enterprise_ids")
    _certified_inspectors(session, clock, principal, data["inspector_ids"], "inspector_ids")
    plan = Plan(
        id=uuid.uuid4(),
        kind=data["kind"],
        title=data["title"],
        window_start=data["window_start"],
        window_end=data["window_end"],
        enterprise_ids=list(data["enterprise_ids"]),
        inspector_ids=list(data["inspector_ids"]),
        notes=data.get("notes", ""),
        region_id=principal.region_id,
        created_by=principal.user_id,
        created_at=clock.now(),
    )
    session.add(plan)
    session.flush()
    # The audit entry of an unannounced plan names no enterprise: the log is read more widely.
    audit(
        session,
        clock,
        principal,
        "create",
        "plan",
        plan.id,
        {"kind": plan.kind}
        if plan.kind == "unannounced"
        else {"kind": plan.kind, "enterprises": len(plan.enterprise_ids)},
    )
    return plan


def get_plan(session: Session, principal: Principal, plan_id: uuid.UUID) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.id == plan_id, plan_filter(principal)))
    if plan is None:
        raise NotFound("检查计划不存在")
    return plan


def list_plans(session: Session, principal: Principal, *, kind=None, enterprise_id=None, page=1, per_page=50) -> Page:
    stmt = select(Plan).where(plan_filter(principal))
    if kind:
        stmt = stmt.where(Plan.kind == kind)
    if enterprise_id:
        stmt = stmt.where(Plan.enterprise_ids.any(enterprise_id))
    return paginate(session, stmt.order_by(Plan.window_start.desc(), Plan.id), page=page, per_page=per_page)


# --------------------------------------------------------------------------- 双随机


def _enterprise_pool(session: Session, principal: Principal, data: dict) -> list[dict]:
    stmt = (
        select(Enterprise.id, Enterprise.grid_id, func.ltree2text(Region.path).label("region_path"))
        .join(Region, Region.id == Enterprise.region_id)
        .where(principal.enterprise_filter(Enterprise))
    )
    if data.get("region"):
        stmt = stmt.where(
            Region.path.descendant_of(select(Region.path).where(Region.code == data["region"]).scalar_subquery())
        )
    if data.get("industry"):
        stmt = stmt.where(Enterprise.industry == data["industry"])
    if data.get("risk"):
        stmt = stmt.where(Enterprise.risk.in_(data["risk"]))
    return [
        {"id": str(r.id), "grid_id": str(r.grid_id) if r.grid_id else None, "region_path": r.region_path}
        for r in session.execute(stmt)
    ]


def _inspector_pool(session: Session, clock: Clock, principal: Principal) -> list[dict]:
    grids = func.array(
        select(cast(GridAssignment.grid_id, Text))
        .where(GridAssignment.user_id == User.id, GridAssignment.ended_at.is_(None))
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            User.id,
            User.enforcement_cert_no,
            Region.level,
            func.ltree2text(Region.path).label("path"),
            grids.label("grid_ids"),
        )
        .join(Region, Region.id == User.region_id)
        .where(certified_inspector(local_date(clock.now())), principal.region_filter(Region.path))
    )
    return [
        {
            "id": str(r.id),
            "cert_no": r.enforcement_cert_no,
            "region_level": r.level,
            "region_path": r.path,
            "grid_ids": list(r.grid_ids or []),
        }
        for r in rows
    ]


def random_draw(session: Session, clock: Clock, principal: Principal, data: dict) -> RandomDraw:
    """Draw enterprises and teams, record seed and pools, and create one ``random`` plan per enterprise."""
    if not principal.has("desk_officer", "admin"):
        raise Forbidden("只有内勤人员可以组织双随机抽查")
    seed = data.get("seed") or secrets.token_hex(16)
    enterprise_pool = _enterprise_pool(session, principal, data)
    inspector_pool = _inspector_pool(session, clock, principal)
    if not enterprise_pool:
        raise ValidationFailed("筛选条件下没有可抽取的企业", code="plan.empty_pool")
    result = compute_draw(seed, enterprise_pool, inspector_pool, data["count"], data["team_size"])
    filters = {k: data.get(k) for k in ("region", "industry", "risk")}
    draw = RandomDraw(
        id=uuid.uuid4(),
        seed=seed,
        filters=filters,
        count=data["count"],
        team_size=data["team_size"],
        enterprise_pool=enterprise_pool,
        inspector_pool=inspector_pool,
        result=result,
        window_start=data["window_start"],
        window_end=data["window_end"],
        region_id=principal.region_id,
        created_by=principal.user_id,
        created_at=clock.now(),
    )
    session.add(draw)
    session.flush()
    title = data.get("title") or f"双随机抽查 {data['window_start'].isoformat()}"
    for entry in result:
        session.add(
            Plan(
                id=uuid.uuid4(),
                kind="random",
                title=title,
                window_start=data["window_start"],
                window_end=data["window_end"],
                enterprise_ids=[uuid.UUID(entry["enterprise_id"])],
                inspector_ids=[uuid.UUID(i) for i in entry["inspector_ids"]],
                draw_id=draw.id,
                region_id=principal.region_id,
                created_by=principal.user_id,
                created_at=clock.now(),
            )
        )
    session.flush()
    audit(session, clock, principal, "draw", "random_draw", draw.id, {"seed": seed, "drawn": len(result)})
    return draw


# How anyone recomputes a draw from its publication (一公开).
RECOMPUTE = (
    "Python 3：from inspections.draw import compute_draw；"
    "compute_draw(seed, enterprise_pool, inspector_pool, count, team_size) == 抽取结果。"
    "方法：两个名单按 id 排序，以 random.Random(seed) 先抽取 count 家企业，"
    "再依次为每家企业从不需回避（本人网格、所在乡镇/村）的执法人员中抽取 team_size 名。"
)


def draw_filter(principal: Principal, draw=RandomDraw) -> ColumnElement[bool]:
    """Draws a caller sees as an organiser: their own, and those of regions in their subtree."""
    region = Region.__table__.alias("draw_region")
    in_region = exists().where(region.c.id == draw.region_id, principal.region_filter(region.c.path))
    return or_(draw.created_by == principal.user_id, in_region)


def get_draw(session: Session, principal: Principal, draw_id: uuid.UUID) -> dict:
    """The draw as its organisers see it: the inspector pool with the 执法证号, and the publication."""
    draw = session.scalar(select(RandomDraw).where(RandomDraw.id == draw_id, draw_filter(principal)))
    if draw is None:
        raise NotFound("抽查记录不存在")
    return _draw_dict(session, draw) | {"inspector_pool": draw.inspector_pool}


def public_draw(session: Session, draw_id: uuid.UUID) -> dict:
    """The public view of a draw (双随机一公开), for anyone without a login: who was drawn, which team,
    when, the seed, the pools as far as the draw reads them and how to recompute it — no personal
    data of the pool (no 执法证号)."""
    draw = session.get(RandomDraw, draw_id)
    if draw is None:
        raise NotFound("抽查记录不存在")
    # compute_draw reads only these keys of an inspector: the recomputation needs nothing else.
    keys = ("id", "region_level", "region_path", "grid_ids")
    return _draw_dict(session, draw) | {
        "inspector_pool": [{k: i.get(k) for k in keys} for i in draw.inspector_pool],
        "recompute": RECOMPUTE,
    }


def list_public_draws(session: Session, *, page: int = 1, per_page: int = 50) -> Page:
    """Every draw, newest first, in brief (the publication of each: :func:`public_draw`)."""
    result = paginate(
        session, select(RandomDraw).order_by(RandomDraw.created_at.desc(), RandomDraw.id), page=page, per_page=per_page
    )
    result.items = [_draw_summary(draw) for draw in result.items]
    return result


def _draw_summary(draw: RandomDraw) -> dict:
    return {
        "id": draw.id,
        "seed": draw.seed,
        "filters": draw.filters,
        "count": draw.count,
        "team_size": draw.team_size,
        "window": {"start": draw.window_start.isoformat(), "end": draw.window_end.isoformat()},
        "created_at": draw.created_at,
    }


def _draw_dict(session: Session, draw: RandomDraw) -> dict:
    """What every full view of a draw shows: the seed, the enterprise pool, the result and the
    publication — who inspects whom, and what the inspections found — with times in RFC 3339."""
    plans = session.execute(select(Plan.id, Plan.enterprise_ids).where(Plan.draw_id == draw.id)).all()
    plan_of = {str(eids[0]): pid for pid, eids in plans}
    names = dict(
        session.execute(
            select(Enterprise.id, Enterprise.name)
            .where(Enterprise.id.in_([uuid.UUID(e["enterprise_id"]) for e in draw.result]))
            .order_by(Enterprise.id)
        ).all()
    )
    people = dict(
        session.execute(
            select(User.id, User.name).where(
                User.id.in_({uuid.UUID(i) for e in draw.result for i in e["inspector_ids"]})
            )
        ).all()
    )
    outcomes = {}
    # Whether what each inspection found was rectified (销号): counts only, no one named.
    rectified = (
        select(
            Hazard.inspection_id,
            func.count().label("found"),
            func.count().filter(Hazard.status == "closed").label("closed"),
        )
        .group_by(Hazard.inspection_id)
        .subquery()
    )
    for row in session.execute(
        select(
            Inspection.plan_id,
            Inspection.id,
            Inspection.finished_at,
            Inspection.summary,
            func.coalesce(rectified.c.found, 0).label("found"),
            func.coalesce(rectified.c.closed, 0).label("closed"),
        )
        .outerjoin(rectified, rectified.c.inspection_id == Inspection.id)
        .where(Inspection.plan_id.in_(plan_of.values()))
    ):
        outcomes[row.plan_id] = {
            "inspection_id": str(row.id),
            "finished_at": row.finished_at,
            "failed": row.summary.get("failed"),
            "major_failed": row.summary.get("major_failed"),
            "hazards_found": row.found,
            "hazards_rectified": row.closed,
            "rectified": row.found == row.closed,
        }
    publication = [
        {
            "enterprise_id": e["enterprise_id"],
            "enterprise_name": names.get(uuid.UUID(e["enterprise_id"])),
            "inspectors": [people.get(uuid.UUID(i)) for i in e["inspector_ids"]],
            "plan_id": str(plan_of.get(e["enterprise_id"])),
            "result": outcomes.get(plan_of.get(e["enterprise_id"])),
        }
        for e in draw.result
    ]
    return _draw_summary(draw) | {
        "enterprise_pool": draw.enterprise_pool,
        "result": draw.result,
        "plans": [pid for pid, _ in plans],
        "publication": jsonable(publication),
    }
