"""Tasks (任务) assigned to a user: accept, complete (naming the record that did the work), decline; the
desk's side of them — the scoped list, creating one by hand, withdrawing one (撤销, ``cancel``).

Who sees a task (:func:`task_filter`): its assignee; admins; a desk officer when the task's place — the
village of the enterprise, hazard or report it is about (``tasks.region_id``), or for a task with no
place the assignee's region — lies in their region subtree. The place of the work decides, not who does
it: a town's desk officer follows the work in the town even when a district inspector does it.

``cancelled`` is its own status, not a ``declined``: declining is the assignee's refusal with their
reason, withdrawing is the office's decision, and the record must say which. Phones list only open and
accepted tasks, so a withdrawn one leaves their list at the next pull; a phone's queued action on it
meets a conflict carrying the cancelled task (SYNC_PROTOCOL.md §2 lists no task statuses to break)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, asc, desc, or_, select, true
from sqlalchemy.orm import Session, aliased

from accounts.models import User
from accounts.principal import Principal, principal_for
from audit.service import record as audit
from core.clock import Clock
from core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    UnknownRecord,
    UnknownReference,
    ValidationFailed,
)
from core.times import shown
from db.pagination import Page, paginate
from enterprises.models import Enterprise
from geo.models import Region
from inspections.models import Hazard, Inspection, Patrol, Task
from inspections.hazards import hazard_filter
from inspections.service import inspection_filter, patrol_filter

TASK_TRANSITIONS = {
    "accept": (("open",), "accepted"),
    "complete": (("open", "accepted"), "done"),
    "decline": (("open", "accepted"), "declined"),
    "cancel": (("open", "accepted"), "cancelled"),
}
# What the assignee does (also by sync push); what the desk does (REST only).
ASSIGNEE_ACTIONS = ("accept", "complete", "decline")
DESK_ACTIONS = ("cancel",)
OPEN_STATUSES = ("open", "accepted")
# Tasks a desk officer creates by hand, with the role the assignee must hold and what the task is about.
CREATABLE = {
    "patrol": ("grid_worker", "enterprise"),
    "self_inspection": ("enterprise_officer", "enterprise"),
    "recheck": ("inspector", "hazard"),
}
KIND_NAMES = {"patrol": "巡查", "self_inspection": "企业自查", "recheck": "复查"}
ROLE_NAMES = {"grid_worker": "网格员", "enterprise_officer": "企业安全员", "inspector": "执法人员"}


class TaskConflict(Conflict):
    code = "task.invalid_transition"
    title = "任务当前状态不允许此操作"


def task_view(task: Task) -> dict:
    return {
        "id": str(task.id),
        "kind": task.kind,
        "title": task.title,
        "due": shown(task.due),
        "status": task.status,
        "target": {"entity": task.target_entity, "id": str(task.target_id)},
        "enterprise_id": str(task.enterprise_id) if task.enterprise_id else None,
        "assignee_id": str(task.assignee_id),
        "note": task.note,
        "result": {"entity": task.result_entity, "id": str(task.result_id)} if task.result_id else None,
        "version": task.version,
    }


def _check_result(session: Session, principal: Principal, result: dict) -> None:
    """The record a task names as its result, like any record a change names: not on the server yet →
    retryable (it may come in a later batch); on the server but not the caller's to see → not found."""
    model, visible = {
        "inspection": (Inspection, inspection_filter),
        "patrol": (Patrol, patrol_filter),
        "hazard": (Hazard, hazard_filter),
    }[result["entity"]]
    if session.scalar(select(model.id).where(model.id == result["id"], visible(principal))) is not None:
        return
    if session.get(model, result["id"]) is None:
        raise UnknownReference(
            f"任务结果记录 {result['id']} 尚未到达服务器",
            errors=[FieldError("sync.unknown_reference", "result.id", "结果记录不存在（尚未同步）")],
        )
    raise ValidationFailed(errors=[FieldError("not_found", "result.id", "结果记录不存在或不在您的范围内")])


STATUS_NAMES = {"open": "待办", "accepted": "已接受", "done": "已完成", "declined": "已拒绝", "cancelled": "已撤销"}
ACTION_NAMES = {"accept": "接受", "complete": "完成", "decline": "拒绝", "cancel": "撤销"}


