"""Tasks (任务) assigned to a user: accept, complete (naming the record that did the work), decline."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.principal import Principal
from audit.service import record as audit
from core.clock import Clock
from core.errors import Conflict, FieldError, UnknownRecord, UnknownReference, ValidationFailed
from core.times import shown
from inspections.models import Hazard, Inspection, Patrol, Task
from inspections.hazards import hazard_filter
from inspections.service import inspection_filter, patrol_filter

TASK_TRANSITIONS = {
    "accept": (("open",), "accepted"),
    "complete": (("open", "accepted"), "done"),
    "decline": (("open", "accepted"), "declined"),
}


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


def transition_task(
    session: Session,
    clock: Clock,
    principal: Principal,
    task_id: uuid.UUID,
    data: dict,
    *,
    base_version: int | None = None,
) -> Task:
    task = session.scalar(
        select(Task).where(Task.id == task_id, Task.assignee_id == principal.user_id).with_for_update()
    )
    if task is None:  # not here yet, or someone else's: one answer
        raise UnknownRecord(f"任务 {task_id} 不存在", errors=[FieldError("sync.unknown_reference", "id", "任务不存在")])
    sources, target = TASK_TRANSITIONS[data["action"]]
    if (base_version is not None and base_version != task.version) or task.status not in sources:
        raise TaskConflict(f"任务状态为 {task.status}，不能执行 {data['action']}", current=task_view(task))
    if data["action"] == "decline" and not (data.get("note") or "").strip():
        raise ValidationFailed(errors=[FieldError("validation", "note", "拒绝任务须说明原因")])
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
    audit(session, clock, principal, data["action"], "task", task.id, {"status": task.status})
    return task
