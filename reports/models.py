"""Monthly figures (月度统计) frozen per region once a month is over: one row per (region, month)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Float, ForeignKey, Numeric, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class MonthlyFigures(Base):
    """月排名、月通报 as published: what happened in a region's area in a month. Counts of things done
    (inspections, hazards found, patrol visits) are by when they were done; states (overdue, open,
    supervised) are as the hazard ledger stood at ``as_of``, the month's end. See reports/figures.py."""

    __tablename__ = "monthly_figures"

    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day of the month
    as_of: Mapped[datetime]
    computed_at: Mapped[datetime]
    inspections: Mapped[int]
    inspections_by_kind: Mapped[dict] = mapped_column(JSONB)
    hazards_found: Mapped[int]
    hazards_found_major: Mapped[int]
    # Hazards found in the month by who found them (inspection, patrol, grid_report, self, public).
    hazards_found_by_source: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # Of the hazards found in the month, how many were closed (销号) by ``as_of``; rate = closed / found.
    hazards_closed: Mapped[int]
    closure_rate: Mapped[float | None] = mapped_column(Float)
    hazards_closed_in_month: Mapped[int]
    overdue: Mapped[int]
    major_open: Mapped[int]
    major_supervised: Mapped[int]
    enterprises: Mapped[int]
    enterprises_patrolled: Mapped[int]
    patrol_coverage: Mapped[float | None] = mapped_column(Float)
    # 行政处罚 decided in the month and their fines (months frozen before cases existed: 0).
    penalty_cases: Mapped[int] = mapped_column(server_default="0")
    penalty_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), server_default="0")
    # Among the regions with the same parent (the towns of a district): 1 is best.
    rank: Mapped[int]
    rank_of: Mapped[int]
    # The inspecting office sitting at this region node: what its inspectors did, wherever they went.
    office: Mapped[dict] = mapped_column(JSONB)
