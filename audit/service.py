"""Appending to the audit log; every write in every domain package calls ``record``."""
from __future__ import annotations

from sqlalchemy.orm import Session

from audit.models import AuditEntry
from core.clock import Clock


def record(session: Session, clock: Clock, actor, action: str, entity: str, entity_id, summary: dict | None = None) -> None:
    """``actor`` is a Principal (or None for the system)."""
    session.add(AuditEntry(
        at=clock.now(),
        actor_id=getattr(actor, "user_id", None),
        device_id=getattr(actor, "device_id", None),
        action=action,
        entity=entity,
        entity_id=str(entity_id) if entity_id is not None else None,
        summary=summary or {},
    ))