class NotAssignee(Forbidden):
    code = "task.not_assignee"
    title = "只有任务的执行人可以接受、完成或拒绝任务"


def task_filter(principal: Principal, task=Task) -> ColumnElement[bool]:
    """THE rule of who sees a task (module docstring): its assignee, admins, and desk officers whose
    subtree holds the task's place (its village, else the assignee's region)."""
    if principal.is_admin:
        return true()
    mine = task.assignee_id == principal.user_id
    if not principal.has("desk_officer"):
        return mine
    # Sets the planner hashes once (the subtree's regions, the people placed in it) rather than a lookup
    # per task: 100k tasks are read in one pass.
    subtree = select(Region.id).where(Region.path.descendant_of(principal.region_path))
    people = select(User.id).where(User.region_id.in_(subtree))
    return or_(mine, task.region_id.in_(subtree), and_(task.region_id.is_(None), task.assignee_id.in_(people)))


def transition_task(
    session: Session,
    clock: Clock,
    principal: Principal,
    task_id: uuid.UUID,
    data: dict,
    *,
    base_version: int | None = None,
) -> Task:
    """One step of a task: the assignee's accept / complete / decline (REST and sync push), or a desk
    officer's (or admin's) cancel of a task they see. Each keeps its reason in ``note`` and is audited."""
    action = data["action"]
    if action in DESK_ACTIONS:
        if not principal.has("desk_officer", "admin"):
            raise Forbidden("只有内勤或管理员可以撤销任务", code="task.role_not_allowed")
        mine = task_filter(principal)
    else:
        mine = Task.assignee_id == principal.user_id
    task = session.scalar(select(Task).where(Task.id == task_id, mine).with_for_update())
    if task is None:
        if action not in DESK_ACTIONS and session.scalar(
            select(Task.id).where(Task.id == task_id, task_filter(principal))
        ):
            raise NotAssignee()
        # Not here yet, or not the caller's to see: one answer.
        raise UnknownRecord(f"任务 {task_id} 不存在", errors=[FieldError("sync.unknown_reference", "id", "任务不存在")])
    sources, target = TASK_TRANSITIONS[action]
    if (base_version is not None and base_version != task.version) or task.status not in sources:
        raise TaskConflict(
            f"任务状态为「{STATUS_NAMES.get(task.status, task.status)}」，不能{ACTION_NAMES[action]}",
            current=task_view(task),
        )
    if action in ("decline", "cancel") and not (data.get("note") or "").strip():
        reason = "拒绝任务须说明原因" if action == "decline" else "撤销任务须说明原因"
        raise ValidationFailed(errors=[FieldError("validation", "note", reason)])
    result = data.get("result") or {}
    if result:
        _check_result(session, principal, result)
    task.status = target
    task.note = data.get("note") or task.note
    if result:
        task.result_entity, task.result_id = result["entity"], result["id"]
    task.version += 1
    task.updated_at = clock.now()
    session.flush()
    audit(session, clock, principal, action, "task", task.id, {"status": task.status})
    return task


# --------------------------------------------------------------------------- the desk's reads


def overdue_task(now: datetime, task=Task) -> ColumnElement[bool]:
    """Past its due time and still to do (open or accepted)."""
    return and_(task.status.in_(OPEN_STATUSES), task.due < now)


SORTS = {"due": Task.due, "created_at": Task.created_at, "updated_at": Task.updated_at}


def _select(now: datetime):
    """A task's row with the names beside its ids (what ``_row`` reads); scope and filters come apart."""
    assignee = aliased(User)
    return (
        select(
            Task,
            assignee.name.label("assignee_name"),
            Enterprise.name.label("enterprise_name"),
            Region.code.label("region_code"),
            Region.name.label("region_name"),
            overdue_task(now).label("overdue"),
        )
        .join(assignee, assignee.id == Task.assignee_id)
        .outerjoin(Enterprise, Enterprise.id == Task.enterprise_id)
        .outerjoin(Region, Region.id == Task.region_id)
    )


