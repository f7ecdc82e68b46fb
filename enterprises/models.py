"""The enterprise record. Its village and grid follow from its location (PostGIS)."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, created_at_column, uuid_pk

INDUSTRIES = ("fireworks", "hazardous_chemicals", "construction", "special_equipment", "gas")
RISK_COLOURS = ("red", "orange", "yellow", "blue")


class Enterprise(Base):
    __tablename__ = "enterprises"
    __table_args__ = (
        CheckConstraint(
            "industry IN ('fireworks','hazardous_chemicals','construction','special_equipment','gas')",
            name="industry_known",
        ),
        CheckConstraint("risk IN ('red','orange','yellow','blue')", name="risk_known"),
        CheckConstraint("uscc ~ '^[0-9A-HJ-NP-RTUWXY]{18}$'", name="uscc_format"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    # 统一社会信用代码 (GB 32100), check digit verified by the service before insert.
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    industry: Mapped[str] = mapped_column(String(32), index=True)
    subtype: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(Text, server_default="")
    risk: Mapped[str] = mapped_column(String(8))
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    licences: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    # 法定代表人（负责人）, named on every enforcement document.
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    # The village the point falls in, and the grid: both derived from location by PostGIS.
    region_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"), index=True)
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
