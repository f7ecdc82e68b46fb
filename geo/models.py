"""Regions (行政区划) with their ltree path, grids (网格) and grid-worker assignments."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, Ltree, created_at_column, uuid_pk

REGION_LEVELS = ("district", "town", "village")


class Region(Base):
    """区县 → 乡镇/街道 → 村/社区, keyed by the 12-digit statistical division code."""

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{12}$'", name="code_12_digits"),
        CheckConstraint("level IN ('district','town','village')", name="level_known"),
        Index("ix_regions_path_gist", "path", postgresql_using="gist"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("regions.id"), index=True)
    # Path of division codes from the root, e.g. 500299000000.500299100000.500299100201.
    path: Mapped[str] = mapped_column(Ltree)
    geometry = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class Grid(Base):
    """A grid (网格): village-based, lying within one town. A retired grid (撤销, after a merge or a
    split) keeps its row for the records naming it, but covers nothing and has no workers."""

    __tablename__ = "grids"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(100))
    town_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), index=True)
    geometry = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    retired_at: Mapped[datetime | None]
    retired_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class GridVillage(Base):
    """The villages a grid was made from (one, several merged, or part of one split)."""

    __tablename__ = "grid_villages"

    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True)
    village_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("regions.id"), primary_key=True, index=True)


class GridAssignment(Base):
    """Who works which grid, and the history of it: an open row is a current assignment."""

    __tablename__ = "grid_assignments"
    __table_args__ = (
        Index("uq_grid_assignments_open", "grid_id", "user_id", unique=True, postgresql_where=text("ended_at IS NULL")),
        Index("ix_grid_assignments_user_open", "user_id", postgresql_where=text("ended_at IS NULL")),
        # A grid's assignment history, newest first; also serves the cascade when a grid is deleted.
        Index("ix_grid_assignments_grid_history", "grid_id", "assigned_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime]
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