def _row(row) -> dict:
    task = row.Task
    return {
        "id": task.id,
        "kind": task.kind,
        "title": task.title,
        "status": task.status,
        "due": task.due,
        "overdue": bool(row.overdue),
        "target": {"entity": task.target_entity, "id": task.target_id},
        "enterprise_id": task.enterprise_id,
        "enterprise_name": row.enterprise_name,
        "assignee_id": task.assignee_id,
        "assignee_name": row.assignee_name,
        "region_code": row.region_code,
        "region_name": row.region_name,
        "grid_id": task.grid_id,
        "note": task.note,
        "result": {"entity": task.result_entity, "id": task.result_id} if task.result_id else None,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "version": task.version,
    }


def list_tasks(session: Session, clock: Clock, principal: Principal, filters: dict) -> Page:
    """任务列表 in the caller's view (:func:`task_filter`), filtered and paged in SQL. The page is chosen
    on the tasks alone (narrow rows to count and sort), and only its rows get their names joined."""
    now = clock.now()
    chosen = select(Task.id).where(task_filter(principal))
    if filters.get("status"):
        chosen = chosen.where(Task.status.in_(filters["status"]))
    if filters.get("kind"):
        chosen = chosen.where(Task.kind.in_(filters["kind"]))
    for key, column in (
        ("assignee_id", Task.assignee_id),
        ("grid_id", Task.grid_id),
        ("enterprise_id", Task.enterprise_id),
    ):
        if filters.get(key):
            chosen = chosen.where(column == filters[key])
    if filters.get("region"):
        area = select(Region.path).where(Region.code == filters["region"]).scalar_subquery()
        chosen = chosen.where(Task.region_id.in_(select(Region.id).where(Region.path.descendant_of(area))))
    if filters.get("due_from"):
        chosen = chosen.where(Task.due >= filters["due_from"])
    if filters.get("due_to"):
        chosen = chosen.where(Task.due < filters["due_to"])
    if filters.get("overdue") is not None:
        chosen = chosen.where(overdue_task(now) if filters["overdue"] else ~overdue_task(now))
    sort = filters.get("sort") or "due"
    column = SORTS[sort.lstrip("-")]
    order = (desc(column) if sort.startswith("-") else asc(column), Task.id)
    page = paginate(session, chosen.order_by(*order), page=filters.get("page", 1), per_page=filters.get("per_page", 50))
    rows = session.execute(_select(now).where(Task.id.in_(page.items)).order_by(*order)) if page.items else []
    page.items = [_row(row) for row in rows]
    return page


def get_task(session: Session, clock: Clock, principal: Principal, task_id: uuid.UUID) -> dict:
    row = session.execute(_select(clock.now()).where(Task.id == task_id, task_filter(principal))).one_or_none()
    if row is None:
        raise NotFound("任务不存在")
    return _row(row)


# --------------------------------------------------------------------------- the desk assigns


def _assignee(
    session: Session, principal: Principal, assignee_id: uuid.UUID, role: str, errors: list
) -> tuple[User, Principal] | None:
    """The person a desk officer gives a task to — active, in their region subtree, holding ``role`` — and
    that person's own scope, as their token would stand for it (the task's target must lie in it)."""
    row = session.execute(
        select(User, Region.code, Region.path)
        .join(Region, Region.id == User.region_id)
        .where(User.id == assignee_id, principal.region_filter(Region.path))
    ).one_or_none()
    field = "assignee_id"
    if row is None:
        errors.append(FieldError("scope.not_visible", field, "人员不存在或不在您的辖区内"))
        return None
    user = row.User
    if not user.active:
        errors.append(FieldError("task.assignee_inactive", field, f"{user.name} 的账号已停用"))
        return None
    if role not in user.roles:
        errors.append(FieldError("task.assignee_role", field, f"此类任务须派给{ROLE_NAMES[role]}，{user.name} 不是"))
        return None
    return user, principal_for(user, row.code, row.path, None)


