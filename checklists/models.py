"""Published checklist template versions. A row never changes content: its hash is stored and a
file that no longer matches it is refused; only ``status`` moves (published → withdrawn)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base


class ChecklistTemplate(Base):
    __tablename__ = "checklist_templates"
    __table_args__ = (CheckConstraint("status IN ('published','withdrawn')", name="status_known"),)

    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    industry: Mapped[str] = mapped_column(String(32), index=True)
    subtypes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict] = mapped_column(JSONB)
    content_hash: Mapped[str] = mapped_column(String(64))
    item_count: Mapped[int]
    major_count: Mapped[int]
    published_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
