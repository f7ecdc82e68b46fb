"""行政处罚 cases and their ledger (``case_events``), beside inspections and hazards."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ARRAY, BigInteger, CheckConstraint, ForeignKey, Identity, Index, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

PROCEDURES = ("simple", "general")
CASE_STATUSES = ("filed", "investigating", "notified", "decided", "executed", "closed")


class Case(Base):
    """一个行政处罚案件: 简易程序 (decided on site) or 一般程序 (立案 … 结案), moved by transitions only."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("procedure IN ('simple','general')", name="procedure_known"),
        CheckConstraint(
            "status IN ('filed','investigating','notified','decided','executed','closed')", name="status_known"
        ),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        # The ledger asks which case a hazard led to (hazard_ids @> ARRAY[id]).
        Index("ix_cases_hazard_ids", "hazard_ids", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # 案件编号: the number of its 立案审批表 (简易程序: of its decision), set when that document is issued.
    number: Mapped[str | None] = mapped_column(String(100))
    procedure: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), index=True)
    inspection_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), server_default="{}")
    hazard_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), server_default="{}")
    # 违法事实, 违反的规定, 处罚依据, 处罚内容.
    facts: Mapped[str] = mapped_column(Text)
    violated: Mapped[str] = mapped_column(Text)
    penalty_basis: Mapped[str] = mapped_column(Text)
    penalty: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), server_default="0")
    # Deadlines of the law, computed from the clock at each step (cases/service.py, DEADLINES).
    deadlines: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    hearing_requested: Mapped[bool] = mapped_column(server_default=text("false"))
    opened_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    opened_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    officer_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"), index=True)
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(server_default=text("1"))


class CaseEvent(Base):
    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, server_default="")
    data: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