def _target(session: Session, principal: Principal, kind: str, data: dict, errors: list):
    """(entity, id, enterprise, region_id, grid_id) of what the task is about, seen by the desk officer."""
    entity = CREATABLE[kind][1]
    if entity == "enterprise":
        if not data.get("enterprise_id"):
            errors.append(FieldError("validation", "enterprise_id", f"{KIND_NAMES[kind]}任务须指定企业"))
            return None
        enterprise = session.scalar(
            select(Enterprise).where(Enterprise.id == data["enterprise_id"], principal.enterprise_filter(Enterprise))
        )
        if enterprise is None:
            errors.append(FieldError("scope.not_visible", "enterprise_id", "企业不存在或不在您的辖区内"))
            return None
        return "enterprise", enterprise.id, enterprise.id, enterprise.region_id, enterprise.grid_id
    if not data.get("hazard_id"):
        errors.append(FieldError("validation", "hazard_id", "复查任务须指定隐患"))
        return None
    hazard = session.scalar(select(Hazard).where(Hazard.id == data["hazard_id"], hazard_filter(principal)))
    if hazard is None:
        errors.append(FieldError("scope.not_visible", "hazard_id", "隐患不存在或不在您的辖区内"))
        return None
    if hazard.status not in ("ordered", "submitted"):
        errors.append(FieldError("task.hazard_state", "hazard_id", "只能为整改中或待复查的隐患安排复查"))
        return None
    return "hazard", hazard.id, hazard.enterprise_id, hazard.region_id, hazard.grid_id


def _seen_by(session: Session, scope: Principal, entity: str, target_id: uuid.UUID) -> bool:
    if entity == "enterprise":
        stmt = select(Enterprise.id).where(Enterprise.id == target_id, scope.enterprise_filter(Enterprise))
    else:
        stmt = select(Hazard.id).where(Hazard.id == target_id, hazard_filter(scope))
    return session.scalar(stmt) is not None


def create_task(session: Session, clock: Clock, principal: Principal, data: dict) -> dict:
    """派发任务: a desk officer (or admin) gives a patrol, a self-inspection or a recheck to a person of a
    role fit for it, about an enterprise (or, for a recheck, a hazard) in both their scopes, due later.
    Every refusal names its field; the assignee's phone gets the task at its next pull."""
    if not principal.has("desk_officer", "admin"):
        raise Forbidden("只有内勤或管理员可以派发任务", code="task.role_not_allowed")
    now = clock.now()
    kind = data["kind"]
    errors: list[FieldError] = []
    if not data["title"].strip():
        errors.append(FieldError("validation", "title", "任务名称不能为空"))
    if data["due"] <= now:
        errors.append(FieldError("validation", "due", "截止时间须晚于当前时间"))
    chosen = _assignee(session, principal, data["assignee_id"], CREATABLE[kind][0], errors)
    target = _target(session, principal, kind, data, errors)
    assignee, scope = chosen or (None, None)
    if assignee is not None and target is not None and not _seen_by(session, scope, target[0], target[1]):
        reason = {
            "grid_worker": f"{assignee.name}负责的网格内没有这家企业",
            "enterprise_officer": f"{assignee.name}不是这家企业的安全员",
            "inspector": f"这处隐患不在{assignee.name}的辖区内",
        }[CREATABLE[kind][0]]
        errors.append(FieldError("task.target_outside_assignee", "assignee_id", reason))
    if errors:
        raise ValidationFailed(errors=errors)
    entity, target_id, enterprise_id, region_id, grid_id = target
    task_id = uuid.uuid4()
    task = Task(
        id=task_id,
        kind=kind,
        title=data["title"].strip(),
        assignee_id=assignee.id,
        target_entity=entity,
        target_id=target_id,
        enterprise_id=enterprise_id,
        due=data["due"],
        # A task given by hand is a period of its own: it never collides with the schedule's keys.
        period_key=f"manual:{task_id.hex[:25]}",
        status="open",
        note=data.get("note") or "",
        region_id=region_id,
        grid_id=grid_id,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(task)
    session.flush()
    audit(
        session,
        clock,
        principal,
        "create",
        "task",
        task.id,
        {
            "kind": kind,
            "assignee": str(assignee.id),
            "target": {"entity": entity, "id": str(target_id)},
            "due": shown(task.due),
        },
    )
    return get_task(session, clock, principal, task.id)
