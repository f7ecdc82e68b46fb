"""The audit trail (操作记录) of one record: its ``audit_log`` rows, oldest first, with who acted (name,
roles) and from which device, summaries exactly as recorded.

Only admins and desk officers read it, and only for a record they can see: each kind of record is
named here with the scope rule its own package reads it by (``AUDITED``), so a trail is as visible as
its record — a 404 otherwise, as for the record itself. This package sits above all of those it names;
``audit`` below them only appends.

Kinds left out on purpose: rows about no single record (``entity_id`` empty: boundary imports, the
schedule's batches of tasks, orphan photo sweeps), rosters (a file's hash), monthly figures (a
month), photos (whose visibility is the evidence registry's) and devices (an id the phone chose)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import Select, exists, literal, select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.principal import Principal
from audit.models import AuditEntry
from cases.models import Case
from cases.service import case_filter
from core.errors import Forbidden, NotFound
from db.pagination import Page, paginate
from documents.models import Document
from documents.service import document_filter
from enterprises.models import Enterprise
from geo.models import Grid, Region
from inspections.hazards import hazard_filter
from inspections.models import Hazard, Inspection, Patrol, Plan, RandomDraw, Task
from inspections.plans import draw_filter, plan_filter
from inspections.service import inspection_filter, patrol_filter
from inspections.tasks import task_filter
from personnel.admin import manageable
from public_reports.models import PublicReport
from public_reports.service import report_filter

# entity (as ``audit_log.entity`` names it) → the ids of such records a caller may see.
AUDITED: dict[str, Callable[[Principal], Select]] = {
    "hazard": lambda p: select(Hazard.id).where(hazard_filter(p)),
    "inspection": lambda p: select(Inspection.id).where(inspection_filter(p)),
    "patrol": lambda p: select(Patrol.id).where(patrol_filter(p)),
    "plan": lambda p: select(Plan.id).where(plan_filter(p)),
    "random_draw": lambda p: select(RandomDraw.id).where(draw_filter(p)),
    "task": lambda p: select(Task.id).where(task_filter(p)),
    "enterprise": lambda p: select(Enterprise.id).where(p.enterprise_filter(Enterprise)),
    "grid": lambda p: select(Grid.id).where(p.grid_filter(Grid)),
    "user": lambda p: select(User.id).join(Region, Region.id == User.region_id).where(manageable(p)),
    "case": lambda p: select(Case.id).where(case_filter(p)),
    "document": lambda p: select(Document.id).where(document_filter(p)),
    "public_report": lambda p: select(PublicReport.id).where(report_filter(p)),
}
ENTITY_NAMES = {
    "hazard": "隐患",
    "inspection": "检查记录",
    "patrol": "巡查记录",
    "plan": "检查计划",
    "random_draw": "双随机抽取",
    "task": "任务",
    "enterprise": "企业",
    "grid": "网格",
    "user": "人员",
    "case": "案件",
    "document": "执法文书",
    "public_report": "群众举报",
}


def list_trail(
    session: Session, principal: Principal, *, entity: str, entity_id: uuid.UUID, page: int = 1, per_page: int = 50
) -> Page:
    """The audit rows of one record the caller can see, oldest first, paged."""
    if not principal.has("admin", "desk_officer"):
        raise Forbidden("只有管理员或内勤人员可以查看操作记录", code="audit.role_not_allowed")
    visible = AUDITED[entity](principal).subquery()
    if not session.scalar(select(exists().where(visible.c.id == entity_id))):
        raise NotFound(f"{ENTITY_NAMES[entity]}不存在")
    stmt = (
        select(
            AuditEntry,
            User.name.label("actor_name"),
            User.username.label("actor_username"),
            User.roles.label("actor_roles"),
        )
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.entity == literal(entity), AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    result = paginate(session, stmt, page=page, per_page=per_page, scalars=False)
    result.items = [_entry(row) for row in result.items]
    return result


def _entry(row) -> dict:
    entry = row.AuditEntry
    actor = None
    if entry.actor_id is not None:
        actor = {
            "id": entry.actor_id,
            "name": row.actor_name,
            "username": row.actor_username,
            "roles": sorted(row.actor_roles or []),
        }
    return {
        "id": entry.id,
        "at": entry.at,
        "action": entry.action,
        "actor": actor,
        "device_id": entry.device_id,
        "summary": entry.summary,
    }
