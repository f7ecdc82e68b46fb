"""行政处罚 cases: one state machine (``TRANSITIONS``), deadlines of the law computed from the clock.

- 简易程序 (《行政处罚法》第五十一条): a warning, or a fine of at most 3,000 yuan for an enterprise,
  decided on site — the case is recorded already ``decided``.
- 一般程序: 立案 (``filed``) → 调查取证 (``investigating``) → 告知 (``notified``: 陈述申辩, and 听证 when
  offered) → 决定 (``decided``) → 执行 (``executed``) → 结案 (``closed``).

Deadlines (Asia/Shanghai days, from the injected clock): the decision within 90 days of 立案 (第六十条);
陈述申辩 within 3 days of the notice and a hearing asked for within 5 days (第六十四条) — no decision before
they run out unless the party waived them; the fine paid within 15 days of the decision (第六十七条).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.people import certified_inspector, people_refs
from accounts.principal import Principal
from audit.service import record
from cases.models import Case, CaseEvent
from core.clock import SHANGHAI, Clock
from core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from core.serialize import jsonable
from db.pagination import Page, paginate
from enterprises.models import Enterprise
from inspections.hazards import hazard_filter
from inspections.models import Hazard, Inspection
from inspections.service import inspection_filter
from core.periods import local_date

OFFICERS = ("inspector", "desk_officer", "admin")
SIMPLE_MAX_AMOUNT = Decimal("3000")  # 对法人或者其他组织处以三千元以下罚款
DECISION_DAYS, STATEMENT_DAYS, HEARING_DAYS, PAYMENT_DAYS = 90, 3, 5, 15


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    target: str


TRANSITIONS = {
    "investigate": Rule(("filed",), "investigating"),
    "notify": Rule(("investigating",), "notified"),
    "decide": Rule(("notified",), "decided"),
    "execute": Rule(("decided",), "executed"),
    "close": Rule(("executed",), "closed"),
}


class InvalidCaseTransition(Conflict):
    code = "case.invalid_transition"
    title = "案件状态不允许此操作"


class StaleCase(Conflict):
    code = "case.stale_version"
    title = "案件已被他人修改"


class NoticePeriodRunning(Conflict):
    code = "case.notice_period_running"
    title = "陈述申辩或听证申请期限未满，不能作出决定"


def case_filter(principal: Principal, case=Case):
    return principal.area_filter(region_id=case.region_id, grid_id=case.grid_id, enterprise_id=case.enterprise_id)


def penalty_case_of(principal: Principal):
    """The 行政处罚 case a hazard led to (the latest opened naming it, within the caller's scope) as JSON:
    id, number, status, procedure, amount — or null. A column of the hazard ledger (LEDGER_COLUMNS below)."""
    return (
        select(
            func.jsonb_build_object(
                literal("id"),
                Case.id,
                literal("number"),
                Case.number,
                literal("status"),
                Case.status,
                literal("procedure"),
                Case.procedure,
                literal("amount"),
                cast(Case.amount, String),
            )
        )
        .where(Case.hazard_ids.any(Hazard.id), case_filter(principal))
        .order_by(Case.opened_at.desc(), Case.id)
        .limit(1)
        .correlate(Hazard)
        .scalar_subquery()
    )


# Cases sit above inspections: create_app hands the ledger this column (inspections imports nothing of cases).
LEDGER_COLUMNS = {"penalty_case": penalty_case_of}


def amount_text(amount: Decimal) -> str:
    return f"{amount:,.2f} 元"


def _day_end(at: datetime, days: int) -> str:
    """The last moment of the day ``days`` Shanghai days after ``at``'s (deadlines run to the day's end)."""
    day = local_date(at) + timedelta(days=days)
    return (datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(days=1, microseconds=-1)).isoformat()


def _check_officers(session: Session, clock: Clock, officer_ids: list[uuid.UUID], errors: list[FieldError]) -> None:
    """执法人员不得少于两人 (第四十二条), each with a valid 执法证 today."""
    certified = set(
        session.scalars(select(User.id).where(User.id.in_(officer_ids), certified_inspector(local_date(clock.now()))))
    )
    if len(set(officer_ids)) < 2:
        errors.append(FieldError("case.two_officers", "officers", "执法人员不得少于两人"))
    for n, officer in enumerate(officer_ids):
        if officer not in certified:
            errors.append(FieldError("case.officer_not_certified", f"officers.{n}", "须为持有效执法证的执法人员"))


def _check_links(
    session: Session, principal: Principal, enterprise_id: uuid.UUID, data: dict, errors: list[FieldError]
) -> None:
    for field, model, visible in (
        ("inspection_ids", Inspection, inspection_filter(principal)),
        ("hazard_ids", Hazard, hazard_filter(principal)),
    ):
        wanted = data.get(field) or []
        found = set(
            session.scalars(select(model.id).where(model.id.in_(wanted), visible, model.enterprise_id == enterprise_id))
        )
        for n, record_id in enumerate(wanted):
            if record_id not in found:
                errors.append(FieldError("case.unknown_record", f"{field}.{n}", "记录不存在或不属于该企业"))


def open_case(session: Session, clock: Clock, principal: Principal, data: dict) -> Case:
    """立案 (一般程序) or record an on-site decision (简易程序). Its documents are issued by
    documents.service.open_case_with_documents, which calls this."""
    enterprise = session.scalar(
        select(Enterprise).where(Enterprise.id == data["enterprise_id"], principal.enterprise_filter(Enterprise))
    )
    errors: list[FieldError] = []
    if enterprise is None:
        errors.append(FieldError("case.unknown_enterprise", "enterprise_id", "企业不存在"))
    officers = list(data["officers"])
    _check_officers(session, clock, officers, errors)
    if enterprise is not None:
        _check_links(session, principal, enterprise.id, data, errors)
    simple = data["procedure"] == "simple"
    amount = Decimal(str(data.get("amount") or 0))
    if simple:
        for field in ("penalty_basis", "penalty"):
            if not data.get(field):
                errors.append(FieldError("validation", field, "简易程序当场作出决定，须写明处罚依据和处罚内容"))
        if amount > SIMPLE_MAX_AMOUNT:
            errors.append(
                FieldError(
                    "case.simple_amount_exceeded",
                    "amount",
                    "简易程序对单位的罚款不得超过 3000 元（《行政处罚法》第五十一条）",
                )
            )
    if errors:
        raise ValidationFailed(errors=errors)
    now = clock.now()
    deadlines = {"payment": _day_end(now, PAYMENT_DAYS)} if simple and amount else {}
    if not simple:
        deadlines["decision"] = _day_end(now, DECISION_DAYS)
    case = Case(
        id=data.get("id") or uuid.uuid4(),
        procedure=data["procedure"],
        status="decided" if simple else "filed",
        enterprise_id=enterprise.id,
        inspection_ids=data.get("inspection_ids") or [],
        hazard_ids=data.get("hazard_ids") or [],
        facts=data["facts"],
        violated=data["violated"],
        penalty_basis=data.get("penalty_basis") or "",
        penalty=data.get("penalty") or "",
        amount=amount,
        deadlines=deadlines,
        opened_at=now,
        decided_at=now if simple else None,
        opened_by=principal.user_id,
        officer_ids=officers,
        region_id=enterprise.region_id,
        grid_id=enterprise.grid_id,
    )
    session.add(case)
    session.flush()
    _event(session, case, "decide" if simple else "file", None, case.status, principal, now, "", {})
    record(
        session,
        clock,
        principal,
        "create",
        "case",
        case.id,
        {"procedure": case.procedure, "enterprise_id": str(enterprise.id), "amount": str(amount)},
    )
    return case


def _event(
    session: Session,
    case: Case,
    action: str,
    source: str | None,
    target: str,
    principal: Principal,
    at: datetime,
    note: str,
    data: dict,
) -> None:
    session.add(
        CaseEvent(
            case_id=case.id,
            action=action,
            from_status=source,
            to_status=target,
            version=case.version,
            actor_id=principal.user_id,
            at=at,
            note=note,
            data=data,
        )
    )


def transition_case(session: Session, clock: Clock, principal: Principal, case_id: uuid.UUID, data: dict) -> Case:
    """One step of a 一般程序 case (or 执行/结案 of a 简易程序 one): the single place a case's status changes.
    documents.service.transition_case_with_documents calls this and issues the step's documents (告知书 and
    听证告知书, 决定书, 结案审批表) in the same transaction."""
    if not principal.has(*OFFICERS):
        raise Forbidden("当前角色不能办理案件", code="case.role_not_allowed")
    case = session.scalar(select(Case).where(Case.id == case_id, case_filter(principal)).with_for_update())
    if case is None:
        raise NotFound("案件不存在")
    action = data["action"]
    rule = TRANSITIONS[action]
    if data["base_version"] != case.version:
        raise StaleCase(current=jsonable(case_view(session, clock, principal, case.id)))
    if case.status not in rule.sources:
        raise InvalidCaseTransition(
            f"案件状态为 {case.status}，不能执行 {action}",
            current=jsonable(case_view(session, clock, principal, case.id)),
        )
    now = clock.now()
    deadlines = dict(case.deadlines)
    event_data: dict = {}
    if action == "notify":
        deadlines["statement"] = _day_end(now, STATEMENT_DAYS)
        if data.get("hearing_offered"):
            deadlines["hearing_request"] = _day_end(now, HEARING_DAYS)
        _set_penalty(case, data)
        event_data = {"hearing_offered": bool(data.get("hearing_offered")), "amount": str(case.amount)}
    elif action == "decide":
        _check_decision(case, data, now, deadlines)
        _set_penalty(case, data)
        case.hearing_requested = bool(data.get("hearing_held"))
        case.decided_at = now
        if case.amount:
            deadlines["payment"] = _day_end(now, PAYMENT_DAYS)
        event_data = {
            "amount": str(case.amount),
            "waived": bool(data.get("waived")),
            "hearing_held": case.hearing_requested,
        }
    elif action == "close":
        case.closed_at = now
    if action == "decide" and not (case.penalty_basis and case.penalty):
        raise ValidationFailed(
            errors=[
                FieldError("validation", f, "作出决定须写明处罚依据和处罚内容")
                for f in ("penalty_basis", "penalty")
                if not getattr(case, f)
            ]
        )
    source = case.status
    case.status = rule.target
    case.deadlines = deadlines
    case.version += 1
    session.flush()
    _event(session, case, action, source, case.status, principal, now, data.get("note") or "", event_data)
    record(session, clock, principal, action, "case", case.id, {"from": source, "to": case.status, **event_data})
    return case


def _set_penalty(case: Case, data: dict) -> None:
    """The proposed penalty (告知) or the decided one (决定), where the step names it."""
    for field in ("penalty_basis", "penalty", "amount"):
        if data.get(field) is not None:
            setattr(case, field, Decimal(str(data[field])) if field == "amount" else data[field])


def _check_decision(case: Case, data: dict, now: datetime, deadlines: dict) -> None:
    """No decision while the party may still state their case or ask for a hearing, unless they waived it."""
    running = [
        k for k in ("statement", "hearing_request") if k in deadlines and datetime.fromisoformat(deadlines[k]) >= now
    ]
    if running and not data.get("waived"):
        raise NoticePeriodRunning(f"{'、'.join(running)} 期限截至 {max(deadlines[k] for k in running)}")


def _case_dict(case: Case, enterprise_name: str | None, now: datetime) -> dict:
    overdue = [
        k
        for k in ("decision", "payment")
        if k in case.deadlines
        and datetime.fromisoformat(case.deadlines[k]) < now
        and (
            k == "decision"
            and case.status in ("filed", "investigating", "notified")
            or k == "payment"
            and case.status == "decided"
        )
    ]
    return {
        c: getattr(case, c)
        for c in (
            "id",
            "number",
            "procedure",
            "status",
            "enterprise_id",
            "inspection_ids",
            "hazard_ids",
            "facts",
            "violated",
            "penalty_basis",
            "penalty",
            "amount",
            "deadlines",
            "hearing_requested",
            "opened_at",
            "decided_at",
            "closed_at",
            "opened_by",
            "officer_ids",
            "version",
        )
    } | {"enterprise_name": enterprise_name, "overdue": overdue}


def case_view(session: Session, clock: Clock, principal: Principal, case_id: uuid.UUID) -> dict:
    row = session.execute(
        select(Case, Enterprise.name)
        .join(Enterprise, Enterprise.id == Case.enterprise_id)
        .where(Case.id == case_id, case_filter(principal))
    ).one_or_none()
    if row is None:
        raise NotFound("案件不存在")
    out = _case_dict(row[0], row[1], clock.now())
    out["events"] = [
        {
            "action": e.action,
            "from": e.from_status,
            "to": e.to_status,
            "version": e.version,
            "actor_id": e.actor_id,
            "at": e.at,
            "note": e.note,
            "data": e.data,
        }
        for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
    ]
    out["people"] = people_refs(
        session, [*row[0].officer_ids, row[0].opened_by, *(e["actor_id"] for e in out["events"])]
    )
    return out


def list_cases(
    session: Session,
    clock: Clock,
    principal: Principal,
    *,
    status: str | None = None,
    enterprise_id: uuid.UUID | None = None,
    hazard_id: uuid.UUID | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    stmt = (
        select(Case, Enterprise.name)
        .join(Enterprise, Enterprise.id == Case.enterprise_id)
        .where(case_filter(principal))
    )
    if status:
        stmt = stmt.where(Case.status == status)
    if enterprise_id:
        stmt = stmt.where(Case.enterprise_id == enterprise_id)
    if hazard_id:
        stmt = stmt.where(Case.hazard_ids.any(hazard_id))
    result = paginate(
        session, stmt.order_by(Case.opened_at.desc(), Case.id), page=page, per_page=per_page, scalars=False
    )
    now = clock.now()
    result.items = [_case_dict(row[0], row[1], now) for row in result.items]
    return result
