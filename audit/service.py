"""Appending to the audit log; every write in every domain package calls ``record`` (or, for a batch
of writes, ``record_many`` with ``entry`` for each: one statement for all of them)."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from core.clock import Clock


def entry(clock: Clock, actor, action: str, entity: str, entity_id, summary: dict | None = None) -> dict:
    """The values of one audit row. ``actor`` is a Principal (or None for the system)."""
    return {
        "at": clock.now(),
        "actor_id": getattr(actor, "user_id", None),
        "device_id": getattr(actor, "device_id", None),
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id) if entity_id is not None else None,
        "summary": summary or {},
    }


def record(
    session: Session, clock: Clock, actor, action: str, entity: str, entity_id, summary: dict | None = None
) -> None:
    """``actor`` is a Principal (or None for the system)."""
    session.add(AuditEntry(**entry(clock, actor, action, entity, entity_id, summary)))


def record_many(session: Session, entries: list[dict]) -> None:
    """Rows made by ``entry``, in one multi-row statement."""
    if entries:
        session.execute(insert(AuditEntry), entries)
