"""Public reports (12350 举报), spent challenges, and the server's own secrets."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from geoalchemy2 import Geometry
from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base

REPORT_STATUSES = ("received", "duplicate", "not_safety", "to_verify", "verified", "unfounded")


class PublicReport(Base):
    """A report from anyone (群众举报). The reporter's name, phone and address are seen by the desk
    officers of its region (and admin) only; the public sees status and outcome by ``code``."""

    __tablename__ = "public_reports"
    __table_args__ = (
        CheckConstraint(
            "status IN ('received','duplicate','not_safety','to_verify','verified','unfounded')", name="status_known"
        ),
        CheckConstraint("reward_amount IS NULL OR status = 'verified'", name="reward_only_verified"),
        Index("ix_public_reports_address_created", "client_address", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    what: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200), server_default="")
    location = mapped_column(Geometry("POINT", srid=4326), nullable=False)
    location_given: Mapped[dict] = mapped_column(JSONB)
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"), index=True)
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))
    photos: Mapped[list[str]] = mapped_column(ARRAY(Text))
    reporter_name: Mapped[str | None] = mapped_column(String(50))
    reporter_phone: Mapped[str | None] = mapped_column(String(20))
    client_address: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), server_default="received")
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("public_reports.id"))
    desk_note: Mapped[str] = mapped_column(Text, server_default="")
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tasks.id"))
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprises.id"))
    hazard_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hazards.id"))
    case_ref: Mapped[str | None] = mapped_column(String(64))
    # What the reporter is told (shown by tracking code): the desk writes it for the public.
    outcome: Mapped[str] = mapped_column(Text, server_default="")
    reward_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    reward_paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(server_default=text("1"))


class SpentChallenge(Base):
    """A proof-of-work challenge already used for a report: each is good for one report."""

    __tablename__ = "public_spent_challenges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ServerSecret(Base):
    """Secrets the server makes for itself at migration (e.g. the key signing challenges), so every
    worker and host agrees on them with nothing to configure."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
